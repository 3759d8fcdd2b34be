import { getLogger } from "@logtape/logtape";
import { request } from "undici";
import type { Config } from "../shared/config.ts";
import { instruments } from "../shared/metrics.ts";
import { CHANNELS, type Database, type Queryable } from "../storage/database.ts";
import { type Periodic, periodic } from "../storage/periodic.ts";
import { sql } from "../storage/sql.ts";

const logger = getLogger(["lectern", "purges"]);

/** URLs sent per JSON purge request (CDN APIs take 30 or more at once). */
const JSON_BATCH = 30;
/** After this many attempts a purge is dropped: the cache has long expired the URL by then. */
const MAX_ATTEMPTS = 30;

interface Row {
  url: string;
  attempts: number;
  next: number;
}

/**
 * Tells the cache in front (`cache.purge_url`) which URLs changed. Changes
 * are queued in the database by product/changes.ts, so the author never
 * waits for the cache; one worker (under the `purge` lease) sends them:
 *
 * - `purge` style: one `PURGE` request per URL to the purge endpoint, with
 *   the public URL's path and query, its `Host`, and `X-Purge-URL` naming the
 *   whole URL (what Varnish's and nginx's purge handlers match on);
 * - `json` style: `POST {"urls": [...]}` (up to 30 a request), the shape a
 *   CDN purge API or a small adapter takes.
 *
 * 2xx and 404 (nothing cached there) count as done; anything else, or no
 * answer, is retried on the delivery engine's schedule (`delivery.retry_*`:
 * 30 s doubling to 6 hours by default) for up to 30 attempts.
 */
export class PurgeSender {
  readonly #db: Database;
  readonly #config: Config["cache"];
  readonly #retry: { initialMs: number; maxMs: number };
  readonly #owner: string;
  readonly #now: () => number;
  #job: Periodic | undefined;
  #unlisten: (() => Promise<void>) | undefined;

  constructor(db: Database, config: Config, owner: string, options: { now?: () => number } = {}) {
    this.#db = db;
    this.#config = config.cache;
    // The delivery engine's retry schedule (delivery.retry_*): a cache that is down is a server that is down.
    this.#retry = { initialMs: config.delivery.retryInitialMs, maxMs: config.delivery.retryMaxMs };
    this.#owner = owner;
    this.#now = options.now ?? Date.now;
  }

  async start(pollMs = 1000): Promise<void> {
    if (this.#config.purgeUrl === null) return;
    // One worker at a time sends (the `purge` lease); a change announced by any process wakes it.
    const job = periodic({
      name: "purge",
      everyMs: pollMs,
      lease: { db: this.#db, owner: this.#owner, ttlMs: 30_000 },
      now: this.#now,
      run: () => this.sendDue(),
    });
    this.#job = job;
    this.#unlisten = await this.#db.listen(CHANNELS.purges, () => job.wake());
  }

  async stop(): Promise<void> {
    await this.#unlisten?.();
    await this.#job?.stop();
  }

  /** One pass over due purges; returns how many were done. */
  async sendDue(): Promise<number> {
    const target = this.#config.purgeUrl;
    if (target === null) return 0;
    const now = this.#now();
    const due = await this.#db.all<Row>(
      sql`SELECT url, attempts, next_attempt_at AS next FROM purges WHERE next_attempt_at <= ${now}
          ORDER BY next_attempt_at LIMIT 300`,
    );
    let done = 0;
    if (this.#config.purgeStyle === "json") {
      for (let i = 0; i < due.length; i += JSON_BATCH) {
        const batch = due.slice(i, i + JSON_BATCH);
        const error = await this.#send(target, "POST", { urls: batch.map((r) => r.url) });
        for (const row of batch) done += await this.#settle(this.#db, row, error);
      }
    } else {
      for (const row of due) done += await this.#settle(this.#db, row, await this.#send(target, "PURGE", row.url));
    }
    return done;
  }

  /** Null when the cache took it, else what went wrong. */
  async #send(target: URL, method: "PURGE" | "POST", what: string | { urls: string[] }): Promise<string | null> {
    const headers: Record<string, string> = { "user-agent": "Lectern (cache purge)" };
    if (this.#config.purgeToken !== null) headers.authorization = `Bearer ${this.#config.purgeToken}`;
    let url: URL;
    let body: string | undefined;
    if (typeof what === "string") {
      const changed = new URL(what);
      url = new URL(`${changed.pathname}${changed.search}`, target);
      headers.host = changed.host;
      headers["x-purge-url"] = changed.href;
    } else {
      url = target;
      body = JSON.stringify(what);
      headers["content-type"] = "application/json";
    }
    try {
      const res = await request(url, {
        method,
        headers,
        body,
        headersTimeout: 10_000,
        bodyTimeout: 10_000,
      });
      await res.body.dump();
      return (res.statusCode >= 200 && res.statusCode < 300) || res.statusCode === 404
        ? null
        : `answered ${res.statusCode}`;
    } catch (e) {
      return (e as Error).message || String(e);
    }
  }

  async #settle(db: Queryable, row: Row, error: string | null): Promise<number> {
    instruments().purges.add(1, { outcome: error === null ? "purged" : "failed" });
    // Only the row as read: a change queued again meanwhile is purged again.
    if (error === null || row.attempts + 1 >= MAX_ATTEMPTS) {
      if (error !== null) logger.warning("Gave up purging {url}: {error}", { url: row.url, error });
      await db.run(sql`DELETE FROM purges WHERE url = ${row.url} AND next_attempt_at = ${row.next}`);
      return error === null ? 1 : 0;
    }
    const delay = Math.min(this.#retry.maxMs, this.#retry.initialMs * 2 ** row.attempts);
    if (row.attempts === 0) logger.warning("Purging {url} failed ({error}); retrying", { url: row.url, error });
    await db.run(
      sql`UPDATE purges SET attempts = ${row.attempts + 1}, next_attempt_at = ${this.#now() + delay},
          last_error = ${error.slice(0, 300)} WHERE url = ${row.url} AND next_attempt_at = ${row.next}`,
    );
    return 0;
  }
}

/** Purges waiting (for the status view): how many, the oldest, the last error. */
export async function purgeStatus(
  db: Queryable,
): Promise<{ waiting: number; failing: number; oldest: number | null; lastError: string | null }> {
  const row = await db.get<{ waiting: number; failing: number; oldest: number | null }>(
    sql`SELECT count(*) AS waiting, sum(CASE WHEN attempts > 0 THEN 1 ELSE 0 END) AS failing,
        min(created_at) AS oldest FROM purges`,
  );
  const last = await db.get<{ e: string }>(
    sql`SELECT last_error AS e FROM purges WHERE last_error IS NOT NULL ORDER BY next_attempt_at DESC LIMIT 1`,
  );
  return {
    waiting: Number(row?.waiting ?? 0),
    failing: Number(row?.failing ?? 0),
    oldest: row?.oldest == null ? null : Number(row.oldest),
    lastError: last?.e ?? null,
  };
}
