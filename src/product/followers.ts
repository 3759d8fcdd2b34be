import type { Queryable } from "../storage/database.ts";
import { sql } from "../storage/sql.ts";

export interface Follower {
  id: number;
  actorIri: string;
  /** The Follow activity's id, kept to answer it (Accept now, Reject if removed later). */
  followIri: string | null;
  inbox: string;
  sharedInbox: string | null;
  /** Host of the actor id, lower-case: groups followers by server. */
  host: string;
  /** `@user@host` as shown to the author, when known. */
  handle: string | null;
  /** "accepted", or "pending" while the author approves followers by hand. */
  status: "accepted" | "pending";
  createdAt: number;
}

const COLUMNS = sql.raw(
  `id, actor_iri AS "actorIri", follow_iri AS "followIri", inbox, shared_inbox AS "sharedInbox", host, handle, status,
   created_at AS "createdAt"`,
);

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
export async function addFollower(db: Queryable, f: NewFollower, now: number = Date.now()): Promise<Follower> {
  const host = new URL(f.actorIri).host.toLowerCase();
  const status = f.status ?? "accepted";
  const row = await db.get<Follower>(
    sql`INSERT INTO followers (actor_iri, follow_iri, inbox, shared_inbox, host, handle, status, created_at)
        VALUES (${f.actorIri}, ${f.followIri}, ${f.inbox}, ${f.sharedInbox}, ${host}, ${f.handle}, ${status}, ${now})
        ON CONFLICT (actor_iri) DO UPDATE SET follow_iri = excluded.follow_iri, inbox = excluded.inbox,
          shared_inbox = excluded.shared_inbox, handle = excluded.handle, host = excluded.host,
          status = CASE WHEN followers.status = 'accepted' THEN 'accepted' ELSE excluded.status END
        RETURNING ${COLUMNS}`,
  );
  return row as Follower;
}

export async function getFollower(db: Queryable, actorIri: string): Promise<Follower | undefined> {
  return await db.get<Follower>(sql`SELECT ${COLUMNS} FROM followers WHERE actor_iri = ${actorIri}`);
}

/** Deletes a follower's row (nothing else: see followerLeft and dismissFollower); true when there was one. */
export async function deleteFollowerRow(db: Queryable, actorIri: string): Promise<boolean> {
  return (await db.run(sql`DELETE FROM followers WHERE actor_iri = ${actorIri}`)) > 0;
}

export async function countFollowers(db: Queryable, status: "accepted" | "pending" = "accepted"): Promise<number> {
  const row = await db.get<{ n: number }>(sql`SELECT count(*) AS n FROM followers WHERE status = ${status}`);
  return Number(row?.n ?? 0);
}

/** Marks a pending follower accepted; false when there was no such pending follower. */
export async function markAccepted(db: Queryable, actorIri: string): Promise<boolean> {
  return (
    (await db.run(sql`UPDATE followers SET status = 'accepted' WHERE actor_iri = ${actorIri} AND status = 'pending'`)) >
    0
  );
}

/** Followers in the order they came, after the given row id. */
export async function listFollowers(
  db: Queryable,
  limit: number,
  afterId = 0,
  status: "accepted" | "pending" = "accepted",
): Promise<{ items: Follower[]; next: number | null }> {
  const rows = await db.all<Follower>(
    sql`SELECT ${COLUMNS} FROM followers WHERE id > ${afterId} AND status = ${status} ORDER BY id LIMIT ${limit + 1}`,
  );
  const items = rows.slice(0, limit);
  return { items, next: rows.length > limit ? (items.at(-1)?.id ?? null) : null };
}

/** Followers on a host (for removing them when the host is blocked). */
export async function followersOnHost(db: Queryable, host: string): Promise<Follower[]> {
  return await db.all<Follower>(sql`SELECT ${COLUMNS} FROM followers WHERE host = ${host.toLowerCase()}`);
}

/** Every accepted follower as CSV (account, server, since), for taking the audience elsewhere. */
export async function followersCsv(db: Queryable): Promise<string> {
  const lines = ["account,server,since"];
  let after = 0;
  for (;;) {
    const page = await listFollowers(db, 1000, after);
    for (const f of page.items) {
      lines.push([f.handle ?? f.actorIri, f.host, new Date(f.createdAt).toISOString()].map(csvCell).join(","));
    }
    if (page.next === null) break;
    after = page.next;
  }
  return `${lines.join("\n")}\n`;
}

function csvCell(value: string): string {
  // Quoted when needed; a leading = + - @ is defused so a spreadsheet never runs it as a formula.
  const handle = /^@[\w.-]+@[\w.-]+(:\d+)?$/.test(value);
  const safe = /^[=+\-\t\r]/.test(value) || (value.startsWith("@") && !handle) ? `'${value}` : value;
  return /[",\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/**
 * Followers over the last `days` days: for each day, how many of today's
 * followers had followed by its end (who left is not remembered, so the line
 * shows when today's audience arrived).
 */
export async function followersOverTime(
  db: Queryable,
  days = 30,
  now: number = Date.now(),
): Promise<{ day: number; followers: number }[]> {
  const dayMs = 86_400_000;
  const end = Math.floor(now / dayMs) * dayMs + dayMs;
  const start = end - days * dayMs;
  const before = Number(
    (
      await db.get<{ n: number }>(
        sql`SELECT count(*) AS n FROM followers WHERE status = 'accepted' AND created_at < ${start}`,
      )
    )?.n ?? 0,
  );
  const bucket = sql`CAST((created_at - CAST(${start} AS bigint)) / CAST(${dayMs} AS bigint) AS integer)`;
  const rows = await db.all<{ d: number; n: number }>(
    sql`SELECT ${bucket} AS d, count(*) AS n FROM followers
        WHERE status = 'accepted' AND created_at >= ${start} GROUP BY 1`,
  );
  const perDay = new Map<number, number>();
  for (const r of rows) {
    const d = Math.floor(Number(r.d));
    perDay.set(d, (perDay.get(d) ?? 0) + Number(r.n));
  }
  const out: { day: number; followers: number }[] = [];
  let total = before;
  for (let i = 0; i < days; i++) {
    total += perDay.get(i) ?? 0;
    out.push({ day: start + i * dayMs, followers: total });
  }
  return out;
}

/** Accepted followers, newest first, before the row id `before` (all when null): a page of `limit`. */
export async function followersBefore(
  db: Queryable,
  before: number | null,
  limit: number,
): Promise<{ id: number; iri: string; handle: string | null; at: number }[]> {
  const older = before === null ? sql.empty : sql` AND id < ${before}`;
  return await db.all(
    sql`SELECT id, actor_iri AS iri, handle, created_at AS at FROM followers WHERE status = 'accepted'${older}
        ORDER BY id DESC LIMIT ${limit}`,
  );
}

/** Servers with at least one accepted follower behind them (what a post is delivered to). */
export async function countFollowerServers(db: Queryable): Promise<number> {
  const row = await db.get<{ n: number }>(
    sql`SELECT count(DISTINCT host) AS n FROM delivery_targets WHERE followers > 0`,
  );
  return Number(row?.n ?? 0);
}
