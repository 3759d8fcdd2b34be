import { getLogger } from "@logtape/logtape";
import type { Dispatcher } from "undici";
import type { AppData } from "../product/context.ts";
import { Nap } from "../shared/nap.ts";
import { CHANNELS } from "../storage/database.ts";
import { withDeadline } from "./deadline.ts";
import { observeDelivery } from "./observe.ts";
import { RecentDeliveries } from "./pace.ts";
import { PartitionLeases } from "./partitions.ts";
import { FanOutQueuer } from "./queuer.ts";
import { type ClaimCursor, type Claimed, claimRows, nextRetryAt, recordDelivered, recordFailure } from "./rows.ts";
import { Sender } from "./send.ts";

const logger = getLogger(["lectern", "delivery"]);

/** Slow requests (a blackholed server) allowed in flight, besides the fast ones (see pace.ts). */
const MAX_SLOW = 4096;
/** A step of the delivery loop, given up after 30 s without an answer from the database (see withDeadline). */
const step = <T>(work: Promise<T>, what: string): Promise<T> => withDeadline(work, 30_000, what);

export interface DeliveryWorkerOptions {
  now?: () => number;
  /** Replaces the HTTP client (benchmarks count connections this way). */
  dispatcher?: Dispatcher;
  /** Hands new posts to every channel (see published.ts); called when woken and on every poll. */
  publishPosts?: () => Promise<unknown>;
  /** This worker's name in leases (unique per process). */
  workerId?: string;
  /** Whether a partition has other work in flight here (readers' messages): it is not given up meanwhile. */
  busy?: (partition: number) => boolean;
}

export interface DeliveryStats {
  attempts: number;
  signatures: number;
  delivered: number;
  failed: number;
}

/**
 * Sends queued deliveries: each signed once at send time (draft-cavage first,
 * RFC 9421 for servers that ask for it), with explicit timeouts and at most
 * `perServer` requests to one server.
 *
 * Any number of workers share the tables: servers are split into partitions
 * (see partitions.ts) and a worker sends rows only from its own, under a
 * lease. Taking a row writes nothing (the worker keeps what it has in flight
 * in memory); a success deletes it, in a batch. A row whose worker died is
 * still due, and the partition's next owner sends it again (same activity id).
 *
 * One worker at a time (under the `queueing` lease) turns stored activities
 * into deliveries, a chunk per round of its loop (fanout.ts), so the first
 * deliveries leave while the rest are being queued.
 *
 * A dead server must not slow the live ones: `concurrency` bounds the
 * requests that are *fast*; one that has run for more than three times what
 * healthy servers take (100 ms to 2 s; a blackholed host waiting for its
 * timeout) moves to a separate, much larger allowance, so the slots for
 * healthy servers stay free.
 *
 * Failures are retried with exponential backoff and jitter until
 * `maxAttempts`; a server failing on `pauseAfterDays` distinct days is paused
 * (new posts wait) and probed twice a day until it answers, then resumed.
 * No answer removes a follower (see followers.ts for what does).
 */
export class DeliveryWorker {
  readonly stats: DeliveryStats = {
    attempts: 0,
    signatures: 0,
    delivered: 0,
    failed: 0,
  };
  readonly workerId: string;
  readonly leases: PartitionLeases;
  readonly #data: AppData;
  readonly #now: () => number;
  readonly #inFlight = new Set<Promise<void>>();
  readonly #perHost = new Map<string, number>();
  readonly #perPartition = new Map<number, number>();
  /**
   * Rows in flight, or sent and not yet recorded: never taken twice. A row
   * recorded while a claim is running stays here until that claim is done
   * (its query may have read the row before it was recorded).
   */
  readonly #held = new Set<number>();
  #releaseAfterClaim: number[] = [];
  readonly #recent = new RecentDeliveries();
  readonly queuer: FanOutQueuer;
  /** Where the walk through due rows got to, and for which partitions (see claimRows). */
  #cursor: ClaimCursor | null = null;
  #cursorFor = "";
  /** Claims in progress: while one runs, no partition is given up (it may hold rows of any of them). */
  #claiming = 0;
  readonly #sender: Sender;
  #fast = 0;
  #slow = 0;
  /** Successes waiting to be written, in one transaction (see #flush). */
  #delivered: { id: number; at: number; host: string | null }[] = [];
  #flushTimer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> = Promise.resolve();
  #stopped = false;
  /** The loop's sleep, cut short by a new post, a finished delivery, a lease change. */
  readonly #nap = new Nap();
  #loop: Promise<void> | undefined;
  #unsubscribe: (() => Promise<void>)[] = [];
  readonly #publishPosts: () => Promise<unknown>;
  #postsWaiting = true;

  constructor(data: AppData, options: DeliveryWorkerOptions = {}) {
    this.#data = data;
    this.#now = options.now ?? Date.now;
    this.#publishPosts = options.publishPosts ?? (() => Promise.resolve());
    this.workerId = options.workerId ?? `${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
    this.queuer = new FanOutQueuer(
      data.db,
      this.workerId,
      data.config.origin.origin,
      data.config.delivery.pollMs,
      this.#now,
    );
    this.leases = new PartitionLeases(data.db, this.workerId, {
      now: this.#now,
      busy: (p) =>
        this.#claiming > 0 ||
        (this.#perPartition.get(p) ?? 0) > 0 ||
        this.#delivered.length > 0 ||
        (options.busy?.(p) ?? false),
      pace: () => ({ inFlight: this.#fast + this.#slow, deliveredLastMinute: this.#recent.lastMinute() }),
    });
    this.#sender = new Sender(data, this.stats, options.dispatcher);
  }

  async start(): Promise<void> {
    const db = this.#data.db;
    this.#unsubscribe.push(
      await db.listen(CHANNELS.posts, () => {
        this.#postsWaiting = true;
        this.#nap.wake();
      }),
      await db.listen(CHANNELS.deliveries, () => {
        this.queuer.wake();
        this.#nap.wake();
      }),
    );
    await this.leases.start(() => this.#nap.wake());
    this.queuer.start(() => this.#nap.wake());
    this.#loop = this.#run();
  }

  /** Stops taking new deliveries and waits for those in flight (bounded by the request timeout). */
  async stop(): Promise<void> {
    this.#stopped = true;
    for (const off of this.#unsubscribe) await off().catch(() => {});
    this.#nap.wake();
    await this.queuer.stop();
    await this.#loop;
    await Promise.allSettled([...this.#inFlight]);
    await this.#flush();
    await this.leases.stop();
    await this.#sender.close();
  }

  /**
   * The delivery loop, a round at a time: publish new posts, claim what is
   * due and start it (fan-outs are queued beside it: FanOutQueuer), then sleep until more is due
   * (or a wake-up, or the poll). A database that is away pauses it (backing
   * off up to 10 s); nothing is lost.
   */
  async #run(): Promise<void> {
    const { concurrency, pollMs } = this.#data.config.delivery;
    // Claim in batches: a transaction per finished request would cost more than the request.
    const batch = Math.max(1, Math.min(32, Math.floor(concurrency / 4)));
    let failures = 0;
    while (!this.#stopped) {
      let wait = pollMs;
      try {
        await this.#publishNewPosts();
        const partitions = this.leases.current();
        const { claimed, rows, end } = await this.#claimDue(partitions, batch);
        failures = 0;
        if ((rows > 0 || (claimed && !end)) && concurrency - this.#fast >= batch) continue;
        if (claimed && end && rows === 0) wait = Math.min(wait, await this.#untilNextRetry(partitions));
      } catch (error) {
        failures++;
        wait = Math.min(10_000, pollMs * 2 ** Math.min(failures, 6));
        if (failures === 1) logger.warning("Delivery worker paused: {error}", { error: (error as Error).message });
      }
      await this.#nap.sleep(wait);
    }
  }

  #lastPostCheck = 0;
  /** New posts to every channel: when told (this process, or any on PostgreSQL) or once per poll (the CLI on SQLite, a crash). */
  async #publishNewPosts(): Promise<void> {
    const { pollMs } = this.#data.config.delivery;
    const every = this.#data.db.sharedNotifications ? 10 * pollMs : pollMs;
    if (!this.#postsWaiting && Date.now() - this.#lastPostCheck < every) return;
    this.#postsWaiting = false;
    this.#lastPostCheck = Date.now();
    await step(this.#publishPosts(), "publishing new posts");
  }

  /** Claims what is due, as much as there are free slots for, and starts it. */
  async #claimDue(partitions: number[], batch: number): Promise<{ claimed: boolean; rows: number; end: boolean }> {
    const { concurrency, perServer } = this.#data.config.delivery;
    const free = Math.min(concurrency - this.#fast, MAX_SLOW - this.#slow);
    const claiming = partitions.length > 0 && (free >= batch || (free > 0 && this.#fast + this.#slow === 0));
    if (!claiming) return { claimed: false, rows: 0, end: false };
    // While a claim runs no partition is given up (see `busy` and PartitionLeases.tick); its rows are
    // counted in flight before it ends.
    this.#claiming++;
    const owned = this.leases.current(); // read in the same step as the count above
    try {
      const now = this.#now();
      // A new set of partitions starts a new walk.
      const key = owned.join(",");
      if (key !== this.#cursorFor) {
        this.#cursor = null;
        this.#cursorFor = key;
      }
      if (owned.length === 0) return { claimed: true, rows: 0, end: true };
      const { taken, last, end } = await step(
        claimRows(this.#data.db, {
          limit: Math.min(free, 256),
          partitions: owned,
          now,
          perServer,
          busy: this.#perHost,
          exclude: this.#held,
          after: this.#cursor,
        }),
        "claiming",
      );
      this.#cursor = end ? null : last;
      for (const row of taken) this.#start(row);
      return { claimed: true, rows: taken.length, end };
    } finally {
      this.#claiming--;
      if (this.#claiming === 0) {
        for (const id of this.#releaseAfterClaim) this.#held.delete(id);
        this.#releaseAfterClaim = [];
      }
    }
  }

  /** Rows recorded (delivered, or failed and rescheduled): free to be taken again, once no claim may have read them before. */
  #release(ids: number[]): void {
    if (this.#claiming > 0) this.#releaseAfterClaim.push(...ids);
    else for (const id of ids) this.#held.delete(id);
  }

  /** How long until the next retry in our partitions is due (the poll interval when none is). */
  async #untilNextRetry(partitions: number[]): Promise<number> {
    const next = await step(nextRetryAt(this.#data.db, partitions), "finding the next retry");
    const now = this.#now();
    return next !== null && next > now ? next - now : this.#data.config.delivery.pollMs;
  }

  #start(row: Claimed): void {
    this.#fast++;
    this.#held.add(Number(row.id));
    this.#perHost.set(row.host, (this.#perHost.get(row.host) ?? 0) + 1);
    this.#perPartition.set(row.partition, (this.#perPartition.get(row.partition) ?? 0) + 1);
    let slow = false;
    const timer = setTimeout(() => {
      slow = true;
      this.#fast--;
      this.#slow++;
      this.#nap.wake();
    }, this.#sender.answers.slowAfterMs());
    const p = this.#deliver(row)
      .catch((error) => logger.error("Delivery {id} failed unexpectedly: {error}", { id: row.id, error }))
      .finally(() => {
        clearTimeout(timer);
        if (slow) this.#slow--;
        else this.#fast--;
        const n = (this.#perHost.get(row.host) ?? 1) - 1;
        if (n > 0) this.#perHost.set(row.host, n);
        else this.#perHost.delete(row.host);
        const m = (this.#perPartition.get(row.partition) ?? 1) - 1;
        if (m > 0) this.#perPartition.set(row.partition, m);
        else this.#perPartition.delete(row.partition);
        this.#inFlight.delete(p);
        this.#nap.wake();
      });
    this.#inFlight.add(p);
  }

  async #deliver(row: Claimed): Promise<void> {
    this.stats.attempts++;
    const answer = await this.#sender.send(row);
    const outcome = await this.#record(row, answer.status, answer.error, answer.spec, answer.retryAfterMs);
    observeDelivery(row, answer, outcome, this.#now());
  }

  #flush(): Promise<void> {
    clearTimeout(this.#flushTimer);
    this.#flushTimer = undefined;
    if (this.#delivered.length === 0) return this.#flushing;
    const done = this.#delivered;
    this.#delivered = [];
    const write = async () => {
      try {
        this.#recent.add(await recordDelivered(this.#data.db, done));
      } catch (error) {
        // Not written: the rows are still due and are sent again (same activity id).
        logger.warning("Could not record {count} deliveries: {error}", { count: done.length, error });
      } finally {
        this.#release(done.map((d) => d.id));
      }
    };
    this.#flushing = this.#flushing.then(write);
    return this.#flushing;
  }

  async #record(
    row: Claimed,
    status: number | null,
    error: string | null,
    spec: string,
    retryAfterMs: number | null,
  ): Promise<string> {
    const now = this.#now();
    if (status !== null && status >= 200 && status < 300) {
      // Written in a batch: a crash before the flush only means the same activity is sent again.
      this.#delivered.push({ id: Number(row.id), at: now, host: row.failing ? row.host : null });
      this.stats.delivered++;
      this.#flushTimer ??= setTimeout(() => void this.#flush(), 25);
      return "delivered";
    }
    const outcome = await recordFailure(
      this.#data.db,
      row,
      { status, error, spec, retryAfterMs },
      this.#data.config.delivery,
      now,
    ).finally(() => this.#release([Number(row.id)]));
    if (outcome.paused) {
      logger.warning("Pausing deliveries to {host}: failing on {days} days; probing it twice a day", {
        host: row.host,
        days: outcome.days,
      });
    }
    if (outcome.status === "failed" || outcome.status === "given_up") this.stats.failed++;
    return outcome.status === "pending" ? "retrying" : outcome.status;
  }
}
