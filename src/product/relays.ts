import type { Context } from "@fedify/fedify";
import { isActor, PUBLIC_COLLECTION } from "@fedify/vocab";
import { refuseUrl } from "../shared/http-client.ts";
import { uuidv7 } from "../shared/ids.ts";
import type { Queryable } from "../storage/database.ts";
import { sql } from "../storage/sql.ts";
import type { AppData } from "./context.ts";
import { InvalidProfileError } from "./profile.ts";

/*
 * ActivityPub relays: the owner joins one by its actor (LitePub style: a
 * Follow of the relay's actor) or its inbox (Mastodon style: a Follow of the
 * Public collection). Once the relay accepts, its inbox is a delivery target
 * like a follower's shared inbox, so every post reaches it through the one
 * engine (same signing, retries, pacing, per-post status); leaving sends
 * Undo(Follow) and takes the target back.
 */

export interface Relay {
  id: number;
  url: string;
  style: "mastodon" | "litepub";
  actorIri: string | null;
  inbox: string;
  followIri: string;
  status: "pending" | "accepted" | "rejected";
  createdAt: number;
  updatedAt: number;
}

const COLUMNS = sql.raw(
  `id, url, style, actor_iri AS "actorIri", inbox, follow_iri AS "followIri", status, created_at AS "createdAt",
   updated_at AS "updatedAt"`,
);
/** Partitions of delivery targets (delivery/partitions.ts; the followers' triggers use the same number). */
const PARTITIONS = 64;

export async function listRelays(db: Queryable): Promise<Relay[]> {
  return await db.all<Relay>(sql`SELECT ${COLUMNS} FROM relays ORDER BY id`);
}

/** The relay whose Follow (ours) this is, if any. */
export async function relayByFollow(db: Queryable, followIri: string): Promise<Relay | undefined> {
  return await db.get<Relay>(sql`SELECT ${COLUMNS} FROM relays WHERE follow_iri = ${followIri}`);
}

/** Whether an actor is a relay we joined (what it forwards back is not a boost). */
export async function isRelayActor(db: Queryable, actorIri: string): Promise<boolean> {
  return (await db.get(sql`SELECT 1 AS one FROM relays WHERE actor_iri = ${actorIri}`)) !== undefined;
}

/** Joins a relay: stored as pending, our Follow sent; its Accept (see the inbox) makes it a delivery target. */
export async function addRelay(ctx: Context<AppData>, input: string, now: number = Date.now()): Promise<Relay> {
  const { db, config } = ctx.data;
  let url: URL;
  try {
    url = new URL(input.trim());
  } catch {
    throw new InvalidProfileError(`not a URL: ${input.trim().slice(0, 100)}`);
  }
  const refused = refuseUrl(url, config.allowPrivateAddress);
  if (refused !== null || (url.protocol !== "https:" && !config.allowPrivateAddress))
    throw new InvalidProfileError(`a relay must be an https URL on a public address${refused ? ` (${refused})` : ""}`);
  const existing = await db.get<Relay>(sql`SELECT ${COLUMNS} FROM relays WHERE url = ${url.href}`);
  if (existing !== undefined) return existing;
  // An actor: LitePub style. Anything else (an inbox answers no document to a GET): Mastodon style.
  const documentLoader = await ctx.getDocumentLoader({ identifier: config.handle });
  const actor = await ctx.lookupObject(url, { documentLoader }).catch(() => null);
  const litepub = isActor(actor) && actor.id !== null && actor.inboxId !== null;
  if (litepub && refuseUrl(actor.inboxId as URL, config.allowPrivateAddress) !== null)
    throw new InvalidProfileError("the relay's inbox is not on a public address");
  const inbox = litepub ? (actor.endpoints?.sharedInbox ?? actor.inboxId) : url;
  const followIri = ctx.data.urls.activity("follows", uuidv7(now)).href;
  await db.run(
    sql`INSERT INTO relays (url, style, actor_iri, inbox, follow_iri, status, created_at, updated_at)
        VALUES (${url.href}, ${litepub ? "litepub" : "mastodon"}, ${litepub ? (actor.id as URL).href : null},
                ${(inbox as URL).href}, ${followIri}, 'pending', ${now}, ${now})
        ON CONFLICT DO NOTHING`,
  );
  const relay = (await db.get<Relay>(sql`SELECT ${COLUMNS} FROM relays WHERE url = ${url.href}`)) as Relay;
  await ctx.data.outbox.followed({ id: followed(relay), inbox: new URL(relay.inbox) }, new URL(relay.followIri));
  return relay;
}

/** What our Follow of the relay names: its actor (LitePub) or the Public collection (Mastodon). */
function followed(relay: Relay): URL {
  return relay.style === "litepub" && relay.actorIri !== null ? new URL(relay.actorIri) : PUBLIC_COLLECTION;
}

/** Leaves a relay: Undo(Follow) sent, its target taken back. False when there was no such relay. */
export async function removeRelay(ctx: Context<AppData>, url: string): Promise<boolean> {
  const { db } = ctx.data;
  const relay = await db.transaction(async (tx) => {
    const found = await tx.get<Relay>(sql`SELECT ${COLUMNS} FROM relays WHERE url = ${url} OR url = ${`${url}/`}`);
    if (found === undefined) return undefined;
    await tx.run(sql`DELETE FROM relays WHERE id = ${found.id}`);
    if (found.status === "accepted") await untarget(tx, found.inbox);
    return found;
  });
  if (relay === undefined) return false;
  await ctx.data.outbox.unfollowed({ id: followed(relay), inbox: new URL(relay.inbox) }, new URL(relay.followIri));
  return true;
}

/** The relay answered our Follow (matched by its id): accepted, it becomes a delivery target; refused, it is not. */
export async function relayAnswered(
  data: AppData,
  followIri: string,
  actorIri: string,
  accepted: boolean,
  now: number = Date.now(),
): Promise<boolean> {
  return await data.db.transaction(async (tx) => {
    const relay = await tx.get<Relay>(sql`SELECT ${COLUMNS} FROM relays WHERE follow_iri = ${followIri}`);
    // Only the relay itself answers: the actor we followed, or (Mastodon style) one on the inbox's server.
    if (relay === undefined) return false;
    const from = relay.actorIri ?? actorIri;
    if (from !== actorIri || new URL(actorIri).host !== new URL(relay.inbox).host) return false;
    const status = accepted ? "accepted" : "rejected";
    if (relay.status === status) return true;
    await tx.run(
      sql`UPDATE relays SET status = ${status}, actor_iri = ${actorIri}, updated_at = ${now} WHERE id = ${relay.id}`,
    );
    if (accepted) await target(tx, relay.inbox);
    else if (relay.status === "accepted") await untarget(tx, relay.inbox);
    return true;
  });
}

async function target(tx: Queryable, inbox: string): Promise<void> {
  const host = new URL(inbox).host.toLowerCase();
  await tx.run(
    sql`INSERT INTO delivery_targets (inbox, host, partition, followers)
        VALUES (${inbox}, ${host}, lectern_partition(${host}, ${PARTITIONS}), 1)
        ON CONFLICT (inbox) DO UPDATE SET followers = delivery_targets.followers + 1`,
  );
}

async function untarget(tx: Queryable, inbox: string): Promise<void> {
  await tx.run(sql`UPDATE delivery_targets SET followers = followers - 1 WHERE inbox = ${inbox}`);
}
