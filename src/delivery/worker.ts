import { isIP } from "node:net";
import { signRequest } from "@fedify/fedify";
import { getLogger } from "@logtape/logtape";
import { type Dispatcher, request as httpRequest } from "undici";
import type { AppData } from "../context.ts";
import { bumpSiteVersion } from "../product/instance.ts";
import { getActorKeyPairs } from "../product/keys.ts";
import { LECTERN_VERSION } from "../version.ts";
import { onFanOut } from "./fanout.ts";
import { deliveryAgent, isPrivateAddress } from "./http.ts";

const logger = getLogger(["lectern", "delivery"]);

/** A request running longer than this stops counting against `concurrency` (see {@link DeliveryWorker}): a healthy server answering slowly only moves to the larger allowance, which costs a socket. */
const SLOW_AFTER_MS = 500;
/** Slow requests (a blackholed server) allowed in flight, besides the fast ones. */
const MAX_SLOW = 2048;
/** How long a paused server waits between probes. */
const PROBE_EVERY_MS = 12 * 3600_000;
const DAY_MS = 86_400_000;

interface Claimed {
  id: number;
  inbox: string;
  host: string;
  attempts: number;
  outgoing_id: number;
  probe_at: number | null;
  signature: string | null;
  /** The server has a failure record to clear on success. */
  failing: number | null;
}

export interface DeliveryWorkerOptions {
  now?: () => number;
  /** Replaces the HTTP client (benchmarks count connections this way). */
  dispatcher?: Dispatcher;
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
 * A dead server must not slow the live ones: `concurrency` bounds the
 * requests that are *fast*; one that has run for more than 500 ms (a blackholed
 * host waiting for its timeout) moves to a separate, much larger allowance,
 * so the slots for healthy servers stay free.
 *
 * Failures are retried with exponential backoff and jitter until
 * `maxAttempts`; 410/404 remove the followers behind that inbox; a server
 * failing on `pauseAfterDays` distinct days is paused (new posts wait) and
 * probed twice a day until it answers, then resumed. Rows are the state: a
 * crash loses nothing, and what was being sent is sent again at start.
 */
export class DeliveryWorker {
  readonly stats: DeliveryStats = { attempts: 0, signatures: 0, delivered: 0, failed: 0 };
  readonly #data: AppData;
  readonly #now: () => number;
  readonly #agent: Dispatcher;
  readonly #ownsAgent: boolean;
  readonly #keyId: URL;
  readonly #inFlight = new Set<Promise<void>>();
  readonly #perHost = new Map<string, number>();
  readonly #bodies = new Map<number, Buffer>();
  #fast = 0;
  #slow = 0;
  /** Successes waiting to be written, in one transaction (see #flush). */
  #delivered: { id: number; attempts: number; status: number; at: number; host: string | null }[] = [];
  #flushTimer: NodeJS.Timeout | undefined;
  #stopped = false;
  #wake: () => void = () => {};
  #loop: Promise<void> | undefined;
  #unsubscribe: () => void = () => {};
  readonly #queuePosts: () => Promise<unknown>;
  #postsWaiting = true;

  /**
   * `queuePosts` turns stored posts into queued deliveries (the Create's
   * JSON is made there, off the author's request); called when woken and on
   * every poll, so posts stored by the CLI or before a crash go out too.
   */
  constructor(
    data: AppData,
    actorUri: URL,
    options: DeliveryWorkerOptions & { queuePosts?: () => Promise<unknown> } = {},
  ) {
    this.#data = data;
    this.#now = options.now ?? Date.now;
    this.#keyId = new URL(`${actorUri.href}#main-key`);
    this.#queuePosts = options.queuePosts ?? (() => Promise.resolve());
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

  start(): void {
    // What was being sent when the last process stopped is sent again (same activity id: harmless if it arrived).
    const reset = this.#data.db.$client
      .prepare("UPDATE deliveries SET status = 'pending' WHERE status = 'sending'")
      .run();
    if (reset.changes > 0)
      logger.info("Resuming {count} deliveries interrupted by a restart", { count: reset.changes });
    this.#unsubscribe = onFanOut(this.#data.db, () => {
      this.#postsWaiting = true;
      this.#wake();
    });
    this.#loop = this.#run();
  }

  /** Stops taking new deliveries and waits for those in flight (bounded by the request timeout). */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#unsubscribe();
    this.#wake();
    await this.#loop;
    await Promise.allSettled([...this.#inFlight]);
    this.#flush();
    if (this.#ownsAgent) await this.#agent.close();
  }

  async #run(): Promise<void> {
    const db = this.#data.db.$client;
    const { concurrency, perServer, pollMs } = this.#data.config.delivery;
    const select = db.prepare<[number, number, number], Claimed>(
      `SELECT d.id, d.inbox, d.host, d.attempts, d.outgoing_id, s.probe_at, s.signature,
              (s.failing_since IS NOT NULL OR s.probe_at IS NOT NULL) AS failing
       FROM deliveries d LEFT JOIN servers s ON s.host = d.host
       WHERE d.status = 'pending' AND d.next_attempt_at <= ?
         AND (s.probe_at IS NULL OR s.probe_at <= ?)
         AND NOT EXISTS (SELECT 1 FROM deliveries e
                         WHERE e.inbox = d.inbox AND e.post_id = d.post_id AND e.id < d.id
                           AND e.status IN ('pending', 'sending'))
       ORDER BY d.next_attempt_at, d.id LIMIT ?`,
    );
    const mark = db.prepare<[number, number]>("UPDATE deliveries SET status = 'sending', updated_at = ? WHERE id = ?");
    const probing = db.prepare<[number, string]>("UPDATE servers SET probe_at = ? WHERE host = ?");
    const nextDue = db.prepare<[], { t: number | null }>(
      "SELECT min(next_attempt_at) AS t FROM deliveries WHERE status = 'pending'",
    );
    const claim = db.transaction((limit: number) => {
      const now = this.#now();
      const rows = select.all(now, now, limit * 4);
      const taken: Claimed[] = [];
      const hosts = new Map(this.#perHost);
      for (const row of rows) {
        if (taken.length >= limit) break;
        const busy = hosts.get(row.host) ?? 0;
        // A paused server gets one probe at a time, and the next probe later.
        const max = row.probe_at !== null ? 1 : perServer;
        if (busy >= max) continue;
        hosts.set(row.host, busy + 1);
        mark.run(now, row.id);
        if (row.probe_at !== null) probing.run(now + PROBE_EVERY_MS, row.host);
        taken.push(row);
      }
      return taken;
    });

    // Claim in batches: a transaction per finished request would cost more than the request.
    const batch = Math.max(1, Math.min(32, Math.floor(concurrency / 4)));
    let lastPostCheck = 0;
    while (!this.#stopped) {
      // New posts: when told (this process stored one) or once per poll (the CLI, a crash).
      if (this.#postsWaiting || Date.now() - lastPostCheck >= pollMs) {
        this.#postsWaiting = false;
        lastPostCheck = Date.now();
        try {
          await this.#queuePosts();
        } catch (error) {
          logger.error("Queuing new posts failed: {error}", { error });
        }
      }
      const free = Math.min(concurrency - this.#fast, MAX_SLOW - this.#slow);
      const rows =
        free >= batch || (free > 0 && this.#fast + this.#slow === 0) ? claim.immediate(Math.min(free, 256)) : [];
      for (const row of rows) this.#start(row);
      if (rows.length > 0 && concurrency - this.#fast >= batch) continue;
      let wait = pollMs;
      if (this.#fast < concurrency) {
        const t = nextDue.get()?.t;
        const now = this.#now();
        if (t != null && t > now) wait = Math.min(wait, t - now);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, wait);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#wake = () => {};
    }
  }

  #start(row: Claimed): void {
    this.#fast++;
    this.#perHost.set(row.host, (this.#perHost.get(row.host) ?? 0) + 1);
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
        this.#inFlight.delete(p);
        this.#wake();
      });
    this.#inFlight.add(p);
  }

  #body(outgoingId: number): Buffer {
    let body = this.#bodies.get(outgoingId);
    if (body === undefined) {
      const row = this.#data.db.$client
        .prepare<[number], { body: string }>("SELECT body FROM outgoing WHERE id = ?")
        .get(outgoingId);
      body = Buffer.from(row?.body ?? "{}");
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
      const literal = url.hostname.replace(/^\[|\]$/g, "");
      if (!this.#data.config.allowPrivateAddress && isIP(literal) !== 0 && isPrivateAddress(literal)) {
        throw Object.assign(new Error(`refusing to deliver to a private address (${literal})`), { code: "EPRIVATE" });
      }
      const body = this.#body(row.outgoing_id);
      const bytes = new Uint8Array(body.buffer, body.byteOffset, body.byteLength) as Uint8Array<ArrayBuffer>;
      const [pair] = await getActorKeyPairs(this.#data.db);
      // Signed now, not when queued: Mastodon treats a Date more than an hour old as expired.
      const signed = await signRequest(
        new Request(url, {
          method: "POST",
          headers: {
            "Content-Type": "application/activity+json",
            Accept: "application/activity+json",
            "User-Agent": `Lectern/${LECTERN_VERSION} (+${this.#data.config.origin.origin})`,
          },
          body: bytes,
        }),
        pair.privateKey,
        this.#keyId,
        { spec, body: body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength) as ArrayBuffer },
      );
      this.stats.signatures++;
      const res = await httpRequest(url, {
        method: "POST",
        headers: Object.fromEntries(signed.headers),
        body,
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
    this.#record(row, status, error, spec, retryAfterMs);
  }

  #flush(): void {
    clearTimeout(this.#flushTimer);
    this.#flushTimer = undefined;
    if (this.#delivered.length === 0) return;
    const done = this.#delivered;
    this.#delivered = [];
    const db = this.#data.db.$client;
    this.#statements ??= this.prepare();
    const { delivered: mark, recovered } = this.#statements;
    db.transaction(() => {
      for (const d of done) {
        mark.run(d.attempts, d.status, d.at, d.id);
        if (d.host !== null) recovered.run(d.at, d.host);
      }
    })();
  }

  #statements?: ReturnType<DeliveryWorker["prepare"]>;

  prepare() {
    const db = this.#data.db.$client;
    return {
      set: db.prepare(
        "UPDATE deliveries SET status = ?, attempts = ?, next_attempt_at = ?, last_status = ?, last_error = ?, updated_at = ? WHERE id = ?",
      ),
      upsertServer: db.prepare("INSERT INTO servers (host) VALUES (?) ON CONFLICT (host) DO NOTHING"),
      delivered: db.prepare(
        "UPDATE deliveries SET status = 'delivered', attempts = ?, last_status = ?, last_error = NULL, updated_at = ? WHERE id = ?",
      ),
      recovered: db.prepare(
        "UPDATE servers SET failing_since = NULL, failure_days = 0, last_failure_day = NULL, last_success_at = ?, probe_at = NULL WHERE host = ?",
      ),
      removeFollowers: db.prepare("DELETE FROM followers WHERE inbox = ? OR shared_inbox = ?"),
      goneInbox: db.prepare(
        "UPDATE deliveries SET status = 'gone', last_status = ?, updated_at = ? WHERE inbox = ? AND status = 'pending'",
      ),
      preferRfc9421: db.prepare("UPDATE servers SET signature = 'rfc9421' WHERE host = ?"),
      server: db.prepare<
        [string],
        { failing_since: number | null; failure_days: number; last_failure_day: number | null }
      >("SELECT failing_since, failure_days, last_failure_day FROM servers WHERE host = ?"),
      failing: db.prepare(
        "UPDATE servers SET failing_since = coalesce(failing_since, ?), failure_days = ?, last_failure_day = ?, probe_at = ? WHERE host = ?",
      ),
    };
  }

  #record(row: Claimed, status: number | null, error: string | null, spec: string, retryAfterMs: number | null): void {
    const db = this.#data.db.$client;
    const now = this.#now();
    const { maxAttempts, retryInitialMs, retryMaxMs, pauseAfterDays } = this.#data.config.delivery;
    this.#statements ??= this.prepare();
    const st = this.#statements;
    const set = (values: { status: string; attempts: number; next?: number }) =>
      st.set.run(values.status, values.attempts, values.next ?? now, status, error, now, row.id);
    const upsertServer = st.upsertServer;

    if (status !== null && status >= 200 && status < 300) {
      // Written in a batch: a crash before the flush only means the same activity is sent again.
      this.#delivered.push({
        id: row.id,
        attempts: row.attempts + 1,
        status,
        at: now,
        host: row.failing ? row.host : null,
      });
      this.stats.delivered++;
      this.#flushTimer ??= setTimeout(() => this.#flush(), 25);
      return;
    }
    if (status === 410 || status === 404) {
      // The inbox is gone, and the followers behind it with it.
      db.transaction(() => {
        set({ status: "gone", attempts: row.attempts + 1 });
        const removed = st.removeFollowers.run(row.inbox, row.inbox).changes;
        if (removed > 0) bumpSiteVersion(this.#data.db);
        st.goneInbox.run(status, now, row.inbox);
        logger.info("{inbox} answered {status}: removed {removed} followers", { inbox: row.inbox, status, removed });
      })();
      this.stats.failed++;
      return;
    }
    if ((status === 401 || status === 403) && spec !== "rfc9421" && row.attempts === 0) {
      // Double knock: a server that refuses draft-cavage may want RFC 9421; remembered per server.
      upsertServer.run(row.host);
      st.preferRfc9421.run(row.host);
      set({ status: "pending", attempts: row.attempts });
      return;
    }
    const retryable = status === null || status === 408 || status === 429 || status >= 500;
    if (!retryable || status === -1) {
      set({ status: "failed", attempts: row.attempts + 1 });
      this.stats.failed++;
      return;
    }
    // Retried with exponential backoff and jitter; a server failing for days is paused.
    upsertServer.run(row.host);
    const day = Math.floor(now / DAY_MS);
    const server = st.server.get(row.host);
    const days = (server?.failure_days ?? 0) + (server?.last_failure_day === day ? 0 : 1);
    st.failing.run(now, days, day, days >= pauseAfterDays ? now + PROBE_EVERY_MS : null, row.host);
    if (days >= pauseAfterDays && (server?.failure_days ?? 0) < pauseAfterDays) {
      logger.warning("Pausing deliveries to {host}: failing on {days} days; probing it twice a day", {
        host: row.host,
        days,
      });
    }
    const attempts = row.attempts + 1;
    if (attempts >= maxAttempts) {
      set({ status: "given_up", attempts });
      this.stats.failed++;
      return;
    }
    const backoff = Math.min(retryMaxMs, retryInitialMs * 2 ** (attempts - 1));
    const jittered = backoff * (0.75 + Math.random() * 0.5);
    set({ status: "pending", attempts, next: now + Math.max(jittered, retryAfterMs ?? 0) });
  }
}
