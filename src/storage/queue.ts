import type {
  MessageQueue,
  MessageQueueDepth,
  MessageQueueEnqueueOptions,
  MessageQueueListenOptions,
} from "@fedify/fedify";
import { getLogger } from "@logtape/logtape";
import { Nap } from "../shared/nap.ts";
import type { Database } from "./database.ts";
import { sql } from "./sql.ts";

const logger = getLogger(["lectern", "queue"]);

export interface DatabaseMessageQueueOptions {
  /** Messages handled at the same time by {@link SqliteMessageQueue.listen}. */
  concurrency?: number;
  /** How often an idle listener looks for messages enqueued by another process. */
  pollMs?: number;
  /**
   * How long a claimed message stays invisible to other workers; renewed while
   * its handler runs, so this is how soon a crashed worker's messages are taken up again.
   */
  leaseMs?: number;
  /** Tries for a message whose handler throws, before it is dropped. */
  maxHandlerAttempts?: number;
  /** Current time in milliseconds; replaceable for tests. */
  now?: () => number;
}

interface Row {
  id: number;
  payload: string;
  ordering_key: string | null;
  attempts: number;
}

const CHANNEL = "lectern_queue";

/**
 * Fedify's {@link MessageQueue} on Lectern's database (SQLite or
 * PostgreSQL): every message is a row, so queued and delayed work survives
 * restarts and crashes. A message is deleted only after its handler finished;
 * one whose worker died is taken up again when its lease (renewed while the
 * handler runs) runs out. Any process may enqueue and several may listen;
 * claims take turns (SQLite's write lock, a PostgreSQL advisory lock), so an
 * ordering key is never held by two workers. Listeners are woken by a
 * notification (every process on PostgreSQL) and otherwise poll.
 */
export class DatabaseMessageQueue implements MessageQueue {
  readonly nativeRetrial = false;
  readonly #db: Database;
  readonly #concurrency: number;
  readonly #pollMs: number;
  readonly #leaseMs: number;
  readonly #maxHandlerAttempts: number;
  readonly #now: () => number;

  constructor(db: Database, options: DatabaseMessageQueueOptions = {}) {
    this.#db = db;
    this.#concurrency = options.concurrency ?? 16;
    this.#pollMs = options.pollMs ?? 250;
    this.#leaseMs = options.leaseMs ?? 30_000;
    this.#maxHandlerAttempts = options.maxHandlerAttempts ?? 5;
    this.#now = options.now ?? Date.now;
  }

  enqueue(message: unknown, options?: MessageQueueEnqueueOptions): Promise<void> {
    return this.enqueueMany([message], options);
  }

  async enqueueMany(messages: readonly unknown[], options?: MessageQueueEnqueueOptions): Promise<void> {
    const now = this.#now();
    const delay = options?.delay == null ? 0 : Math.max(0, Math.round(options.delay.total("millisecond")));
    const key = options?.orderingKey ?? null;
    await this.#db.transaction(async (tx) => {
      for (const m of messages) {
        await tx.run(
          sql`INSERT INTO queue (payload, ordering_key, run_at, created_at)
              VALUES (${JSON.stringify(m)}, ${key}, ${now + delay}, ${now})`,
        );
      }
    });
    await this.#db.notify(CHANNEL);
  }

  async getDepth(): Promise<MessageQueueDepth> {
    const row = await this.#db.get<{ queued: number; ready: number }>(
      sql`SELECT count(*) AS queued, coalesce(sum(CASE WHEN run_at <= ${this.#now()} THEN 1 ELSE 0 END), 0) AS ready
          FROM queue WHERE locked_until IS NULL`,
    );
    const queued = Number(row?.queued ?? 0);
    const ready = Number(row?.ready ?? 0);
    return { queued, ready, delayed: queued - ready };
  }

  async #claim(limit: number, busyKeys: Set<string>): Promise<Row[]> {
    return await this.#db.transaction(async (tx) => {
      if (tx.dialect === "postgres") await tx.run(sql`SELECT pg_advisory_xact_lock(${7_372_002})`);
      const now = this.#now();
      const rows = await tx.all<Row>(
        sql`SELECT id, payload, ordering_key, attempts FROM queue
            WHERE run_at <= ${now} AND (locked_until IS NULL OR locked_until <= ${now})
              AND (ordering_key IS NULL OR ordering_key NOT IN
                   (SELECT ordering_key FROM queue WHERE ordering_key IS NOT NULL AND locked_until > ${now}))
            ORDER BY run_at, id LIMIT ${limit * 2}`,
      );
      const taken: Row[] = [];
      const keys = new Set(busyKeys);
      for (const row of rows) {
        if (taken.length >= limit) break;
        if (row.ordering_key !== null) {
          if (keys.has(row.ordering_key)) continue;
          keys.add(row.ordering_key);
        }
        taken.push(row);
      }
      if (taken.length > 0) {
        await tx.run(
          sql`UPDATE queue SET locked_until = ${now + this.#leaseMs} WHERE id IN (${sql.join(taken.map((r) => r.id))})`,
        );
      }
      return taken;
    });
  }

  async listen(
    handler: (message: unknown) => Promise<void> | void,
    options: MessageQueueListenOptions = {},
  ): Promise<void> {
    const { signal } = options;
    const db = this.#db;
    const inFlight = new Set<Promise<void>>();
    const heldIds = new Set<number>();
    // Renew the leases of running handlers; a dead process stops renewing and its messages come free.
    const heartbeat = setInterval(
      () => {
        if (heldIds.size === 0) return;
        const until = this.#now() + this.#leaseMs;
        db.run(
          sql`UPDATE queue SET locked_until = ${until} WHERE id IN (${sql.join([...heldIds])}) AND locked_until IS NOT NULL`,
        ).catch(() => {});
      },
      Math.max(10, Math.floor(this.#leaseMs / 4)),
    );
    heartbeat.unref();
    const busyKeys = new Set<string>();
    const nap = new Nap();
    const waker = () => nap.wake();
    const unlisten = await db.listen(CHANNEL, waker);
    signal?.addEventListener("abort", waker);
    const run = async (row: Row) => {
      heldIds.add(row.id);
      try {
        await handler(JSON.parse(row.payload));
        await db.run(sql`DELETE FROM queue WHERE id = ${row.id}`);
      } catch (error) {
        const attempts = Number(row.attempts);
        if (attempts + 1 >= this.#maxHandlerAttempts) {
          logger.error("Dropping queue message {id} after {attempts} failed attempts: {error}", {
            id: row.id,
            attempts: attempts + 1,
            error,
          });
          await db.run(sql`DELETE FROM queue WHERE id = ${row.id}`).catch(() => {});
        } else {
          const delay = 1000 * 2 ** attempts;
          logger.warning("Queue message {id} failed; retrying in {delay} ms: {error}", { id: row.id, delay, error });
          await db
            .run(
              sql`UPDATE queue SET locked_until = NULL, attempts = attempts + 1, run_at = ${this.#now() + delay}
                  WHERE id = ${row.id}`,
            )
            .catch(() => {});
        }
      } finally {
        heldIds.delete(row.id);
      }
    };

    let failures = 0;
    try {
      while (!signal?.aborted) {
        let timeout = this.#pollMs;
        try {
          const free = this.#concurrency - inFlight.size;
          const rows = free > 0 ? await this.#claim(free, busyKeys) : [];
          failures = 0;
          for (const row of rows) {
            const key = row.ordering_key;
            if (key !== null) busyKeys.add(key);
            const p = run(row).finally(() => {
              inFlight.delete(p);
              if (key !== null) busyKeys.delete(key);
              nap.wake();
            });
            inFlight.add(p);
          }
          if (rows.length > 0 && inFlight.size < this.#concurrency) continue;
          // Sleep until a slot frees, something is enqueued, the next delayed
          // message is due, or the poll interval passes (another process may enqueue).
          if (inFlight.size < this.#concurrency) {
            // A due message that could not be claimed waits on its ordering key: a
            // finishing handler wakes us, so only a future run_at shortens the sleep.
            const next = (
              await db.get<{ next: number | null }>(
                sql`SELECT min(run_at) AS next FROM queue WHERE locked_until IS NULL`,
              )
            )?.next;
            const now = this.#now();
            if (next != null && Number(next) > now) timeout = Math.min(timeout, Number(next) - now);
          }
        } catch (error) {
          // The database is away: wait longer each time (up to 10 s); nothing is lost.
          failures++;
          timeout = Math.min(10_000, this.#pollMs * 2 ** Math.min(failures, 6));
          if (failures === 1) logger.warning("Queue paused: {error}", { error: (error as Error).message });
        }
        await nap.sleep(timeout);
      }
    } finally {
      clearInterval(heartbeat);
      await unlisten().catch(() => {});
      signal?.removeEventListener("abort", waker);
      await Promise.allSettled([...inFlight]);
    }
  }
}
