import { asc, eq, gt, isNotNull, isNull, sql } from "drizzle-orm";
import type { Db } from "../storage/db.ts";
import { followers } from "../storage/schema.ts";

export type Follower = typeof followers.$inferSelect;

export interface NewFollower {
  actorIri: string;
  followIri: string | null;
  inbox: string;
  sharedInbox: string | null;
  handle: string | null;
}

/** Stores a follower, or refreshes what we know of one who follows again. */
export function addFollower(db: Db, f: NewFollower, now: number = Date.now()): Follower {
  const host = new URL(f.actorIri).host.toLowerCase();
  return db
    .insert(followers)
    .values({ ...f, host, createdAt: now })
    .onConflictDoUpdate({
      target: followers.actorIri,
      set: { followIri: f.followIri, inbox: f.inbox, sharedInbox: f.sharedInbox, handle: f.handle, host },
    })
    .returning()
    .get();
}

export function getFollower(db: Db, actorIri: string): Follower | undefined {
  return db.select().from(followers).where(eq(followers.actorIri, actorIri)).get();
}

/** Removes a follower; true when there was one. */
export function removeFollower(db: Db, actorIri: string): boolean {
  return db.delete(followers).where(eq(followers.actorIri, actorIri)).run().changes > 0;
}

export function countFollowers(db: Db): number {
  return db.select({ n: sql<number>`count(*)` }).from(followers).get()?.n ?? 0;
}

/** Followers in the order they came, after the given row id. */
export function listFollowers(db: Db, limit: number, afterId = 0): { items: Follower[]; next: number | null } {
  const rows = db
    .select()
    .from(followers)
    .where(gt(followers.id, afterId))
    .orderBy(asc(followers.id))
    .limit(limit + 1)
    .all();
  const items = rows.slice(0, limit);
  return { items, next: rows.length > limit ? (items.at(-1)?.id ?? null) : null };
}

export interface DeliveryTarget {
  /** One follower's actor id on that server (Fedify wants an actor per inbox). */
  actorIri: string;
  inbox: string;
  sharedInbox: string | null;
}

/**
 * One target per inbox a post must reach: a single follower for each shared
 * inbox (one POST per server reaches all its followers), plus every follower
 * whose server has no shared inbox. A million followers on ten thousand
 * servers make about ten thousand rows here, not a million.
 */
export function deliveryTargets(db: Db): DeliveryTarget[] {
  const shared = db
    .select({ actorIri: sql<string>`min(${followers.actorIri})`, inbox: sql<string>`min(${followers.inbox})`, sharedInbox: followers.sharedInbox })
    .from(followers)
    .where(isNotNull(followers.sharedInbox))
    .groupBy(followers.sharedInbox)
    .all();
  const personal = db
    .select({ actorIri: followers.actorIri, inbox: followers.inbox, sharedInbox: followers.sharedInbox })
    .from(followers)
    .where(isNull(followers.sharedInbox))
    .all();
  return [...shared, ...personal];
}
