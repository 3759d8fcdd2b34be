import { and, asc, eq, gt, isNotNull, isNull, sql } from "drizzle-orm";
import type { Db } from "../storage/db.ts";
import { blocks, followers } from "../storage/schema.ts";

export type Follower = typeof followers.$inferSelect;

export interface NewFollower {
  actorIri: string;
  followIri: string | null;
  inbox: string;
  sharedInbox: string | null;
  handle: string | null;
  /** "pending" while waiting for the author's approval; "accepted" by default. */
  status?: "accepted" | "pending";
}

/** Stores a follower, or refreshes what we know of one who follows again (an accepted follower stays accepted). */
export function addFollower(db: Db, f: NewFollower, now: number = Date.now()): Follower {
  const host = new URL(f.actorIri).host.toLowerCase();
  const status = f.status ?? "accepted";
  return db
    .insert(followers)
    .values({ ...f, status, host, createdAt: now })
    .onConflictDoUpdate({
      target: followers.actorIri,
      set: {
        followIri: f.followIri,
        inbox: f.inbox,
        sharedInbox: f.sharedInbox,
        handle: f.handle,
        host,
        status: sql`case when ${followers.status} = 'accepted' then 'accepted' else ${status} end`,
      },
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

export function countFollowers(db: Db, status: "accepted" | "pending" = "accepted"): number {
  return db.select({ n: sql<number>`count(*)` }).from(followers).where(eq(followers.status, status)).get()?.n ?? 0;
}

/** Marks a pending follower accepted; false when there was no such pending follower. */
export function approveFollower(db: Db, actorIri: string): boolean {
  return (
    db
      .update(followers)
      .set({ status: "accepted" })
      .where(and(eq(followers.actorIri, actorIri), eq(followers.status, "pending")))
      .run().changes > 0
  );
}

/** Followers in the order they came, after the given row id. */
export function listFollowers(
  db: Db,
  limit: number,
  afterId = 0,
  status: "accepted" | "pending" = "accepted",
): { items: Follower[]; next: number | null } {
  const rows = db
    .select()
    .from(followers)
    .where(and(gt(followers.id, afterId), eq(followers.status, status)))
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
  // Accepted followers on servers that are not blocked (blocking removes them too; this is the second lock).
  const deliverable = and(
    eq(followers.status, "accepted"),
    sql`${followers.host} not in (select ${blocks.value} from ${blocks} where ${blocks.kind} = 'domain')`,
  );
  const shared = db
    .select({
      actorIri: sql<string>`min(${followers.actorIri})`,
      inbox: sql<string>`min(${followers.inbox})`,
      sharedInbox: followers.sharedInbox,
    })
    .from(followers)
    .where(and(isNotNull(followers.sharedInbox), deliverable))
    .groupBy(followers.sharedInbox)
    .all();
  const personal = db
    .select({ actorIri: followers.actorIri, inbox: followers.inbox, sharedInbox: followers.sharedInbox })
    .from(followers)
    .where(and(isNull(followers.sharedInbox), deliverable))
    .all();
  return [...shared, ...personal];
}
