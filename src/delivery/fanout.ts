import type { Db } from "../storage/db.ts";
import { outgoing } from "../storage/schema.ts";

export interface OutgoingActivity {
  activityIri: string;
  kind: string;
  postId: string | null;
  /** The JSON body as it will be sent. */
  body: string;
}

/**
 * Queues an activity for every follower's server in one transaction: one
 * delivery per shared inbox (one request per server, however many followers
 * it has), one per personal inbox for followers without one. Done in SQL, so
 * a million followers never become a list in memory. Blocked servers and
 * pending followers are left out. Returns how many deliveries were queued.
 */
export function fanOut(
  db: Db,
  activity: OutgoingActivity,
  now: number = Date.now(),
  /** Runs in the same transaction (e.g. marking the post queued). */
  alongside?: () => void,
): { outgoingId: number; deliveries: number } {
  const c = db.$client;
  const queued = c.transaction(() => {
    const row = db
      .insert(outgoing)
      .values({ ...activity, createdAt: now })
      .returning({ id: outgoing.id })
      .get();
    const result = c
      .prepare(
        `INSERT INTO deliveries (outgoing_id, post_id, inbox, host, status, attempts, next_attempt_at, updated_at)
         SELECT ?, ?, target, lower(host), 'pending', 0, ?, ?
         FROM (
           SELECT coalesce(shared_inbox, inbox) AS target, min(host) AS host
           FROM followers
           WHERE status = 'accepted'
             AND host NOT IN (SELECT value FROM blocks WHERE kind = 'domain')
           GROUP BY coalesce(shared_inbox, inbox)
         )
         WHERE target NOT LIKE ?`,
      )
      // Never to ourselves (a follower record pointing at our own origin).
      .run(row.id, activity.postId, now, now, `${new URL(activity.activityIri).origin}/%`);
    alongside?.();
    return { outgoingId: row.id, deliveries: result.changes };
  })();
  notify(db);
  return queued;
}

/** Queues an activity for one inbox (e.g. a revocation to one server). */
export function deliverTo(db: Db, activity: OutgoingActivity, inbox: string, now: number = Date.now()): number {
  const c = db.$client;
  const id = c.transaction(() => {
    const row = db
      .insert(outgoing)
      .values({ ...activity, createdAt: now })
      .returning({ id: outgoing.id })
      .get();
    c.prepare(
      `INSERT INTO deliveries (outgoing_id, post_id, inbox, host, status, attempts, next_attempt_at, updated_at)
       VALUES (?, ?, ?, ?, 'pending', 0, ?, ?)`,
    ).run(row.id, activity.postId, inbox, new URL(inbox).host.toLowerCase(), now, now);
    return row.id;
  })();
  notify(db);
  return id;
}

const listeners = new WeakMap<Db, Set<() => void>>();

/** Calls `fn` whenever this process queues deliveries (the worker wakes at once instead of polling). */
export function onFanOut(db: Db, fn: () => void): () => void {
  let set = listeners.get(db);
  if (set === undefined) {
    set = new Set();
    listeners.set(db, set);
  }
  set.add(fn);
  return () => set.delete(fn);
}

function notify(db: Db): void {
  for (const fn of listeners.get(db) ?? []) fn();
}

/** Tells this process's delivery worker a post was stored (it queues its Create at once). */
export function notifyNewPost(db: Db): void {
  notify(db);
}
