import type { Context } from "@fedify/fedify";
import { uuidv7 } from "../shared/ids.ts";
import type { Queryable } from "../storage/database.ts";
import { sql } from "../storage/sql.ts";
import { AccountNotFoundError, resolveAccount } from "./accounts.ts";
import { siteChanged } from "./changes.ts";
import type { AppData } from "./context.ts";
import { InvalidProfileError } from "./profile.ts";

/** An account the actor follows (a bridge such as Bridgy Fed; Lectern follows no people). */
export interface Following {
  actorIri: string;
  inbox: string;
  followIri: string;
  status: "pending" | "accepted";
  createdAt: number;
}

const COLUMNS = sql.raw(`actor_iri AS "actorIri", inbox, follow_iri AS "followIri", status, created_at AS "createdAt"`);

export async function listFollowing(db: Queryable, status?: "accepted"): Promise<Following[]> {
  const where = status === undefined ? sql.empty : sql` WHERE status = ${status}`;
  return await db.all<Following>(sql`SELECT ${COLUMNS} FROM following${where} ORDER BY id`);
}

export async function getFollowing(db: Queryable, actorIri: string): Promise<Following | undefined> {
  return await db.get<Following>(sql`SELECT ${COLUMNS} FROM following WHERE actor_iri = ${actorIri}`);
}

/**
 * Follows an account (by handle or URL): stored as pending, a Follow sent
 * through the outbox; its Accept (see the inbox) makes it accepted.
 */
export async function followAccount(
  ctx: Context<AppData>,
  input: string,
  now: number = Date.now(),
): Promise<Following> {
  let account: Awaited<ReturnType<typeof resolveAccount>>;
  try {
    account = await resolveAccount(ctx, input);
  } catch (e) {
    if (e instanceof AccountNotFoundError) throw new InvalidProfileError(e.message);
    throw e;
  }
  if (account.inbox === null) throw new InvalidProfileError(`${input} has no inbox`);
  const existing = await getFollowing(ctx.data.db, account.id.href);
  if (existing !== undefined) return existing;
  const followIri = ctx.data.urls.activity("follows", uuidv7(now)).href;
  await ctx.data.db.run(
    sql`INSERT INTO following (actor_iri, inbox, follow_iri, status, created_at)
        VALUES (${account.id.href}, ${account.inbox.href}, ${followIri}, 'pending', ${now}) ON CONFLICT DO NOTHING`,
  );
  await ctx.data.outbox.followed({ id: account.id, inbox: account.inbox }, new URL(followIri));
  return (await getFollowing(ctx.data.db, account.id.href)) as Following;
}

/** Stops following an account: an Undo of our Follow. False when we did not follow it. */
export async function unfollowAccount(ctx: Context<AppData>, actorIri: string): Promise<boolean> {
  const f = await getFollowing(ctx.data.db, actorIri);
  if (f === undefined) return false;
  await ctx.data.db.run(sql`DELETE FROM following WHERE actor_iri = ${actorIri}`);
  await siteChanged(ctx.data, [{ kind: "following" }]);
  await ctx.data.outbox.unfollowed({ id: new URL(f.actorIri), inbox: new URL(f.inbox) }, new URL(f.followIri));
  return true;
}

/** The account accepted our Follow (matched by the Follow's id and the account). */
export async function followAccepted(data: AppData, actorIri: string, followIri: string | null): Promise<boolean> {
  const { db } = data;
  const match = followIri === null ? sql.empty : sql` AND follow_iri = ${followIri}`;
  const changed =
    (await db.run(sql`UPDATE following SET status = 'accepted' WHERE actor_iri = ${actorIri}${match}`)) > 0;
  if (changed) await siteChanged(data, [{ kind: "following" }]);
  return changed;
}

/** The account refused (or ended) our follow. */
export async function followRejected(data: AppData, actorIri: string): Promise<boolean> {
  const { db } = data;
  const changed = (await db.run(sql`DELETE FROM following WHERE actor_iri = ${actorIri}`)) > 0;
  if (changed) await siteChanged(data, [{ kind: "following" }]);
  return changed;
}
