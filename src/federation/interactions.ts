import type { Context, InboxContext } from "@fedify/fedify";
import {
  type Activity,
  type AnnounceRequest,
  isActor,
  type Like,
  type LikeRequest,
  type QuoteRequest,
} from "@fedify/vocab";
import { getLogger } from "@logtape/logtape";
import { type AuthorizationKind, grantAuthorization } from "../product/authorizations.ts";
import { isBlocked } from "../product/blocks.ts";
import type { AppData } from "../product/context.ts";
import type { InteractionRequest, Recipient } from "../product/outbox.ts";
import { grantQuote } from "../product/quotes.ts";
import { countReaction } from "../product/reactions.ts";
import { Temporal } from "../shared/temporal.ts";
import { ourPostId, receivedRequest, signedLoader } from "./inbox-common.ts";

/*
 * The polite requests (GoToSocial 0.20+: AnnounceRequest, LikeRequest;
 * FEP-044f: QuoteRequest), each answered by the channel's rule: Accept with an
 * authorization we serve at its id, or Reject. Likes sent the old way (a bare
 * Like) are counted by the same rule. Replies are refused in inbox.ts.
 */

const logger = getLogger(["lectern", "inbox"]);

/** Someone who asked, as a recipient of our answer (their actor document, fetched signed); null if unreadable. */
export async function askerOf(ctx: Context<AppData>, asker: URL): Promise<(Recipient & { shared: URL }) | null> {
  const sender = await ctx.lookupObject(asker, { documentLoader: await signedLoader(ctx) }).catch(() => null);
  if (!isActor(sender) || sender.id?.href !== asker.href || sender.inboxId == null) return null;
  return { id: asker, inbox: sender.inboxId, shared: sender.endpoints?.sharedInbox ?? sender.inboxId };
}

/**
 * One answer per account, kind and target an hour: a flood of requests does
 * not make a flood of answers (or of authorizations: the same interaction
 * asking again gets the same one).
 */
export async function firstAsking(data: AppData, kind: string, asker: URL, target: string): Promise<boolean> {
  const key = ["lectern", `${kind}-answered`, asker.href, target] as const;
  if ((await data.kv.get(key)) !== undefined) return false;
  await data.kv.set(key, 1, { ttl: Temporal.Duration.from({ hours: 1 }) });
  return true;
}

/** Answers a request about one of our posts (or our actor, postId null): granted when `allowed`, else refused. */
export async function answer(
  ctx: Context<AppData>,
  request: InteractionRequest,
  kind: AuthorizationKind,
  postId: string | null,
  allowed: boolean,
): Promise<string | null> {
  const asker = await askerOf(ctx, request.actor);
  if (asker === null || request.instrument === null) return null;
  if (!allowed || (await isBlocked(ctx.data.db, request.actor))) {
    await ctx.data.outbox.requestAnswered(asker, request, null);
    return null;
  }
  const granted = await grantAuthorization(ctx.data.db, {
    kind,
    postId,
    interactingIri: request.instrument.href,
    actorIri: request.actor.href,
    inbox: asker.shared.href,
  });
  await ctx.data.outbox.requestAnswered(asker, request, granted && ctx.data.urls.authorization(granted.id));
  return granted?.id ?? null;
}

/** A request to boost one of our posts: always granted (boosts are what the channel wants), unless blocked. */
export async function onAnnounceRequested(ctx: InboxContext<AppData>, request: AnnounceRequest): Promise<void> {
  const postId = await ourRequestTarget(ctx, request);
  if (postId === null || !(await firstAsking(ctx.data, "announce", request.actorId as URL, postId))) return;
  await answer(ctx, receivedRequest("AnnounceRequest", request), "announce", postId, true);
}

/** A request to like one of our posts: granted and counted when likes are counted, refused otherwise. */
export async function onLikeRequested(ctx: InboxContext<AppData>, request: LikeRequest): Promise<void> {
  const postId = await ourRequestTarget(ctx, request);
  const asker = request.actorId;
  if (postId === null || asker == null || !(await firstAsking(ctx.data, "like", asker, postId))) return;
  const counted = ctx.data.config.likes === "counted";
  const granted = await answer(ctx, receivedRequest("LikeRequest", request), "like", postId, counted);
  if (granted !== null && request.instrumentId != null)
    await countReaction(ctx.data, "like", postId, asker.href, request.instrumentId.href);
}

/** A Like sent the old way (Mastodon, Misskey…): counted, once per account and post, when likes are. */
export async function onLiked(ctx: InboxContext<AppData>, like: Like): Promise<void> {
  if (ctx.data.config.likes !== "counted" || like.id == null || like.actorId == null) return;
  // The Like's id must live on its actor's server, so nobody counts likes in another's name.
  if (like.id.host !== like.actorId.host) return;
  const postId = await ourPostId(ctx, like.objectId);
  if (postId === null || (await isBlocked(ctx.data.db, like.actorId))) return;
  await countReaction(ctx.data, "like", postId, like.actorId.href, like.id.href);
}

/**
 * A request to quote one of our posts (FEP-044f, Mastodon 4.4+): granted with
 * a stamp we serve (when quotes are allowed and the asker is not blocked),
 * refused otherwise.
 */
export async function onQuoteRequested(ctx: InboxContext<AppData>, request: QuoteRequest): Promise<void> {
  const asker = request.actorId;
  if (asker == null || request.id == null || request.instrumentId == null) return;
  const postId = await ourPostId(ctx, request.objectId);
  if (postId === null || !(await firstAsking(ctx.data, "quote", asker, postId))) return;
  const sender = await askerOf(ctx, asker);
  if (sender === null) return;
  const answerTo = receivedRequest("QuoteRequest", request);
  if (ctx.data.config.quotes !== "anyone" || (await isBlocked(ctx.data.db, asker))) {
    await ctx.data.outbox.requestAnswered(sender, answerTo, null);
    return;
  }
  const stamp = await grantQuote(ctx.data.db, {
    postId,
    quoteIri: request.instrumentId.href,
    actorIri: asker.href,
    inbox: sender.shared.href,
  });
  await ctx.data.outbox.requestAnswered(sender, answerTo, ctx.data.urls.stamp(stamp.id));
}

/** Our post a request is about, when the request is whole (an id, an actor, an interaction on the asker's server). */
async function ourRequestTarget(ctx: InboxContext<AppData>, request: Activity): Promise<string | null> {
  const actor = request.actorId;
  const instrument = request.instrumentId;
  if (request.id == null || actor == null || instrument == null) return null;
  // The interaction (the Announce, the Like) lives on the asker's server: nobody asks in another's name.
  if (instrument.host !== actor.host) {
    logger.info("Ignoring a {type} whose interaction is not on its actor's server", { type: request.constructor.name });
    return null;
  }
  return await ourPostId(ctx, request.objectId);
}
