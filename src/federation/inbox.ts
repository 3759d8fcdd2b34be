import type { InboxContext } from "@fedify/fedify";
import {
  Accept,
  Activity,
  Announce,
  Create,
  Delete,
  Follow,
  isActor,
  Note,
  PUBLIC_COLLECTION,
  QuoteRequest,
  Reject,
  ReplyRequest,
  Undo,
  Update,
} from "@fedify/vocab";
import { getLogger } from "@logtape/logtape";
import { sql } from "drizzle-orm";
import type { AppData } from "../context.ts";
import { isBlocked } from "../product/blocks.ts";
import { addFollower, getFollower, removeFollower } from "../product/followers.ts";
import { uuidv7 } from "../product/ids.ts";
import { bumpSiteVersion } from "../product/instance.ts";
import { getLivePost } from "../product/posts.ts";
import { getProfile } from "../product/profile.ts";
import { grantQuote } from "../product/quotes.ts";
import { posts } from "../storage/schema.ts";
import { Temporal } from "../temporal.ts";
import { AnswerLimiter } from "./answers.ts";
import { builder } from "./builder.ts";
import { stampUrl } from "./stamps.ts";

const logger = getLogger(["lectern", "inbox"]);

builder
  .setInboxListeners("/users/{identifier}/inbox", "/inbox")
  .on(Follow, onFollowed)
  .on(Undo, onUndone)
  .on(Delete, onDeleted)
  .on(Create, onCreated)
  .on(ReplyRequest, onReplyRequested)
  .on(QuoteRequest, onQuoteRequested)
  .on(Announce, onAnnounced)
  .on(Update, onUpdated)
  // Likes, reactions, flags, blocks and everything else: answered 202, not stored.
  .on(Activity, () => {})
  .onError((_ctx, error) => {
    logger.warn("Inbox activity failed: {error}", { error });
  });

const limiters = new WeakMap<object, AnswerLimiter>();
function limiter(data: AppData): AnswerLimiter {
  let l = limiters.get(data.kv);
  if (l === undefined) {
    l = new AnswerLimiter(data.kv);
    limiters.set(data.kv, l);
  }
  return l;
}

function isOurActor(ctx: InboxContext<AppData>, uri: URL | null): boolean {
  const parsed = ctx.parseUri(uri);
  return parsed?.type === "actor" && parsed.identifier === ctx.data.config.handle;
}

/** The id of our live post a URL names, or null. */
function ourPostId(ctx: InboxContext<AppData>, uri: URL | null): string | null {
  const parsed = ctx.parseUri(uri);
  if (parsed?.type !== "object" || parsed.class !== Note) return null;
  const id = parsed.values.id;
  return id !== undefined && getLivePost(ctx.data.db, id) !== undefined ? id : null;
}

function signedLoader(ctx: InboxContext<AppData>) {
  return ctx.getDocumentLoader({ identifier: ctx.data.config.handle });
}

/**
 * A Follow of our actor. Blocked accounts and servers are refused with
 * Reject; otherwise the follower is stored and accepted at once, or kept
 * pending when the author approves followers by hand.
 */
export async function onFollowed(ctx: InboxContext<AppData>, follow: Follow): Promise<void> {
  const identifier = ctx.data.config.handle;
  if (follow.id == null || follow.actorId == null || !isOurActor(ctx, follow.objectId)) return;
  const actor = ctx.getActorUri(identifier);
  const asReceived = new Follow({ id: follow.id, actor: follow.actorId, object: follow.objectId });
  const follower = await follow.getActor({
    documentLoader: await signedLoader(ctx),
    contextLoader: ctx.contextLoader,
    suppressError: true,
  });
  if (follower == null || !isActor(follower) || follower.id?.href !== follow.actorId.href || follower.inboxId == null) {
    logger.info("Ignoring a Follow from {actor}: its actor document could not be read", { actor: follow.actorId.href });
    return;
  }
  if (isBlocked(ctx.data.db, follower.id)) {
    logger.info("Refusing a Follow from blocked {actor}", { actor: follower.id.href });
    await ctx.sendActivity(
      { identifier },
      follower,
      new Reject({ id: new URL(`#rejects/${uuidv7()}`, actor), actor, object: asReceived }),
    );
    return;
  }
  const pending =
    getProfile(ctx.data).approveFollowers && getFollower(ctx.data.db, follower.id.href)?.status !== "accepted";
  // For display only: no WebFinger round trip per Follow (a follow storm would make thousands).
  const handle = follower.preferredUsername ? `@${follower.preferredUsername}@${follower.id.host}` : null;
  addFollower(ctx.data.db, {
    actorIri: follower.id.href,
    followIri: follow.id.href,
    inbox: follower.inboxId.href,
    sharedInbox: follower.endpoints?.sharedInbox?.href ?? null,
    handle,
    status: pending ? "pending" : "accepted",
  });
  if (pending) {
    logger.info("Follow request from {follower} waits for approval", { follower: handle ?? follower.id.href });
    return;
  }
  bumpSiteVersion(ctx.data.db);
  logger.info("New follower {follower}", { follower: handle ?? follower.id.href });
  // The Follow as received, by ids: `follow` now caches the follower's whole actor document.
  await ctx.sendActivity(
    { identifier },
    follower,
    new Accept({ id: new URL(`#accepts/${uuidv7()}`, actor), actor, object: asReceived }),
  );
}

/**
 * An Undo from a follower ends the follow when it undoes a Follow of us,
 * matched by the Undo's (signed) actor whatever the embedded Follow's id; some
 * servers send an Undo whose object is our actor itself, meaning the same.
 * An Undo of a counted boost takes it back from the count.
 */
export async function onUndone(ctx: InboxContext<AppData>, undo: Undo): Promise<void> {
  const actorId = undo.actorId;
  if (actorId == null) return;
  if (undo.objectId != null && (await uncountBoost(ctx.data, undo.objectId.href))) return;
  const follower = getFollower(ctx.data.db, actorId.href);
  if (follower === undefined) return; // Nothing of theirs to undo: no fetches for strangers.
  let unfollow =
    isOurActor(ctx, undo.objectId) || (follower.followIri !== null && undo.objectId?.href === follower.followIri);
  if (!unfollow) {
    try {
      // Only the embedded Follow's type and target are read; who leaves is the Undo's signed actor,
      // so an embedded Follow whose id lives elsewhere can be trusted as far as that goes.
      const object = await undo.getObject({
        documentLoader: await signedLoader(ctx),
        contextLoader: ctx.contextLoader,
        suppressError: true,
        crossOrigin: "trust",
      });
      unfollow = object instanceof Follow && (object.objectId == null || isOurActor(ctx, object.objectId));
    } catch {
      unfollow = false;
    }
  }
  if (unfollow && removeFollower(ctx.data.db, actorId.href)) {
    bumpSiteVersion(ctx.data.db);
    logger.info("{follower} unfollowed", { follower: follower.handle ?? actorId.href });
  }
}

/** A follower whose account is deleted stops being a follower; other Deletes are noise. */
export function onDeleted(ctx: InboxContext<AppData>, del: Delete): void {
  const actorId = del.actorId;
  if (actorId == null || del.objectId?.href !== actorId.href) return;
  if (removeFollower(ctx.data.db, actorId.href)) {
    bumpSiteVersion(ctx.data.db);
    logger.info("Follower {follower} was deleted", { follower: actorId.href });
  }
}

/** A follower who moved servers or changed inbox: keep delivering to the right place. */
export async function onUpdated(ctx: InboxContext<AppData>, update: Update): Promise<void> {
  const actorId = update.actorId;
  if (actorId == null || update.objectId?.href !== actorId.href) return;
  const follower = getFollower(ctx.data.db, actorId.href);
  if (follower === undefined) return;
  const object = await update.getObject({
    documentLoader: await signedLoader(ctx),
    contextLoader: ctx.contextLoader,
    suppressError: true,
  });
  if (!isActor(object) || object.id?.href !== actorId.href || object.inboxId == null) return;
  addFollower(ctx.data.db, {
    actorIri: follower.actorIri,
    followIri: follower.followIri,
    inbox: object.inboxId.href,
    sharedInbox: object.endpoints?.sharedInbox?.href ?? null,
    handle: object.preferredUsername ? `@${object.preferredUsername}@${actorId.host}` : follower.handle,
    status: follower.status,
  });
}

/**
 * A post from elsewhere. Nothing of it is stored. A reply to one of our posts
 * is refused the way GoToSocial does it (Reject of the reply, targeting our
 * post), once per reply and within rate limits; mentions and direct messages
 * are dropped without an answer.
 */
export async function onCreated(ctx: InboxContext<AppData>, create: Create): Promise<void> {
  const actorId = create.actorId;
  if (actorId == null || create.objectId == null) return;
  let object: Awaited<ReturnType<Create["getObject"]>>;
  try {
    object = await create.getObject({
      documentLoader: await signedLoader(ctx),
      contextLoader: ctx.contextLoader,
      suppressError: true,
    });
  } catch {
    return;
  }
  const replyTarget = object?.replyTargetId ?? null;
  const postId = ourPostId(ctx, replyTarget);
  if (postId === null || replyTarget === null) return;
  await refuse(ctx, actorId, create.objectId, replyTarget);
}

/** GoToSocial asks before replying: the answer is always no. */
export async function onReplyRequested(ctx: InboxContext<AppData>, request: ReplyRequest): Promise<void> {
  if (request.actorId == null || request.id == null) return;
  const target = request.objectId;
  if (ourPostId(ctx, target) === null) return;
  await refuse(ctx, request.actorId, request.id, target, request);
}

async function refuse(
  ctx: InboxContext<AppData>,
  to: URL,
  objectId: URL,
  target: URL | null,
  request?: ReplyRequest,
): Promise<void> {
  if (!(await limiter(ctx.data).allow(objectId.href, to.host))) return;
  const identifier = ctx.data.config.handle;
  const actor = ctx.getActorUri(identifier);
  const sender = await ctx.lookupObject(to, { documentLoader: await signedLoader(ctx) }).catch(() => null);
  if (!isActor(sender) || sender.id?.href !== to.href) return;
  await ctx.sendActivity(
    { identifier },
    sender,
    new Reject({
      id: new URL(`#rejects/${uuidv7()}`, actor),
      actor,
      object: request ?? objectId,
      target,
      to: to,
    }),
  );
}

/**
 * A request to quote one of our posts (FEP-044f, Mastodon 4.4+): granted with
 * a stamp we serve (when quotes are allowed and the asker is not blocked),
 * refused otherwise.
 */
export async function onQuoteRequested(ctx: InboxContext<AppData>, request: QuoteRequest): Promise<void> {
  const asker = request.actorId;
  if (asker == null || request.id == null || request.instrumentId == null) return;
  const postId = ourPostId(ctx, request.objectId);
  if (postId === null) return;
  const identifier = ctx.data.config.handle;
  const actor = ctx.getActorUri(identifier);
  const sender = await ctx.lookupObject(asker, { documentLoader: await signedLoader(ctx) }).catch(() => null);
  if (!isActor(sender) || sender.id?.href !== asker.href || sender.inboxId == null) return;
  const answerTo = new QuoteRequest({
    id: request.id,
    actor: asker,
    object: request.objectId,
    instrument: request.instrumentId,
  });
  if (ctx.data.config.quotes !== "anyone" || isBlocked(ctx.data.db, asker)) {
    await ctx.sendActivity(
      { identifier },
      sender,
      new Reject({ id: new URL(`#rejects/${uuidv7()}`, actor), actor, object: answerTo }),
    );
    return;
  }
  const stamp = grantQuote(ctx.data.db, {
    postId,
    quoteIri: request.instrumentId.href,
    actorIri: asker.href,
    inbox: sender.endpoints?.sharedInbox?.href ?? sender.inboxId.href,
  });
  await ctx.sendActivity(
    { identifier },
    sender,
    new Accept({
      id: new URL(`#accepts/${uuidv7()}`, actor),
      actor,
      object: answerTo,
      result: stampUrl(ctx, stamp.id),
      to: asker,
    }),
  );
}

/** A boost of one of our posts: counted once (a number, nothing about who); boosts are welcome. */
export async function onAnnounced(ctx: InboxContext<AppData>, announce: Announce): Promise<void> {
  if (announce.id == null || announce.actorId == null) return;
  const postId = ourPostId(ctx, announce.objectId);
  if (postId === null) return;
  if (
    !announce.toIds.some((u) => u.href === PUBLIC_COLLECTION.href) &&
    !announce.ccIds.some((u) => u.href === PUBLIC_COLLECTION.href)
  )
    return;
  const key = ["lectern", "boost", announce.id.href] as const;
  if ((await ctx.data.kv.get(key)) !== undefined) return;
  await ctx.data.kv.set(key, postId, { ttl: Temporal.Duration.from({ days: 90 }) });
  ctx.data.db
    .update(posts)
    .set({ boosts: sql`${posts.boosts} + 1` })
    .where(sql`${posts.id} = ${postId}`)
    .run();
}

async function uncountBoost(data: AppData, announceId: string): Promise<boolean> {
  const key = ["lectern", "boost", announceId] as const;
  const postId = await data.kv.get<string>(key);
  if (postId === undefined) return false;
  await data.kv.delete(key);
  data.db
    .update(posts)
    .set({ boosts: sql`max(${posts.boosts} - 1, 0)` })
    .where(sql`${posts.id} = ${postId}`)
    .run();
  return true;
}
