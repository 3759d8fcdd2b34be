import { getLogger } from "@logtape/logtape";
import type { Dispatcher } from "undici";
import type { AppData } from "../product/context.ts";
import type { Post } from "../product/post.ts";
import { postsQueuedBetween } from "../product/posts.ts";
import { instruments } from "../shared/metrics.ts";
import { Nap } from "../shared/nap.ts";
import { CHANNELS, type Queryable } from "../storage/database.ts";
import { sql } from "../storage/sql.ts";
import { queueReaderChunk, SETTLE_MS } from "./fanout.ts";
import { emailJob, type Job, pushJob, type ReaderRow } from "./jobs.ts";
import { type ReaderKeys, readerKeys } from "./keys.ts";
import { MailSender, type Outcome, PushSender, type PushTarget } from "./senders.ts";

const logger = getLogger(["lectern", "readers"]);

/**
 * Tries of one message before it is given up (the reader's next message carries on from there), spaced as
 * deliveries are (delivery.retry_initial_seconds, doubling up to delivery.retry_max_seconds).
 */
export const MAX_TRIES = 10;
/** Push messages in flight at once, and to one push service. */
const PUSH_CAPACITY = 128;
const PUSH_PER_HOST = 64;

export interface ReaderWorkerOptions {
  /** The partitions this process may send for (the delivery worker's leases). */
  partitions: () => number[];
  now?: () => number;
  /** Replaces the push HTTP client (tests). */
  pushDispatcher?: Dispatcher;
}

/**
 * Sends what is due to readers without an account, beside the delivery
 * worker and in its partitions: email through the SMTP pool, Web Push
 * through the push services. Like deliveries, nothing marks a row as being
 * sent (what is in flight is kept in memory); a row is done when its record
 * is written, so a crash sends again only what was in flight.
 */
export class ReaderWorker {
  readonly #data: AppData;
  readonly #options: ReaderWorkerOptions;
  readonly #now: () => number;
  readonly #nap = new Nap();
  readonly #held = new Set<string>();
  readonly #perHost = new Map<string, number>();
  readonly #perPartition = new Map<number, number>();
  readonly #inFlight = new Set<Promise<void>>();
  #mail: MailSender | null = null;
  #push: PushSender | null = null;
  #keys: ReaderKeys | null = null;
  #email = 0;
  #pushing = 0;
  #stopped = false;
  /** Messages ended so far (see #run). */
  #finished = 0;
  #loop: Promise<void> | undefined;
  #unlisten: (() => Promise<void>) | undefined;
  readonly #posts = new Map<string, Promise<Post[]>>();
  #postsCut = 0;
  readonly stats = { sent: 0, failed: 0, suppressed: 0 };
  readonly #writes: {
    write: (tx: Queryable) => Promise<unknown>;
    done: (v: unknown) => void;
    fail: (e: unknown) => void;
  }[] = [];
  #flushing: Promise<void> | null = null;
  #fanoutsOpen = true;
  #fanoutsLooked = 0;

  constructor(data: AppData, options: ReaderWorkerOptions) {
    this.#data = data;
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  /** Whether a partition has messages in flight here (it is not given up while it has). */
  busy(partition: number): boolean {
    return (this.#perPartition.get(partition) ?? 0) > 0;
  }

  async start(): Promise<void> {
    const { config } = this.#data;
    this.#keys = await readerKeys(this.#data);
    if (config.email) this.#mail = new MailSender(config.email);
    if (config.push.enabled)
      this.#push = new PushSender(this.#keys, {
        contact: config.push.contact,
        allowPrivateAddress: config.allowPrivateAddress,
        dispatcher: this.#options.pushDispatcher,
      });
    this.#unlisten = await this.#data.db.listen(CHANNELS.deliveries, () => this.#nap.wake());
    this.#loop = this.#run();
  }

  /** Stops taking messages and waits for those in flight. */
  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#unlisten?.().catch(() => {});
    this.#nap.wake();
    await this.#loop;
    await Promise.allSettled([...this.#inFlight]);
    this.#mail?.close();
    await this.#push?.close();
  }

  async #run(): Promise<void> {
    const { pollMs } = this.#data.config.delivery;
    let failures = 0;
    while (!this.#stopped) {
      let wait = Math.max(pollMs, 500);
      try {
        const now = this.#now();
        let queued = 0;
        // Fan-outs to queue are looked for at most every 100 ms while none is open (the loop turns at every
        // ended message: the look was a sixth of the email path's database time).
        if (this.#fanoutsOpen || now - this.#fanoutsLooked >= 100) {
          this.#fanoutsLooked = now;
          while (queued < 4 && (await queueReaderChunk(this.#data.db, now, this.#data.config.email?.batchMs ?? 0)))
            queued++;
          this.#fanoutsOpen = queued > 0;
        }
        const finished = this.#finished;
        const started = (await this.#claim("email")) + (await this.#claim("push"));
        failures = 0;
        // Messages that ended while the claims ran woke nobody (the loop was awake): their slots are free now.
        if (queued > 0 || started > 0 || this.#finished !== finished) wait = 0;
      } catch (error) {
        failures++;
        wait = Math.min(10_000, pollMs * 2 ** Math.min(failures, 6));
        if (failures === 1) logger.warning("Reader messages paused: {error}", { error: (error as Error).message });
      }
      if (wait > 0) await this.#nap.sleep(wait);
      else await new Promise((r) => setImmediate(r));
    }
  }

  async #claim(channel: "email" | "push"): Promise<number> {
    const email = channel === "email";
    const sender = email ? this.#mail : this.#push;
    if (sender === null) return 0;
    const capacity = email ? (this.#mail as MailSender).capacity : PUSH_CAPACITY;
    const free = capacity - (email ? this.#email : this.#pushing);
    const partitions = this.#options.partitions();
    // Claimed a quarter of the slots at a time: a claim per ended message read the held rows again each time
    // (the claim was the push path's largest cost after the encryption).
    if (free < Math.max(1, Math.floor(capacity / 4)) || partitions.length === 0) return 0;
    const held = [...this.#held].filter((k) => k.startsWith(channel)).map((k) => Number(k.slice(channel.length + 1)));
    const notHeld = held.length === 0 ? sql`` : sql`AND id NOT IN (${sql.join(held)})`;
    const now = this.#now();
    // Only the due index is read (due_at is set only for pending and confirmed readers): a status condition here
    // led SQLite to walk every confirmed reader on each claim.
    const rows = email
      ? await this.#data.db.all<Record<string, unknown>>(sql`SELECT id, partition, domain AS host, due_at, sent_through,
            attempts, address, status, cadence, nonce FROM email_subscribers
          WHERE due_at <= ${now} AND partition IN (${sql.join(partitions)}) ${notHeld}
          ORDER BY due_at, id LIMIT ${free * 2}`)
      : await this.#data.db.all<Record<string, unknown>>(sql`SELECT id, partition, host, due_at, sent_through, attempts,
            endpoint, p256dh, auth FROM push_subscriptions
          WHERE due_at <= ${now} AND partition IN (${sql.join(partitions)}) ${notHeld}
          ORDER BY due_at, id LIMIT ${free * 2}`);
    const perHost = email ? (this.#data.config.email?.perDomain ?? 10) : PUSH_PER_HOST;
    let started = 0;
    for (const r of rows) {
      if (started >= free) break;
      const row = toRow(r);
      if ((this.#perHost.get(`${channel}:${row.host}`) ?? 0) >= perHost) continue;
      this.#start(channel, row);
      started++;
    }
    return started;
  }

  #start(channel: "email" | "push", row: ReaderRow): void {
    const key = `${channel}:${row.id}`;
    const host = `${channel}:${row.host}`;
    this.#held.add(key);
    this.#perHost.set(host, (this.#perHost.get(host) ?? 0) + 1);
    this.#perPartition.set(row.partition, (this.#perPartition.get(row.partition) ?? 0) + 1);
    if (channel === "email") this.#email++;
    else this.#pushing++;
    const p = this.#send(channel, row)
      .catch((error) =>
        logger.warning("A reader message could not be recorded: {error}", { error: (error as Error).message }),
      )
      .finally(() => {
        this.#held.delete(key);
        const n = (this.#perHost.get(host) ?? 1) - 1;
        if (n > 0) this.#perHost.set(host, n);
        else this.#perHost.delete(host);
        const m = (this.#perPartition.get(row.partition) ?? 1) - 1;
        if (m > 0) this.#perPartition.set(row.partition, m);
        else this.#perPartition.delete(row.partition);
        if (channel === "email") this.#email--;
        else this.#pushing--;
        this.#inFlight.delete(p);
        this.#finished++;
        this.#nap.wake();
      });
    this.#inFlight.add(p);
  }

  /** Posts a reader's next message holds: handed to the channels since their last, settled (see SETTLE_MS). */
  #postsSince(after: number, limit: number): Promise<Post[]> {
    const cut = Math.floor((this.#now() - SETTLE_MS) / 1000) * 1000;
    if (cut !== this.#postsCut) {
      this.#posts.clear();
      this.#postsCut = cut;
    }
    const key = `${after}:${limit}`;
    let found = this.#posts.get(key);
    if (found === undefined) {
      found = postsQueuedBetween(this.#data.db, after, cut, limit);
      this.#posts.set(key, found);
      found.catch(() => this.#posts.delete(key));
    }
    return found;
  }

  async #send(channel: "email" | "push", row: ReaderRow): Promise<void> {
    try {
      await this.#attempt(channel, row);
    } catch (error) {
      // Whatever went wrong (a post that cannot be rendered, a push the library refuses to build), the row waits
      // its backoff like any failed message: it must not be taken again at once, for ever, starving the rest.
      logger.warning("A message to a reader failed before it was sent: {error}", { error: (error as Error).message });
      const none: Job = {
        posts: [],
        through: row.sentThrough,
        nextDue: null,
        confirmation: false,
        mail: null,
        push: null,
      };
      await this.#record(channel, row, none, { kind: "retry", error: (error as Error).message.slice(0, 200) });
    }
  }

  async #attempt(channel: "email" | "push", row: ReaderRow): Promise<void> {
    const keys = this.#keys as ReaderKeys;
    const job: Job =
      channel === "email"
        ? await emailJob(this.#data, keys, row, (n) => this.#postsSince(row.sentThrough, n))
        : await pushJob(this.#data, row, (n) => this.#postsSince(row.sentThrough, n));
    if (job.mail === null && job.push === null) return await this.#record(channel, row, job, { kind: "sent" });
    const push = job.push;
    const outcome =
      job.mail !== null
        ? await (this.#mail as MailSender).send(job.mail)
        : await (this.#push as PushSender).send(push?.target as PushTarget, push?.payload as string);
    await this.#record(channel, row, job, outcome);
  }

  async #record(channel: "email" | "push", row: ReaderRow, job: Job, outcome: Outcome): Promise<void> {
    const now = this.#now();
    const table = sql.raw(channel === "email" ? "email_subscribers" : "push_subscriptions");
    const unchanged = sql`due_at = ${row.dueAt}`;
    const next = job.nextDue === null ? sql`NULL` : sql`${job.nextDue}`;
    const ids = job.posts.map((p) => p.id);
    const stat = await this.#commit(async (tx): Promise<keyof ReaderWorker["stats"] | null> => {
      const count = async (column: "sent" | "failed" | "suppressed") => {
        if (ids.length > 0)
          await tx.run(sql`UPDATE reader_fanouts SET ${sql.raw(column)} = ${sql.raw(column)} + 1
            WHERE channel = ${channel} AND post_id IN (${sql.join(ids)})`);
      };
      const tries = row.attempts + 1;
      if (outcome.kind === "sent" || (outcome.kind !== "gone" && outcome.kind !== "permanent" && tries >= MAX_TRIES)) {
        const given = outcome.kind !== "sent";
        await tx.run(sql`UPDATE ${table} SET sent_through = ${Math.max(row.sentThrough, job.through)}, attempts = 0,
            last_error = ${given ? `given up: ${redact((outcome as { error: string }).error)}` : null},
            due_at = CASE WHEN ${unchanged} THEN ${next} ELSE due_at END
            ${job.confirmation ? sql`, confirm_sent_at = ${now}` : sql``}
          WHERE id = ${row.id}`);
        await count(given ? "failed" : "sent");
        return given ? "failed" : job.mail !== null || job.push !== null ? "sent" : null;
      }
      if (outcome.kind === "retry") {
        const { retryInitialMs, retryMaxMs } = this.#data.config.delivery;
        const backoff = Math.min(retryMaxMs, retryInitialMs * 2 ** row.attempts) * (0.75 + Math.random() * 0.5);
        const at = Math.round(now + Math.max(backoff, outcome.afterMs ?? 0));
        await tx.run(sql`UPDATE ${table} SET attempts = ${tries}, last_error = ${redact(outcome.error)},
            due_at = CASE WHEN ${unchanged} THEN ${at} ELSE due_at END WHERE id = ${row.id}`);
        return null;
      }
      if (channel === "push") {
        // A subscription the push service says is gone is deleted; a refused message is not tried again.
        if (outcome.kind === "gone") await tx.run(sql`DELETE FROM push_subscriptions WHERE id = ${row.id}`);
        else
          await tx.run(sql`UPDATE push_subscriptions SET sent_through = ${Math.max(row.sentThrough, job.through)},
              attempts = 0, last_error = ${outcome.error}, due_at = CASE WHEN ${unchanged} THEN NULL ELSE due_at END
            WHERE id = ${row.id}`);
        await count(outcome.kind === "gone" ? "suppressed" : "failed");
        return "failed";
      }
      // A permanent SMTP refusal: the address is suppressed (its hash kept), erased, never mailed again.
      await tx.run(sql`UPDATE email_subscribers SET status = 'suppressed', address = NULL, domain = NULL,
            nonce = NULL, due_at = NULL, ended_at = ${now}, last_error = ${redact(outcome.error)}
          WHERE id = ${row.id}`);
      await count("suppressed");
      return "suppressed";
    });
    if (stat !== null) this.stats[stat]++;
    // Nothing sent (no post left to send) is not a delivery.
    const counted = outcome.kind === "retry" ? "retrying" : stat === "sent" ? "delivered" : stat;
    if (counted !== null) instruments().deliveries.add(1, { channel, outcome: counted });
  }

  /**
   * Runs a message's record in the next shared transaction: the messages that
   * end together are recorded together (up to 256 a transaction), which was
   * a sixth of the CPU as one transaction each. A batch that fails is
   * recorded again one by one, so one bad record fails alone.
   */
  #commit<T>(write: (tx: Queryable) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#writes.push({ write, done: resolve as (v: unknown) => void, fail: reject });
      if (this.#flushing === null) this.#flushing = this.#flush();
    });
  }

  async #flush(): Promise<void> {
    // Messages ending in the same turn of the event loop join the batch.
    await new Promise((r) => setImmediate(r));
    while (this.#writes.length > 0) {
      const batch = this.#writes.splice(0, 256);
      const results: unknown[] = [];
      try {
        await this.#data.db.transaction(async (tx) => {
          results.length = 0;
          for (const w of batch) results.push(await w.write(tx));
        });
        for (const [i, w] of batch.entries()) w.done(results[i]);
      } catch {
        for (const w of batch) {
          try {
            w.done(await this.#data.db.transaction((tx) => w.write(tx)));
          } catch (error) {
            w.fail(error);
          }
        }
      }
    }
    this.#flushing = null;
  }
}

function toRow(r: Record<string, unknown>): ReaderRow {
  return {
    id: Number(r.id),
    partition: Number(r.partition),
    host: String(r.host ?? ""),
    dueAt: Number(r.due_at),
    sentThrough: Number(r.sent_through),
    attempts: Number(r.attempts),
    address: r.address == null ? undefined : String(r.address),
    status: r.status == null ? undefined : String(r.status),
    cadence: r.cadence == null ? undefined : String(r.cadence),
    nonce: r.nonce == null ? null : String(r.nonce),
    endpoint: r.endpoint == null ? undefined : String(r.endpoint),
    p256dh: r.p256dh == null ? undefined : String(r.p256dh),
    auth: r.auth == null ? undefined : String(r.auth),
  };
}

/** An SMTP answer often repeats the recipient's address: never kept. */
const redact = (error: string) => error.replace(/[^\s<>"]+@[^\s<>"]+/g, "<address>");
