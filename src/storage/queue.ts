import type {
  MessageQueue,
  MessageQueueDepth,
  MessageQueueEnqueueOptions,
  MessageQueueListenOptions,
} from "@fedify/fedify";
import { getLogger } from "@logtape/logtape";
import type { Db } from "./db.ts";

const logger = getLogger(["lectern", "queue"]);

export interface SqliteMessageQueueOptions {
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

/**
 * Fedify's {@link MessageQueue} on the SQLite database: every message is a row,
 * so queued and delayed deliveries survive restarts and crashes. A message is
 * deleted only after its handler finished; one whose worker died is taken up
 * again when its lease (renewed while the handler runs) runs out. Any process
 * may enqueue (the CLI does) and several may listen; a listener polls for rows
 * it was not told about.
 */
export class SqliteMessageQueue implements MessageQueue {
  readonly nativeRetrial = false;
  readonly #db: Db["$client"];
  readonly #concurrency: number;
  readonly #pollMs: number;
  readonly #leaseMs: number;
  readonly #maxHandlerAttempts: number;
  readonly #now: () => number;
  readonly #insert;
  readonly #wakers = new Set<() => void>();

  constructor(db: Db, options: SqliteMessageQueueOptions = {}) {
    this.#db = db.$client;
    this.#concurrency = options.concurrency ?? 16;
    this.#pollMs = options.pollMs ?? 250;
    this.#leaseMs = options.leaseMs ?? 30_000;
    this.#maxHandlerAttempts = options.maxHandlerAttempts ?? 5;
    this.#now = options.now ?? Date.now;
    this.#insert = this.#db.prepare<[string, string | null, number, number]>(
      "INSERT INTO queue (payload, ordering_key, run_at, created_at) VALUES (?, ?, ?, ?)",
    );
  }

  enqueue(message: unknown, options?: MessageQueueEnqueueOptions): Promise<void> {
    return this.enqueueMany([message], options);
  }

  enqueueMany(messages: readonly unknown[], options?: MessageQueueEnqueueOptions): Promise<void> {
    const now = this.#now();
    const delay = options?.delay == null ? 0 : Math.max(0, options.delay.total("millisecond"));
    const key = options?.orderingKey ?? null;
    const payloads = messages.map((m) => JSON.stringify(m));
    this.#db.transaction(() => {
      for (const payload of payloads) this.#insert.run(payload, key, now + delay, now);
    })();
    for (const wake of this.#wakers) wake();
    return Promise.resolve();
  }

  getDepth(): Promise<MessageQueueDepth> {
    const now = this.#now();
    const row = this.#db
      .prepare<[number], { queued: number; ready: number }>(
        "SELECT count(*) AS queued, coalesce(sum(run_at <= ?), 0) AS ready FROM queue WHERE locked_until IS NULL",
      )
      .get(now) as { queued: number; ready: number };
    return Promise.resolve({ queued: row.queued, ready: row.ready, delayed: row.queued - row.ready });
  }

  async listen(
    handler: (message: unknown) => Promise<void> | void,
    options: MessageQueueListenOptions = {},
  ): Promise<void> {
    const { signal } = options;
    const db = this.#db;
    const claimable = db.prepare<[number, number, number, number], Row>(
      `SELECT id, payload, ordering_key, attempts FROM queue
       WHERE run_at <= ? AND (locked_until IS NULL OR locked_until <= ?)
         AND (ordering_key IS NULL OR ordering_key NOT IN
              (SELECT ordering_key FROM queue WHERE ordering_key IS NOT NULL AND locked_until > ?))
       ORDER BY run_at, id LIMIT ?`,
    );
    const lock = db.prepare<[number, number]>("UPDATE queue SET locked_until = ? WHERE id = ?");
    const renew = db.prepare<[number, number]>(
      "UPDATE queue SET locked_until = ? WHERE id = ? AND locked_until IS NOT NULL",
    );
    const done = db.prepare<[number]>("DELETE FROM queue WHERE id = ?");
    const retry = db.prepare<[number, number]>(
      "UPDATE queue SET locked_until = NULL, attempts = attempts + 1, run_at = ? WHERE id = ?",
    );
    const nextRunAt = db.prepare<[], { next: number | null }>(
      "SELECT min(run_at) AS next FROM queue WHERE locked_until IS NULL",
    );
    const claim = db.transaction((limit: number, busyKeys: Set<string>): Row[] => {
      const now = this.#now();
      const rows = claimable.all(now, now, now, limit * 2);
      const taken: Row[] = [];
      const keys = new Set(busyKeys);
      for (const row of rows) {
        if (taken.length >= limit) break;
        if (row.ordering_key !== null) {
          if (keys.has(row.ordering_key)) continue;
          keys.add(row.ordering_key);
        }
        lock.run(now + this.#leaseMs, row.id);
        taken.push(row);
      }
      return taken;
    });

    const inFlight = new Set<Promise<void>>();
    const heldIds = new Set<number>();
    // Renew the leases of running handlers; a dead process stops renewing and its messages come free.
    const heartbeat = setInterval(
      () => {
        const until = this.#now() + this.#leaseMs;
        db.transaction(() => {
          for (const id of heldIds) renew.run(until, id);
        })();
      },
      Math.max(10, Math.floor(this.#leaseMs / 4)),
    );
    heartbeat.unref();
    const busyKeys = new Set<string>();
    let wake: () => void = () => {};
    const waker = () => wake();
    this.#wakers.add(waker);
    signal?.addEventListener("abort", waker);
    const run = async (row: Row) => {
      heldIds.add(row.id);
      try {
        await handler(JSON.parse(row.payload));
        done.run(row.id);
      } catch (error) {
        if (row.attempts + 1 >= this.#maxHandlerAttempts) {
          logger.error("Dropping queue message {id} after {attempts} failed attempts: {error}", {
            id: row.id,
            attempts: row.attempts + 1,
            error,
          });
          done.run(row.id);
        } else {
          const delay = 1000 * 2 ** row.attempts;
          logger.warn("Queue message {id} failed; retrying in {delay} ms: {error}", { id: row.id, delay, error });
          retry.run(this.#now() + delay, row.id);
        }
      } finally {
        heldIds.delete(row.id);
      }
    };

    try {
      while (!signal?.aborted) {
        const free = this.#concurrency - inFlight.size;
        const rows = free > 0 ? claim.immediate(free, busyKeys) : [];
        for (const row of rows) {
          const key = row.ordering_key;
          if (key !== null) busyKeys.add(key);
          const p = run(row).finally(() => {
            inFlight.delete(p);
            if (key !== null) busyKeys.delete(key);
            wake();
          });
          inFlight.add(p);
        }
        if (rows.length > 0 && inFlight.size < this.#concurrency) continue;
        // Sleep until a slot frees, something is enqueued here, the next delayed
        // message is due, or the poll interval passes (another process may enqueue).
        let timeout = this.#pollMs;
        if (inFlight.size < this.#concurrency) {
          // A due message that could not be claimed waits on its ordering key: a
          // finishing handler wakes us, so only a future run_at shortens the sleep.
          const next = nextRunAt.get()?.next;
          const now = this.#now();
          if (next != null && next > now) timeout = Math.min(timeout, next - now);
        }
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, timeout);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        wake = () => {};
      }
    } finally {
      clearInterval(heartbeat);
      this.#wakers.delete(waker);
      signal?.removeEventListener("abort", waker);
      await Promise.allSettled([...inFlight]);
    }
  }
}
