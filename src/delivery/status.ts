import type { Queryable } from "../storage/database.ts";
import { liveLeases } from "../storage/leases.ts";
import { sql } from "../storage/sql.ts";

/** What an operator watches: workers, the delivery backlog and its pace, paused servers, the inbox queue. */
export interface DeliveryStatus {
  workers: { id: string; partitions: number }[];
  /** Deliveries due now and not yet taken, waiting for a retry, being sent. */
  due: number;
  retrying: number;
  sending: number;
  /** Delivered in the last minute, and per second over it. */
  deliveredLastMinute: number;
  perSecond: number;
  /** Servers paused after failing for days (probed twice a day). */
  pausedServers: number;
  /** Posts stored but not yet turned into deliveries. */
  postsWaiting: number;
  /** Activities for every follower not fully queued yet (a fan-out in progress). */
  fanOutsQueueing: number;
  /** Fedify's queue (inbox work). */
  queue: number;
}

export async function deliveryStatus(db: Queryable, now: number = Date.now()): Promise<DeliveryStatus> {
  const n = async (query: ReturnType<typeof sql>) => Number((await db.get<{ n: number }>(query))?.n ?? 0);
  const workers = (await liveLeases(db, "worker:", now)).map((l) => l.owner);
  const partitions = await liveLeases(db, "partition:", now);
  // As each worker said at its last lease renewal (every 2 s).
  const delivered = await n(
    sql`SELECT coalesce(sum(delivered_last_minute), 0) AS n FROM leases WHERE name LIKE 'worker:%' AND expires_at > ${now}`,
  );
  const sending = await n(
    sql`SELECT coalesce(sum(in_flight), 0) AS n FROM leases WHERE name LIKE 'worker:%' AND expires_at > ${now}`,
  );
  return {
    workers: workers.map((id) => ({ id, partitions: partitions.filter((p) => p.owner === id).length })),
    // Rows in flight are due rows too (nothing marks them): "due" is what is not being sent.
    due: Math.max(
      0,
      (await n(sql`SELECT count(*) AS n FROM deliveries WHERE status = 'pending' AND next_attempt_at <= ${now}`)) -
        sending,
    ),
    retrying: await n(sql`SELECT count(*) AS n FROM deliveries WHERE status = 'pending' AND next_attempt_at > ${now}`),
    // As each worker said at its last lease renewal (every 2 s).
    sending,
    deliveredLastMinute: delivered,
    perSecond: Math.round((delivered / 60) * 10) / 10,
    pausedServers: await n(sql`SELECT count(*) AS n FROM servers WHERE probe_at IS NOT NULL`),
    postsWaiting: await n(sql`SELECT count(*) AS n FROM posts WHERE queued_at IS NULL AND deleted_at IS NULL`),
    fanOutsQueueing: await n(sql`SELECT count(*) AS n FROM outgoing WHERE queued_all = ${false}`),
    queue: await n(sql`SELECT count(*) AS n FROM queue`),
  };
}

export interface FailingServer {
  host: string;
  /** When it started failing (the first failure after a success). */
  failingSince: number;
  /** Distinct days with failures since. */
  failureDays: number;
  lastSuccessAt: number | null;
  /** Paused (after `delivery.pause_after_days`): only a probe is tried, twice a day. */
  paused: boolean;
  /** Accepted followers on that server: who is not getting posts while it fails. */
  followers: number;
  /** What it last answered when it failed. */
  lastError: string | null;
}

/** Servers failing now, the ones with the most followers first (for the desk). */
export async function failingServers(db: Queryable, limit = 50): Promise<FailingServer[]> {
  const rows = await db.all<Record<string, number | string | null>>(
    sql`SELECT s.host, s.failing_since AS since, s.failure_days AS days, s.last_success_at AS ok, s.probe_at AS probe,
          s.last_error AS error,
          (SELECT coalesce(sum(t.followers), 0) FROM delivery_targets t WHERE t.host = s.host) AS followers
        FROM servers s WHERE s.failing_since IS NOT NULL OR s.probe_at IS NOT NULL
        ORDER BY followers DESC, s.host LIMIT ${limit}`,
  );
  return rows.map((r) => ({
    host: String(r.host),
    failingSince: Number(r.since ?? 0),
    failureDays: Number(r.days ?? 0),
    lastSuccessAt: r.ok === null ? null : Number(r.ok),
    paused: r.probe !== null,
    followers: Number(r.followers),
    lastError: r.error === null ? null : String(r.error),
  }));
}
