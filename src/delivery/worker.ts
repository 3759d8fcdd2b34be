import type { KeyObject } from "node:crypto";
import { getLogger } from "@logtape/logtape";
import { type Dispatcher, request as httpRequest } from "undici";
import type { AppData } from "../product/context.ts";
import { getActorKeyPairs } from "../product/keys.ts";
import { deliveryAgent, refuseUrl } from "../shared/http-client.ts";
import { userAgent } from "../shared/version.ts";
import { CHANNELS } from "../storage/database.ts";
import { withDeadline } from "./deadline.ts";
import { PartitionLeases } from "./partitions.ts";
import {
  type Claimed,
  claimRows,
  nextRetryAt,
  outgoingBody,
  reclaimRows,
  recordDelivered,
  recordFailure,
} from "./rows.ts";
import { keyObject, type SignedBody, signCavage, signedBody, signRfc9421 } from "./signing.ts";

const logger = getLogger(["lectern", "delivery"]);

/** A request running longer than this stops counting against `concurrency` (see {@link DeliveryWorker}): a healthy server answering slowly only moves to the larger allowance, which costs a socket. */
const SLOW_AFTER_MS = 500;
/** Slow requests (a blackholed server) allowed in flight, besides the fast ones. */
const MAX_SLOW = 2048;
/** How often rows a dead worker left `sending` are looked for (and whenever partitions change). */
const RECLAIM_EVERY_MS = 5_000;
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
 * (see partitions.ts) and a worker claims rows only from its own, under a
 * lease; a row whose worker died is claimed again by the partition's next
 * owner (sent again with the same activity id).
 *
 * A dead server must not slow the live ones: `concurrency` bounds the
 * requests that are *fast*; one that has run for more than 500 ms (a blackholed
 * host waiting for its timeout) moves to a separate, much larger allowance,
 * so the slots for healthy servers stay free.
 *
 * Failures are retried with exponential backoff and jitter until
 * `maxAttempts`; a server failing on `pauseAfterDays` distinct days is paused
 * (new posts wait) and probed twice a day until it answers, then resumed.
 * No answer removes a follower (see followers.ts for what does).
 */
export class DeliveryWorker {
  readonly stats: DeliveryStats = { attempts: 0, signatures: 0, delivered: 0, failed: 0 };
  readonly workerId: string;
  readonly leases: PartitionLeases;
  readonly #data: AppData;
  readonly #now: () => number;
  readonly #agent: Dispatcher;
  readonly #ownsAgent: boolean;
  readonly #keyId: URL;
  readonly #inFlight = new Set<Promise<void>>();
  readonly #perHost = new Map<string, number>();
  readonly #perPartition = new Map<number, number>();
  /** Claims in progress: while one runs, no partition is given up (it may hold rows of any of them). */
  #claiming = 0;
  readonly #bodies = new Map<number, SignedBody>();
  readonly #userAgent: string;
  #key: Promise<KeyObject> | undefined;
  #fast = 0;
  #slow = 0;
  /** Successes waiting to be written, in one transaction (see #flush). */
  #delivered: { id: number; attempts: number; status: number; at: number; host: string | null }[] = [];
  #flushTimer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> = Promise.resolve();
  #stopped = false;
  #wake: () => void = () => {};
  #loop: Promise<void> | undefined;
  #unsubscribe: (() => Promise<void>)[] = [];
  readonly #publishPosts: () => Promise<unknown>;
  #postsWaiting = true;

  constructor(data: AppData, options: DeliveryWorkerOptions = {}) {
    this.#data = data;
    this.#now = options.now ?? Date.now;
    this.#keyId = data.urls.keyId();
    this.#userAgent = userAgent(data.config.origin);
    this.#publishPosts = options.publishPosts ?? (() => Promise.resolve());
    this.workerId = options.workerId ?? `${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
    this.leases = new PartitionLeases(data.db, this.workerId, {
      now: this.#now,
      busy: (p) => this.#claiming > 0 || (this.#perPartition.get(p) ?? 0) > 0,
    });
    const d = data.config.delivery;
    this.#ownsAgent = options.dispatcher === undefined;
    this.#agent =
      options.dispatcher ??
      deliveryAgent({
        allowPrivateAddress: data.config.allowPrivateAddress,
        connectTimeoutMs: d.connectTimeoutMs,
        timeoutMs: d.timeoutMs,
        connectionsPerServer: d.perServer,
      });
  }

  async start(): Promise<void> {
    const db = this.#data.db;
    this.#unsubscribe.push(
      await db.listen(CHANNELS.posts, () => {
        this.#postsWaiting = true;
        this.#wake();
      }),
      await db.listen(CHANNELS.deliveries, () => this.#wake()),
    );
    await this.leases.start(() => this.#wake());
    this.#loop = this.#run();
  }

  /** Stops taking new deliveries and waits for those in flight (bounded by the request timeout). */
  async stop(): Promise<void> {
    this.#stopped = true;
    for (const off of this.#unsubscribe) await off().catch(() => {});
    this.#wake();
    await this.#loop;
    await Promise.allSettled([...this.#inFlight]);
    await this.#flush();
    await this.leases.stop();
    if (this.#ownsAgent) await this.#agent.close();
  }

  /**
   * The delivery loop, a round at a time: publish new posts, take back what
   * a stopped worker left in our partitions, claim what is due and start it,
   * then sleep until more is due (or a wake-up, or the poll). A database that
   * is away pauses it (backing off up to 10 s); nothing is lost.
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
        await this.#takeBack(partitions);
        const { claimed, rows } = await this.#claimDue(partitions, batch);
        failures = 0;
        if (rows > 0 && concurrency - this.#fast >= batch) continue;
        if (claimed && rows === 0) wait = Math.min(wait, await this.#untilNextRetry(partitions));
      } catch (error) {
        failures++;
        wait = Math.min(10_000, pollMs * 2 ** Math.min(failures, 6));
        if (failures === 1) logger.warning("Delivery worker paused: {error}", { error: (error as Error).message });
      }
      await this.#sleep(wait);
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

  #reclaimedFor = "";
  #reclaimedAt = 0;
  /** Deliveries a stopped worker was sending in our partitions: when they change, and every so often. */
  async #takeBack(partitions: number[]): Promise<void> {
    const key = partitions.join(",");
    if (partitions.length === 0 || (key === this.#reclaimedFor && Date.now() - this.#reclaimedAt < RECLAIM_EVERY_MS))
      return;
    const n = await step(reclaimRows(this.#data.db, partitions, this.workerId, this.#now()), "taking back deliveries");
    if (n > 0) logger.info("Taking over {count} deliveries a stopped worker was sending", { count: n });
    this.#reclaimedFor = key;
    this.#reclaimedAt = Date.now();
  }

  /** Claims what is due, as much as there are free slots for, and starts it. */
  async #claimDue(partitions: number[], batch: number): Promise<{ claimed: boolean; rows: number }> {
    const { concurrency, perServer, timeoutMs, connectTimeoutMs } = this.#data.config.delivery;
    const free = Math.min(concurrency - this.#fast, MAX_SLOW - this.#slow);
    const claiming = partitions.length > 0 && (free >= batch || (free > 0 && this.#fast + this.#slow === 0));
    if (!claiming) return { claimed: false, rows: 0 };
    // While a claim runs no partition is given up (see `busy` and PartitionLeases.tick); its rows are
    // counted in flight before it ends.
    this.#claiming++;
    const owned = this.leases.current(); // read in the same step as the count above
    try {
      const now = this.#now();
      const claim = claimRows(this.#data.db, {
        limit: Math.min(free, 256),
        partitions: owned,
        worker: this.workerId,
        now,
        leaseUntil: now + connectTimeoutMs + timeoutMs + 10_000,
        perServer,
        busy: this.#perHost,
      });
      const rows = owned.length > 0 ? await step(claim, "claiming") : [];
      for (const row of rows) this.#start(row);
      return { claimed: true, rows: rows.length };
    } finally {
      this.#claiming--;
    }
  }

  /** How long until the next retry in our partitions is due (the poll interval when none is). */
  async #untilNextRetry(partitions: number[]): Promise<number> {
    const next = await step(nextRetryAt(this.#data.db, partitions), "finding the next retry");
    const now = this.#now();
    return next !== null && next > now ? next - now : this.#data.config.delivery.pollMs;
  }

  /** Sleeps `ms`, or until woken (a new post, a finished delivery, a lease change). */
  #sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.#wake = () => {};
        resolve();
      }, ms);
      this.#wake = () => {
        clearTimeout(timer);
        this.#wake = () => {};
        resolve();
      };
    });
  }

  #start(row: Claimed): void {
    this.#fast++;
    this.#perHost.set(row.host, (this.#perHost.get(row.host) ?? 0) + 1);
    this.#perPartition.set(row.partition, (this.#perPartition.get(row.partition) ?? 0) + 1);
    let slow = false;
    const timer = setTimeout(() => {
      slow = true;
      this.#fast--;
      this.#slow++;
      this.#wake();
    }, SLOW_AFTER_MS);
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
        this.#wake();
      });
    this.#inFlight.add(p);
  }

  async #body(outgoingId: number): Promise<SignedBody> {
    let body = this.#bodies.get(outgoingId);
    if (body === undefined) {
      body = signedBody((await outgoingBody(this.#data.db, outgoingId)) ?? "{}");
      if (this.#bodies.size >= 32) this.#bodies.delete(this.#bodies.keys().next().value as number);
      this.#bodies.set(outgoingId, body);
    }
    return body;
  }

  async #deliver(row: Claimed): Promise<void> {
    this.stats.attempts++;
    const spec = row.signature === "rfc9421" ? "rfc9421" : "draft-cavage-http-signatures-12";
    let status: number | null = null;
    let error: string | null = null;
    let retryAfterMs: number | null = null;
    try {
      const url = new URL(row.inbox);
      const refused = refuseUrl(url, this.#data.config.allowPrivateAddress);
      if (refused !== null) {
        throw Object.assign(new Error(`refusing to deliver to ${refused}`), { code: "EPRIVATE" });
      }
      const body = await this.#body(row.outgoing_id);
      const headers = {
        "content-type": "application/activity+json",
        accept: "application/activity+json",
        "user-agent": this.#userAgent,
      };
      // Signed now, not when queued: Mastodon treats a Date more than an hour old as expired.
      const signed =
        spec === "rfc9421" ? await this.#signRfc9421(url, body, headers) : await this.#signCavage(url, body, headers);
      this.stats.signatures++;
      const res = await httpRequest(url, {
        method: "POST",
        headers: signed,
        body: body.bytes,
        // Bounded by the agent's connect, headers and body timeouts.
        dispatcher: this.#agent,
      });
      status = res.statusCode;
      const retryAfter = res.headers["retry-after"];
      if (typeof retryAfter === "string" && /^\d+$/.test(retryAfter)) retryAfterMs = Number(retryAfter) * 1000;
      if (status < 400) await res.body.dump({ limit: 64 * 1024 });
      const text = status >= 400 ? (await res.body.text()).slice(0, 200) : "";
      if (status >= 400) error = `HTTP ${status}${text ? `: ${text.replace(/\s+/g, " ").trim()}` : ""}`;
    } catch (e) {
      const err = e as NodeJS.ErrnoException & { cause?: NodeJS.ErrnoException };
      error = `${err.code ?? err.cause?.code ?? err.name}: ${err.message}`.slice(0, 300);
      if (err.code === "EPRIVATE" || err.cause?.code === "EPRIVATE") status = -1;
    }
    await this.#record(row, status, error, spec, retryAfterMs);
  }

  async #signCavage(url: URL, body: SignedBody, headers: Record<string, string>): Promise<Record<string, string>> {
    this.#key ??= getActorKeyPairs(this.#data).then(([pair]) => keyObject(pair.privateKey));
    return await signCavage(url, body, await this.#key, this.#keyId.href, headers);
  }

  async #signRfc9421(url: URL, body: SignedBody, headers: Record<string, string>): Promise<Record<string, string>> {
    const [pair] = await getActorKeyPairs(this.#data);
    return await signRfc9421(url, body, pair.privateKey, this.#keyId, headers);
  }

  #flush(): Promise<void> {
    clearTimeout(this.#flushTimer);
    this.#flushTimer = undefined;
    if (this.#delivered.length === 0) return this.#flushing;
    const done = this.#delivered;
    this.#delivered = [];
    const write = async () => {
      try {
        await recordDelivered(this.#data.db, done);
      } catch (error) {
        // Not written: the rows stay `sending` and are sent again once their lease runs out (same activity id).
        logger.warning("Could not record {count} deliveries: {error}", { count: done.length, error });
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
  ): Promise<void> {
    const now = this.#now();
    if (status !== null && status >= 200 && status < 300) {
      // Written in a batch: a crash before the flush only means the same activity is sent again.
      this.#delivered.push({
        id: row.id,
        attempts: Number(row.attempts) + 1,
        status,
        at: now,
        host: row.failing ? row.host : null,
      });
      this.stats.delivered++;
      this.#flushTimer ??= setTimeout(() => void this.#flush(), 25);
      return;
    }
    const outcome = await recordFailure(
      this.#data.db,
      row,
      { status, error, spec, retryAfterMs },
      this.#data.config.delivery,
      now,
    );
    if (outcome.paused) {
      logger.warning("Pausing deliveries to {host}: failing on {days} days; probing it twice a day", {
        host: row.host,
        days: outcome.days,
      });
    }
    if (outcome.status === "failed" || outcome.status === "given_up") this.stats.failed++;
  }
}
