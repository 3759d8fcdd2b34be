import type { InboxContext, InboxListener } from "@fedify/fedify";
import {
  Accept,
  Activity,
  Announce,
  AnnounceRequest,
  Create,
  Delete,
  Follow,
  isActor,
  Like,
  LikeRequest,
  Move,
  PUBLIC_COLLECTION,
  QuoteRequest,
  Reject,
  ReplyRequest,
  Undo,
  Update,
} from "@fedify/vocab";
import { getLogger } from "@logtape/logtape";
import { isBlocked } from "../product/blocks.ts";
import type { AppData } from "../product/context.ts";
import { addFollower, getFollower } from "../product/followers.ts";
import { followAccepted, followRejected, getFollowing } from "../product/following.ts";
import { recordMoveIn } from "../product/moves.ts";
import { getProfile } from "../product/profile.ts";
import { followerLeft } from "../product/publish.ts";
import { countReaction, uncountReaction } from "../product/reactions.ts";
import { isRelayActor, relayAnswered } from "../product/relays.ts";
import { Temporal } from "../shared/temporal.ts";
import { PATHS } from "../shared/urls.ts";
import { AnswerLimiter } from "./answers.ts";
import { builder } from "./builder.ts";
import { INBOUND_TYPES, type InboundType } from "./inbound.ts";
import { isOurActor, ourPostId, receivedRequest, signedLoader } from "./inbox-common.ts";
import { onAnnounceRequested, onLiked, onLikeRequested, onQuoteRequested } from "./interactions.ts";
import { learnSignatureScheme, softwareOf, understandsReplyReject } from "./software.ts";

const logger = getLogger(["lectern", "inbox"]);

/** An activity class and its listener, as Fedify's `on()` takes them. */
type Listener<T extends Activity> = readonly [
  new (...args: ConstructorParameters<typeof Activity>) => T,
  InboxListener<AppData, T>,
];
const listen = <T extends Activity>(type: Listener<T>[0], handler: Listener<T>[1]): Listener<Activity> =>
  [type, handler] as unknown as Listener<Activity>;

/** The listener of each inbound type (federation/inbound.ts); triage lets through only these. */
export const LISTENERS: Record<InboundType, Listener<Activity>> = {
  Follow: listen(Follow, onFollowed),
  Undo: listen(Undo, onUndone),
  Delete: listen(Delete, onDeleted),
  Create: listen(Create, onCreated),
  ReplyRequest: listen(ReplyRequest, onReplyRequested),
  QuoteRequest: listen(QuoteRequest, onQuoteRequested),
  AnnounceRequest: listen(AnnounceRequest, onAnnounceRequested),
  LikeRequest: listen(LikeRequest, onLikeRequested),
  Like: listen(Like, onLiked),
  Announce: listen(Announce, onAnnounced),
  Update: listen(Update, onUpdated),
  Accept: listen(Accept, onAccepted),
  Reject: listen(Reject, onRejected),
  Move: listen(Move, onMoved),
};

const listeners = builder.setInboxListeners(PATHS.inbox, PATHS.sharedInbox);
for (const type of INBOUND_TYPES) listeners.on(...LISTENERS[type]);
listeners
  // Likes, reactions, flags, blocks and everything else: answered 202, not stored.
  .on(Activity, () => {})
  .onError((_ctx, error) => {
    logger.warning("Inbox activity failed: {error}", { error });
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

/**
 * A Follow of our actor. Blocked accounts and servers are refused with
 * Reject; otherwise the follower is stored and accepted at once, or kept
 * pending when the author approves followers by hand.
 */
export async function onFollowed(ctx: InboxContext<AppData>, follow: Follow): Promise<void> {
  if (follow.id == null || follow.actorId == null || !isOurActor(ctx, follow.objectId)) return;
  const follower = await follow.getActor({
    documentLoader: await signedLoader(ctx),
    contextLoader: ctx.contextLoader,
    suppressError: true,
  });
  if (follower == null || !isActor(follower) || follower.id?.href !== follow.actorId.href || follower.inboxId == null) {
    logger.info("Ignoring a Follow from {actor}: its actor document could not be read", { actor: follow.actorId.href });
    return;
  }
  // The Follow as received, by ids (`follow` now caches the follower's whole actor document).
  const followRef = { actorIri: follower.id.href, followIri: follow.id.href, inbox: follower.inboxId.href };
  if (await isBlocked(ctx.data.db, follower.id)) {
    logger.info("Refusing a Follow from blocked {actor}", { actor: follower.id.href });
    await ctx.data.outbox.followRejected(followRef);
    return;
  }
  const known = await getFollower(ctx.data.db, follower.id.href);
  const pending = (await getProfile(ctx.data)).approveFollowers && known?.status !== "accepted";
  // For display only: no WebFinger round trip per Follow (a follow storm would make thousands).
  const handle = follower.preferredUsername ? `@${follower.preferredUsername}@${follower.id.host}` : null;
  await addFollower(ctx.data.db, {
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
  // The same account following again and again (a loop, a flood) is answered once in ten minutes;
  // after that, a server that lost our Accept gets it again.
  const answered = ["lectern", "accepted", follower.id.href] as const;
  if (known?.status === "accepted" && (await ctx.data.kv.get(answered)) !== undefined) return;
  await ctx.data.kv.set(answered, 1, { ttl: Temporal.Duration.from({ minutes: 10 }) });
  logger.info("New follower {follower}", { follower: handle ?? follower.id.href });
  await ctx.data.outbox.followAccepted(followRef);
  // Which signature its server gets (RFC 9421 where it verifies it): after the answer, never in its way.
  await learnSignatureScheme(ctx.data, follower.id).catch((error) =>
    logger.debug("Could not learn {host}'s signature scheme: {error}", { host: follower.id?.host, error }),
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
  for (const kind of ["boost", "like"] as const)
    if (undo.objectId != null && (await uncountReaction(ctx.data, kind, undo.objectId.href, actorId.href))) return;
  const follower = await getFollower(ctx.data.db, actorId.href);
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
  if (unfollow && (await followerLeft(ctx.data, actorId.href))) {
    logger.info("{follower} unfollowed", { follower: follower.handle ?? actorId.href });
  }
}

/** A follower whose account is deleted stops being a follower; other Deletes are noise. */
export async function onDeleted(ctx: InboxContext<AppData>, del: Delete): Promise<void> {
  const actorId = del.actorId;
  if (actorId == null || del.objectId?.href !== actorId.href) return;
  if (await followerLeft(ctx.data, actorId.href)) {
    logger.info("Follower {follower} was deleted", { follower: actorId.href });
  }
}

/** A follower who moved servers or changed inbox: keep delivering to the right place. */
export async function onUpdated(ctx: InboxContext<AppData>, update: Update): Promise<void> {
  const actorId = update.actorId;
  if (actorId == null || update.objectId?.href !== actorId.href) return;
  const follower = await getFollower(ctx.data.db, actorId.href);
  if (follower === undefined) return;
  const object = await update.getObject({
    documentLoader: await signedLoader(ctx),
    contextLoader: ctx.contextLoader,
    suppressError: true,
  });
  if (!isActor(object) || object.id?.href !== actorId.href || object.inboxId == null) return;
  await addFollower(ctx.data.db, {
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
  const postId = await ourPostId(ctx, replyTarget);
  if (postId === null || replyTarget === null) return;
  await refuse(ctx, actorId, create.objectId, replyTarget);
}

/** GoToSocial asks before replying: the answer is always no. */
export async function onReplyRequested(ctx: InboxContext<AppData>, request: ReplyRequest): Promise<void> {
  if (request.actorId == null || request.id == null) return;
  const target = request.objectId;
  if ((await ourPostId(ctx, target)) === null) return;
  await refuse(ctx, request.actorId, request.id, target, request);
}

async function refuse(
  ctx: InboxContext<AppData>,
  to: URL,
  objectId: URL,
  target: URL | null,
  request?: ReplyRequest,
): Promise<void> {
  // A server that asked (ReplyRequest) understands the answer; for a plain reply, only
  // software known to read a Reject of a reply gets one (see software.ts).
  if (request === undefined && !understandsReplyReject(await softwareOf(ctx.data, to.origin))) return;
  if (!(await limiter(ctx.data).allow(objectId.href, to.host))) return;
  const sender = await ctx.lookupObject(to, { documentLoader: await signedLoader(ctx) }).catch(() => null);
  if (!isActor(sender) || sender.id?.href !== to.href || sender.inboxId == null) return;
  await ctx.data.outbox.replyRejected(
    { id: to, inbox: sender.inboxId },
    { id: objectId, target, request: request === undefined ? undefined : receivedRequest("ReplyRequest", request) },
  );
}

/**
 * A boost of one of our posts: counted once per account and post (a number,
 * nothing about who is kept beyond what undoing it needs). The Announce's id
 * must live on its actor's server, so nobody counts boosts in another's name.
 */
export async function onAnnounced(ctx: InboxContext<AppData>, announce: Announce): Promise<void> {
  if (announce.id == null || announce.actorId == null || announce.id.host !== announce.actorId.host) return;
  if (await isRelayActor(ctx.data.db, announce.actorId.href)) return; // a relay forwarding our post
  const postId = await ourPostId(ctx, announce.objectId);
  if (postId === null) return;
  const isPublic = (u: URL) => u.href === PUBLIC_COLLECTION.href;
  if (!announce.toIds.some(isPublic) && !announce.ccIds.some(isPublic)) return;
  await countReaction(ctx.data, "boost", postId, announce.actorId.href, announce.id.href);
}

/** An account we follow (a bridge) accepted our Follow. */
export async function onAccepted(ctx: InboxContext<AppData>, accept: Accept): Promise<void> {
  if (accept.actorId == null) return;
  if (accept.objectId != null && (await relayAnswered(ctx.data, accept.objectId.href, accept.actorId.href, true))) {
    logger.info("Relay {actor} accepted our follow", { actor: accept.actorId.href });
    return;
  }
  const following = await getFollowing(ctx.data.db, accept.actorId.href);
  if (following === undefined) return;
  const objectId = accept.objectId?.href ?? null;
  if (objectId !== null && objectId !== following.followIri) return;
  if (await followAccepted(ctx.data, accept.actorId.href, objectId)) {
    logger.info("{actor} accepted our follow", { actor: accept.actorId.href });
  }
}

/** An account we follow refused or ended the follow. */
export async function onRejected(ctx: InboxContext<AppData>, reject: Reject): Promise<void> {
  if (reject.actorId == null) return;
  if (reject.objectId != null && (await relayAnswered(ctx.data, reject.objectId.href, reject.actorId.href, false))) {
    logger.info("Relay {actor} refused our follow", { actor: reject.actorId.href });
    return;
  }
  if (await followRejected(ctx.data, reject.actorId.href)) {
    logger.info("{actor} refused our follow", { actor: reject.actorId.href });
  }
}

/**
 * One of the author's other accounts (an alias) moved here: its followers'
 * servers now follow us (their Follows are handled like any other); the Move
 * is remembered so the desk can say how many came.
 */
export async function onMoved(ctx: InboxContext<AppData>, move: Move): Promise<void> {
  const from = move.actorId;
  if (from == null || move.objectId?.href !== from.href || !isOurActor(ctx, move.targetId)) return;
  if (!(await getProfile(ctx.data)).aliases.includes(from.href)) return;
  await recordMoveIn(ctx.data, from.href);
  logger.info("{from} moved to this account", { from: from.href });
}
