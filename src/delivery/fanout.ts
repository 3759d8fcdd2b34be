import { DELIVERABLE } from "../product/followers.ts";
import { CHANNELS, type Database, type Queryable } from "../storage/database.ts";
import { sql } from "../storage/sql.ts";
import { PARTITIONS } from "./partitions.ts";

export interface OutgoingActivity {
  activityIri: string;
  kind: string;
  postId: string | null;
  /** The JSON body as it will be sent. */
  body: string;
}

async function storeActivity(tx: Queryable, activity: OutgoingActivity, now: number): Promise<number> {
  const row = await tx.get<{ id: number }>(
    sql`INSERT INTO outgoing (activity_iri, kind, post_id, body, created_at)
        VALUES (${activity.activityIri}, ${activity.kind}, ${activity.postId}, ${activity.body}, ${now}) RETURNING id`,
  );
  return Number(row?.id);
}

/**
 * Queues an activity for every follower's server in one transaction: one
 * delivery per shared inbox (one request per server, however many followers
 * it has), one per personal inbox for followers without one. Done in SQL, so
 * a million followers never become a list in memory. Blocked servers and
 * pending followers are left out. Returns how many deliveries were queued.
 */
export async function fanOut(
  db: Queryable,
  activity: OutgoingActivity,
  now: number = Date.now(),
): Promise<{ outgoingId: number; deliveries: number }> {
  return await db.transaction(async (tx) => {
    const outgoingId = await storeActivity(tx, activity, now);
    // Never to ourselves (a follower record pointing at our own origin).
    const own = `${new URL(activity.activityIri).origin}/%`;
    const deliveries = await tx.run(
      sql`INSERT INTO deliveries (outgoing_id, post_id, inbox, host, partition, status, attempts, next_attempt_at, updated_at)
          SELECT ${outgoingId}, ${activity.postId}, target, host, lectern_partition(host, ${PARTITIONS}), 'pending', 0, ${now}, ${now}
          FROM (
            SELECT coalesce(shared_inbox, inbox) AS target, min(host) AS host
            FROM followers WHERE ${DELIVERABLE}
            GROUP BY coalesce(shared_inbox, inbox)
          ) AS targets
          WHERE target NOT LIKE ${own}`,
    );
    return { outgoingId, deliveries };
  });
}

/** Queues an activity for one inbox (an Accept, a Reject, a revocation). */
export async function deliverTo(
  db: Queryable,
  activity: OutgoingActivity,
  inbox: string,
  now: number = Date.now(),
): Promise<number> {
  const host = new URL(inbox).host.toLowerCase();
  return await db.transaction(async (tx) => {
    const outgoingId = await storeActivity(tx, activity, now);
    await tx.run(
      sql`INSERT INTO deliveries (outgoing_id, post_id, inbox, host, partition, status, attempts, next_attempt_at, updated_at)
          VALUES (${outgoingId}, ${activity.postId}, ${inbox}, ${host}, lectern_partition(${host}, ${PARTITIONS}),
                  'pending', 0, ${now}, ${now})`,
    );
    return outgoingId;
  });
}

/** Wakes the delivery workers (in every process on PostgreSQL; this process on SQLite, others poll). */
export async function wakeDeliveries(db: Database): Promise<void> {
  await db.notify(CHANNELS.deliveries);
}
