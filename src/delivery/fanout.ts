import { activeTraceParent } from "../shared/metrics.ts";
import { CHANNELS, type Database, type Queryable } from "../storage/database.ts";
import { acquireLease } from "../storage/leases.ts";
import { sql } from "../storage/sql.ts";
import { PARTITIONS } from "./partitions.ts";

export interface OutgoingActivity {
  activityIri: string;
  kind: string;
  postId: string | null;
  /** The JSON body as it will be sent. */
  body: string;
}

/** Targets queued per transaction at most: a chunk of a fan-out (see {@link queueNextChunk}). */
export const QUEUE_CHUNK = 1_000;
/** The first chunk of an activity: small, so the first deliveries leave within milliseconds. */
const FIRST_CHUNK = 200;

async function storeActivity(
  tx: Queryable,
  activity: OutgoingActivity,
  now: number,
  queuedAll: boolean,
  queued: number,
): Promise<number> {
  const row = await tx.get<{ id: number }>(
    sql`INSERT INTO outgoing (activity_iri, kind, post_id, body, queued_all, queued, created_at, trace_parent)
        VALUES (${activity.activityIri}, ${activity.kind}, ${activity.postId}, ${activity.body}, ${queuedAll},
                ${queued}, ${now}, ${activeTraceParent()})
        RETURNING id`,
  );
  return Number(row?.id);
}

/**
 * Stores an activity for every follower's server. Only the activity is
 * written here (one row, in the caller's transaction); the workers then
 * queue one delivery per delivery target — a shared inbox, or the personal
 * inbox of a follower without one — in short chunks ({@link queueNextChunk}),
 * and the first deliveries leave while later chunks are still being queued.
 */
export async function fanOut(db: Queryable, activity: OutgoingActivity, now: number = Date.now()): Promise<number> {
  return await storeActivity(db, activity, now, false, 0);
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
    const outgoingId = await storeActivity(tx, activity, now, true, 1);
    await tx.run(
      sql`INSERT INTO deliveries (outgoing_id, post_id, inbox, host, partition, status, attempts, next_attempt_at, updated_at)
          VALUES (${outgoingId}, ${activity.postId}, ${inbox}, ${host}, lectern_partition(${host}, ${PARTITIONS}),
                  'pending', 0, ${now}, ${now})`,
    );
    return outgoingId;
  });
}

/** What one queueing step did. */
export interface QueuedChunk {
  /** Deliveries queued by this step. */
  queued: number;
  /** Whether an activity is still not fully queued. */
  more: boolean;
  /** The activity this step queued for, and whether that finished it. */
  activity?: number;
  finished?: boolean;
  /**
   * On PostgreSQL: how long the statement ran in the database once it held the activity's row (the
   * step's own time also counts waiting for this process, and for the chunk sent before it).
   */
  databaseMs?: number;
}

/**
 * Queues the next chunk of the oldest activity not yet queued for every
 * target: the next {@link QUEUE_CHUNK} targets in inbox order (the first
 * chunk smaller, so the first deliveries leave sooner), in one short
 * transaction. Inbox order spreads each chunk over every partition, so every
 * worker has deliveries from the first chunk on. Where it got to is written
 * with the chunk, so a crash resumes at the next one (nothing queued twice,
 * nothing skipped). Activities are queued one after the other, in the order
 * they were stored, so a post's Update never reaches an inbox before its Create.
 *
 * Each chunk reads the targets as they are when it runs: a post reaches the
 * followers of the moment its chunk was queued (normally within a second of
 * publishing); someone who follows or leaves while it is being queued may or
 * may not get it.
 *
 * Blocked servers, empty targets and our own origin are skipped.
 */
export async function queueNextChunk(db: Queryable, ownOrigin: string, now: number = Date.now()): Promise<QueuedChunk> {
  if (db.dialect === "postgres") return await queueNextChunkPostgres(db, ownOrigin, now);
  return await db.transaction(async (tx) => {
    const next = await tx.get<{ id: number; post_id: string | null; after: string | null }>(
      sql`SELECT id, post_id, queued_after AS after FROM outgoing WHERE queued_all = ${false} ORDER BY id LIMIT 1`,
    );
    if (next === undefined) return { queued: 0, more: false };
    const own = `${ownOrigin}/%`;
    const after = next.after;
    // Claims this step (another process racing for the same chunk finds nothing to change and stops).
    const claimed = await tx.run(
      sql`UPDATE outgoing SET queued_after = queued_after
          WHERE id = ${next.id} AND queued_all = ${false} AND coalesce(queued_after, '') = ${after ?? ""}`,
    );
    if (claimed === 0) return { queued: 0, more: true, activity: next.id, finished: false };
    const size = after === null ? FIRST_CHUNK : QUEUE_CHUNK;
    const from = after === null ? sql.empty : sql` AND inbox > ${after}`;
    // The chunk's last target, when there are more than a chunk's worth left.
    const end = await tx.get<{ inbox: string }>(
      sql`SELECT inbox FROM delivery_targets WHERE true${from} ORDER BY inbox LIMIT 1 OFFSET ${size - 1}`,
    );
    const upTo = end === undefined ? sql.empty : sql` AND inbox <= ${end.inbox}`;
    const queued = await tx.run(
      sql`INSERT INTO deliveries (outgoing_id, post_id, inbox, host, partition, status, attempts, next_attempt_at, updated_at)
          SELECT ${next.id}, ${next.post_id}, inbox, host, partition, 'pending', 0, ${now}, ${now}
          FROM delivery_targets
          WHERE followers > 0${from}${upTo} AND inbox NOT LIKE ${own}
            AND host NOT IN (SELECT value FROM blocks WHERE kind = 'domain')`,
    );
    const finished = end === undefined;
    await tx.run(
      sql`UPDATE outgoing SET queued_all = ${finished}, queued_after = ${finished ? null : end.inbox},
            queued = queued + ${queued}
          WHERE id = ${next.id}`,
    );
    return { queued, more: true, activity: next.id, finished };
  });
}

/**
 * The same step on PostgreSQL, as one statement: a transaction of several
 * statements would stay open while the worker's event loop, busy sending,
 * gets round to each answer (360 ms seen at 50,000 servers, for 20 ms of work).
 * The activity's row is locked first, so statements sent together (see
 * FanOutQueuer) take turns, each reading where the one before got to.
 */
async function queueNextChunkPostgres(db: Queryable, ownOrigin: string, now: number): Promise<QueuedChunk> {
  const row = await db.get<{ id: number | null; queued: number; finished: boolean; more: boolean; ms: number }>(
    sql`WITH next AS (
          SELECT id, post_id, queued_after, queued_after IS NULL AS first FROM outgoing
          WHERE queued_all = false ORDER BY id LIMIT 1 FOR UPDATE
        ), sized AS (
          -- read once the activity's row is locked: the time from here is the chunk's own
          SELECT CASE WHEN first THEN ${FIRST_CHUNK}::integer ELSE ${QUEUE_CHUNK}::integer END AS size,
                 clock_timestamp() AS locked_at
          FROM next
        ), chunk AS (
          SELECT t.inbox, t.host, t.partition, t.followers FROM delivery_targets t, next
          WHERE t.inbox > coalesce(next.queued_after, '')
          ORDER BY t.inbox
          LIMIT (SELECT size FROM sized)
        ), added AS (
          INSERT INTO deliveries (outgoing_id, post_id, inbox, host, partition, status, attempts, next_attempt_at, updated_at)
          SELECT next.id, next.post_id, c.inbox, c.host, c.partition, 'pending', 0, ${now}::bigint, ${now}::bigint
          FROM chunk c, next
          WHERE c.followers > 0 AND c.inbox NOT LIKE ${`${ownOrigin}/%`}
            AND c.host NOT IN (SELECT value FROM blocks WHERE kind = 'domain')
          RETURNING 1
        ), moved AS (
          UPDATE outgoing SET
            queued_after = CASE WHEN (SELECT count(*) FROM chunk) < (SELECT size FROM sized)
                             THEN NULL ELSE (SELECT max(inbox) FROM chunk) END,
            queued_all = (SELECT count(*) FROM chunk) < (SELECT size FROM sized),
            queued = queued + (SELECT count(*) FROM added)
          WHERE id = (SELECT id FROM next)
          RETURNING id, queued_all
        )
        SELECT (SELECT id FROM moved) AS id, (SELECT count(*) FROM added) AS queued,
               coalesce((SELECT queued_all FROM moved), true) AS finished,
               EXISTS (SELECT 1 FROM outgoing WHERE queued_all = false AND id <> coalesce((SELECT id FROM moved), 0))
                 OR NOT coalesce((SELECT queued_all FROM moved), true) AS more,
               extract(epoch FROM clock_timestamp() - coalesce((SELECT locked_at FROM sized), statement_timestamp())) * 1000
                 AS ms`,
  );
  if (row?.id == null) return { queued: 0, more: false };
  const finished = row.finished === true;
  return {
    queued: Number(row.queued),
    more: row.more === true || !finished,
    activity: Number(row.id),
    finished,
    databaseMs: Number(row.ms),
  };
}

/** Whether some activity is waiting to be queued (a cheap look, before taking the queueing lease). */
export async function fanOutsWaiting(db: Queryable): Promise<boolean> {
  return (await db.get(sql`SELECT 1 AS x FROM outgoing WHERE queued_all = ${false} LIMIT 1`)) !== undefined;
}

/**
 * The lease a worker holds while it queues fan-outs: one process queues at a
 * time, in order. Looked at before it is written: on SQLite a write waits for
 * the queueing worker's chunk to end, and a worker that only wanted to know
 * would stall meanwhile.
 */
export async function takeQueueing(db: Queryable, worker: string, ttlMs: number, now: number = Date.now()) {
  const held = await db.get<{ owner: string; expires_at: number }>(
    sql`SELECT owner, expires_at FROM leases WHERE name = 'queueing'`,
  );
  if (held !== undefined && held.owner !== worker && Number(held.expires_at) > now) return false;
  return await acquireLease(db, "queueing", worker, ttlMs, now);
}

/** Removes targets no follower is behind any more (daily: a row at 0 costs nothing until then). */
export async function sweepEmptyTargets(db: Queryable): Promise<number> {
  return await db.run(sql`DELETE FROM delivery_targets WHERE followers <= 0`);
}

/** Wakes the delivery workers (in every process on PostgreSQL; this process on SQLite, others poll). */
export async function wakeDeliveries(db: Database): Promise<void> {
  await db.notify(CHANNELS.deliveries);
}
