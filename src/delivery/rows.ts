import type { Config } from "../shared/config.ts";
import type { Queryable } from "../storage/database.ts";
import { sql } from "../storage/sql.ts";

/*
 * The delivery tables as the workers use them: what to claim, and what each
 * answer changes. The worker (worker.ts) decides when; this says how, in SQL
 * shared by SQLite and PostgreSQL.
 */

/** How long a paused server waits between probes. */
export const PROBE_EVERY_MS = 12 * 3600_000;
const DAY_MS = 86_400_000;

/** A delivery a worker holds: where to, how far it got, what we know of the server. */
export interface Claimed {
  id: number;
  inbox: string;
  host: string;
  partition: number;
  attempts: number;
  outgoing_id: number;
  next_attempt_at: number;
  probe_at: number | null;
  signature: string | null;
  /** The server has a failure record to clear on success. */
  failing: unknown;
}

/** Where a worker's walk through its due rows got to: the last row it looked at, in (due time, id) order. */
export interface ClaimCursor {
  at: number;
  id: number;
}

/**
 * Takes due rows of the worker's partitions, in the order they fell due (a
 * post's activities to one inbox in order), walking on from `after`: at most
 * `perServer` in flight to one server counting what it already sends
 * (`busy`), one probe at a time to a paused server. Nothing is written for a
 * claim (but a probe's next time): the partitions are this worker's alone,
 * and `exclude` holds the rows it already has in flight or has yet to record.
 * `end` says the walk reached the last due row; the next walk starts over,
 * which gives rows passed over for a busy server their turn.
 */
export async function claimRows(
  db: Queryable,
  o: {
    limit: number;
    partitions: number[];
    now: number;
    perServer: number;
    busy: ReadonlyMap<string, number>;
    exclude: ReadonlySet<number>;
    after: ClaimCursor | null;
  },
): Promise<{ taken: Claimed[]; last: ClaimCursor | null; end: boolean }> {
  const scan = o.limit * 4;
  const after = o.after === null ? sql.empty : sql` AND (d.next_attempt_at, d.id) > (${o.after.at}, ${o.after.id})`;
  const rows = await db.all<Claimed>(
    sql`SELECT d.id, d.inbox, d.host, d.partition, d.attempts, d.outgoing_id, d.next_attempt_at, s.probe_at, s.signature,
               (s.failing_since IS NOT NULL OR s.probe_at IS NOT NULL) AS failing
        FROM deliveries d LEFT JOIN servers s ON s.host = d.host
        WHERE d.status = 'pending' AND d.next_attempt_at <= ${o.now}${after}
          AND d.partition IN (${sql.join(o.partitions)})
          AND (s.probe_at IS NULL OR s.probe_at <= ${o.now})
          AND NOT EXISTS (SELECT 1 FROM deliveries e
                          WHERE e.inbox = d.inbox AND e.post_id = d.post_id AND e.id < d.id AND e.status = 'pending')
        ORDER BY d.next_attempt_at, d.id LIMIT ${scan}`,
  );
  const taken: Claimed[] = [];
  const hosts = new Map(o.busy);
  const probes = new Set<string>();
  let last: ClaimCursor | null = o.after;
  for (const row of rows) {
    if (taken.length >= o.limit) break;
    last = { at: Number(row.next_attempt_at), id: Number(row.id) };
    if (o.exclude.has(Number(row.id))) continue;
    const busy = hosts.get(row.host) ?? 0;
    // A paused server gets one probe at a time, and the next probe later.
    if (busy >= (row.probe_at !== null ? 1 : o.perServer)) continue;
    hosts.set(row.host, busy + 1);
    if (row.probe_at !== null) probes.add(row.host);
    taken.push(row);
  }
  for (const host of probes) {
    await db.run(sql`UPDATE servers SET probe_at = ${o.now + PROBE_EVERY_MS} WHERE host = ${host}`);
  }
  return { taken, last, end: rows.length < scan && taken.length < o.limit };
}

/**
 * Successes, written together: their rows are deleted (an activity's
 * deliveries are what was queued less what remains, so nothing else is
 * written, and no row is shared by the workers recording at once). Servers
 * that answered after failing are well again. Returns how many rows went.
 */
export async function recordDelivered(db: Queryable, done: { id: number; at: number; host: string | null }[]) {
  return await db.transaction(async (tx) => {
    let deleted = 0;
    for (let i = 0; i < done.length; i += 500) {
      deleted += await tx.run(
        sql`DELETE FROM deliveries WHERE id IN (${sql.join(done.slice(i, i + 500).map((d) => d.id))})`,
      );
    }
    const at = done[done.length - 1].at;
    for (const host of new Set(done.flatMap((d) => (d.host === null ? [] : [d.host])))) {
      await tx.run(
        sql`UPDATE servers SET failing_since = NULL, failure_days = 0, last_failure_day = NULL,
              last_success_at = ${at}, probe_at = NULL
            WHERE host = ${host}`,
      );
    }
    return deleted;
  });
}

/**
 * What a failed attempt changes: a server refusing one signature scheme is
 * asked again with the other (remembered); a 4xx other than 404, 408, 410 and 429 is
 * final; anything else is retried with exponential backoff and jitter (and
 * `Retry-After`), and a server failing on `pauseAfterDays` distinct days is
 * paused. 404 and 410 are retried like any failure: one answer from a shared
 * inbox (a proxy misconfigured for five minutes) must not silently cost
 * every follower behind it.
 */
export async function recordFailure(
  db: Queryable,
  row: Claimed,
  answer: { status: number | null; error: string | null; spec: string; retryAfterMs: number | null },
  policy: Config["delivery"],
  now: number,
): Promise<{ status: "pending" | "failed" | "given_up"; paused: boolean; days: number }> {
  const { status, error } = answer;
  const set = (values: { status: string; attempts: number; next?: number }) =>
    db.run(
      sql`UPDATE deliveries SET status = ${values.status}, attempts = ${values.attempts},
            next_attempt_at = ${values.next ?? now}, last_status = ${status}, last_error = ${error},
            updated_at = ${now}
          WHERE id = ${row.id}`,
    );
  const attempts = Number(row.attempts);
  // A refused signature is tried once in the other scheme, and what works is remembered: RFC 9421 refused
  // means draft-cavage for good ("cavage-only"); draft-cavage refused means RFC 9421, unless that was refused.
  if ((status === 401 || status === 403) && attempts === 0 && row.signature !== "cavage-only") {
    const next = answer.spec === "rfc9421" ? "cavage-only" : "rfc9421";
    await db.run(
      sql`INSERT INTO servers (host, signature) VALUES (${row.host}, ${next})
          ON CONFLICT (host) DO UPDATE SET signature = ${next}`,
    );
    await set({ status: "pending", attempts });
    return { status: "pending", paused: false, days: 0 };
  }
  const retryable =
    status === null || status === 404 || status === 408 || status === 410 || status === 429 || status >= 500;
  if (!retryable || status === -1) {
    await set({ status: "failed", attempts: attempts + 1 });
    return { status: "failed", paused: false, days: 0 };
  }
  const day = Math.floor(now / DAY_MS);
  const server = await db.get<{ failure_days: number; last_failure_day: number | null }>(
    sql`SELECT failure_days, last_failure_day FROM servers WHERE host = ${row.host}`,
  );
  const before = Number(server?.failure_days ?? 0);
  const days = before + (server?.last_failure_day != null && Number(server.last_failure_day) === day ? 0 : 1);
  const probeAt = days >= policy.pauseAfterDays ? now + PROBE_EVERY_MS : null;
  await db.run(
    sql`INSERT INTO servers (host, failing_since, failure_days, last_failure_day, probe_at, last_error)
        VALUES (${row.host}, ${now}, ${days}, ${day}, ${probeAt}, ${error})
        ON CONFLICT (host) DO UPDATE SET failing_since = coalesce(servers.failing_since, excluded.failing_since),
          failure_days = excluded.failure_days, last_failure_day = excluded.last_failure_day, probe_at = excluded.probe_at,
          last_error = excluded.last_error`,
  );
  const paused = days >= policy.pauseAfterDays && before < policy.pauseAfterDays;
  if (attempts + 1 >= policy.maxAttempts) {
    await set({ status: "given_up", attempts: attempts + 1 });
    return { status: "given_up", paused, days };
  }
  const backoff = Math.min(policy.retryMaxMs, policy.retryInitialMs * 2 ** attempts);
  const jittered = backoff * (0.75 + Math.random() * 0.5);
  await set({
    status: "pending",
    attempts: attempts + 1,
    next: now + Math.round(Math.max(jittered, answer.retryAfterMs ?? 0)),
  });
  return { status: "pending", paused, days };
}

/** When the next pending delivery of these partitions is due; null when none is pending. */
export async function nextRetryAt(db: Queryable, partitions: number[]): Promise<number | null> {
  const row = await db.get<{ t: number | null }>(
    sql`SELECT min(next_attempt_at) AS t FROM deliveries WHERE status = 'pending' AND partition IN (${sql.join(partitions)})`,
  );
  return row?.t == null ? null : Number(row.t);
}

/** A stored activity as it is sent: its JSON body, when it was stored, its kind and trace. */
export interface StoredActivity {
  body: string;
  createdAt: number;
  kind: string;
  traceParent: string | null;
}

export async function outgoingActivity(db: Queryable, outgoingId: number): Promise<StoredActivity | undefined> {
  const row = await db.get<{ body: string; created_at: number; kind: string; trace_parent: string | null }>(
    sql`SELECT body, created_at, kind, trace_parent FROM outgoing WHERE id = ${outgoingId}`,
  );
  return row && { body: row.body, createdAt: Number(row.created_at), kind: row.kind, traceParent: row.trace_parent };
}
