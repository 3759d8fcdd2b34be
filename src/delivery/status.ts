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
  /** Fedify's queue (inbox work). */
  queue: number;
}

export async function deliveryStatus(db: Queryable, now: number = Date.now()): Promise<DeliveryStatus> {
  const n = async (query: ReturnType<typeof sql>) => Number((await db.get<{ n: number }>(query))?.n ?? 0);
  const workers = (await liveLeases(db, "worker:", now)).map((l) => l.owner);
  const partitions = await liveLeases(db, "partition:", now);
  const delivered = await n(
    sql`SELECT count(*) AS n FROM deliveries WHERE status = 'delivered' AND updated_at > ${now - 60_000}`,
  );
  return {
    workers: workers.map((id) => ({ id, partitions: partitions.filter((p) => p.owner === id).length })),
    due: await n(sql`SELECT count(*) AS n FROM deliveries WHERE status = 'pending' AND next_attempt_at <= ${now}`),
    retrying: await n(sql`SELECT count(*) AS n FROM deliveries WHERE status = 'pending' AND next_attempt_at > ${now}`),
    sending: await n(sql`SELECT count(*) AS n FROM deliveries WHERE status = 'sending'`),
    deliveredLastMinute: delivered,
    perSecond: Math.round((delivered / 60) * 10) / 10,
    pausedServers: await n(sql`SELECT count(*) AS n FROM servers WHERE probe_at IS NOT NULL`),
    postsWaiting: await n(sql`SELECT count(*) AS n FROM posts WHERE queued_at IS NULL AND deleted_at IS NULL`),
    queue: await n(sql`SELECT count(*) AS n FROM queue`),
  };
}
