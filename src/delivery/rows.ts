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
  probe_at: number | null;
  signature: string | null;
  /** The server has a failure record to clear on success. */
  failing: unknown;
}

/**
 * Rows of the worker's partitions left `sending` by a worker that died (or
 * stalled past its lease) go back to `pending`: they are sent again, with the
 * same activity id. Partitions belong to one worker, so any other owner is gone.
 */
export async function reclaimRows(db: Queryable, partitions: number[], worker: string, now: number): Promise<number> {
  return await db.run(
    sql`UPDATE deliveries SET status = 'pending', owner = NULL, lease_until = NULL, next_attempt_at = ${now}
        WHERE status = 'sending' AND partition IN (${sql.join(partitions)})
          AND (owner IS NULL OR owner <> ${worker} OR lease_until < ${now})`,
  );
}

/**
 * Leases due rows from the worker's partitions (oldest due first; a post's
 * activities to one inbox in order), at most `perServer` in flight to one
 * server counting what it already sends (`busy`), one probe at a time to a
 * paused server. `FOR UPDATE SKIP LOCKED` on PostgreSQL; SQLite's write lock.
 */
export async function claimRows(
  db: Queryable,
  o: {
    limit: number;
    partitions: number[];
    worker: string;
    now: number;
    leaseUntil: number;
    perServer: number;
    busy: ReadonlyMap<string, number>;
  },
): Promise<Claimed[]> {
  return await db.transaction(async (tx) => {
    const rows = await tx.all<Claimed>(
      sql`SELECT d.id, d.inbox, d.host, d.partition, d.attempts, d.outgoing_id, s.probe_at, s.signature,
                 (s.failing_since IS NOT NULL OR s.probe_at IS NOT NULL) AS failing
          FROM deliveries d LEFT JOIN servers s ON s.host = d.host
          WHERE d.status = 'pending' AND d.next_attempt_at <= ${o.now}
            AND d.partition IN (${sql.join(o.partitions)})
            AND (s.probe_at IS NULL OR s.probe_at <= ${o.now})
            AND NOT EXISTS (SELECT 1 FROM deliveries e
                            WHERE e.inbox = d.inbox AND e.post_id = d.post_id AND e.id < d.id
                              AND e.status IN ('pending', 'sending'))
          ORDER BY d.next_attempt_at, d.id LIMIT ${o.limit * 4}
          ${tx.dialect === "postgres" ? sql`FOR UPDATE OF d SKIP LOCKED` : sql.empty}`,
    );
    const taken: Claimed[] = [];
    const hosts = new Map(o.busy);
    const probes = new Set<string>();
    for (const row of rows) {
      if (taken.length >= o.limit) break;
      const busy = hosts.get(row.host) ?? 0;
      // A paused server gets one probe at a time, and the next probe later.
      if (busy >= (row.probe_at !== null ? 1 : o.perServer)) continue;
      hosts.set(row.host, busy + 1);
      if (row.probe_at !== null) probes.add(row.host);
      taken.push(row);
    }
    if (taken.length > 0) {
      await tx.run(
        sql`UPDATE deliveries SET status = 'sending', owner = ${o.worker}, lease_until = ${o.leaseUntil}, updated_at = ${o.now}
            WHERE id IN (${sql.join(taken.map((r) => r.id))})`,
      );
    }
    for (const host of probes) {
      await tx.run(sql`UPDATE servers SET probe_at = ${o.now + PROBE_EVERY_MS} WHERE host = ${host}`);
    }
    return taken;
  });
}

/** Successes, written together: one statement per status code answered (202 nearly always). */
export async function recordDelivered(
  db: Queryable,
  done: { id: number; status: number; at: number; host: string | null }[],
): Promise<void> {
  await db.transaction(async (tx) => {
    const byStatus = new Map<number, number[]>();
    for (const d of done) {
      const ids = byStatus.get(d.status);
      if (ids === undefined) byStatus.set(d.status, [d.id]);
      else ids.push(d.id);
    }
    const at = done[done.length - 1].at;
    for (const [status, ids] of byStatus) {
      for (let i = 0; i < ids.length; i += 500) {
        await tx.run(
          sql`UPDATE deliveries SET status = 'delivered', attempts = attempts + 1, last_status = ${status},
                last_error = NULL, owner = NULL, lease_until = NULL, updated_at = ${at}
              WHERE id IN (${sql.join(ids.slice(i, i + 500))})`,
        );
      }
    }
    // A server that answered after failing is well again.
    for (const host of new Set(done.flatMap((d) => (d.host === null ? [] : [d.host])))) {
      await tx.run(
        sql`UPDATE servers SET failing_since = NULL, failure_days = 0, last_failure_day = NULL,
              last_success_at = ${at}, probe_at = NULL
            WHERE host = ${host}`,
      );
    }
  });
}

/**
 * What a failed attempt changes: a server refusing draft-cavage is asked
 * again with RFC 9421 (remembered); a 4xx other than 404, 408, 410 and 429 is
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
            owner = NULL, lease_until = NULL, updated_at = ${now}
          WHERE id = ${row.id}`,
    );
  const attempts = Number(row.attempts);
  if ((status === 401 || status === 403) && answer.spec !== "rfc9421" && attempts === 0) {
    await db.run(
      sql`INSERT INTO servers (host, signature) VALUES (${row.host}, 'rfc9421')
          ON CONFLICT (host) DO UPDATE SET signature = 'rfc9421'`,
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
    sql`INSERT INTO servers (host, failing_since, failure_days, last_failure_day, probe_at)
        VALUES (${row.host}, ${now}, ${days}, ${day}, ${probeAt})
        ON CONFLICT (host) DO UPDATE SET failing_since = coalesce(servers.failing_since, excluded.failing_since),
          failure_days = excluded.failure_days, last_failure_day = excluded.last_failure_day, probe_at = excluded.probe_at`,
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

/** The JSON body of a stored activity, as it is sent. */
export async function outgoingBody(db: Queryable, outgoingId: number): Promise<string | undefined> {
  return (await db.get<{ body: string }>(sql`SELECT body FROM outgoing WHERE id = ${outgoingId}`))?.body;
}
