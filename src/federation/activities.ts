import type { Context } from "@fedify/fedify";
import {
  Accept,
  type Activity,
  Add,
  AnnounceRequest,
  Delete,
  Follow,
  LikeRequest,
  Move,
  PUBLIC_COLLECTION,
  QuoteRequest,
  Reject,
  Remove,
  ReplyRequest,
  Undo,
  Update,
} from "@fedify/vocab";
import type { Authorization } from "../product/authorizations.ts";
import type { AppData } from "../product/context.ts";
import type { Follower } from "../product/followers.ts";
import type { InteractionRequest } from "../product/outbox.ts";
import type { Post } from "../product/posts.ts";
import type { QuoteStamp } from "../product/quotes.ts";
import { uuidv7 } from "../shared/ids.ts";
import { actorFromProfile } from "./actor.ts";
import { createFromPost, deleteFromPost, updateFromPost } from "./note.ts";

/*
 * Every activity the actor sends, beside its siblings (the post's own
 * Create/Update/Delete live with the Note in note.ts). Ids come from urls.ts.
 */
export { createFromPost as toCreate, deleteFromPost as toDelete, updateFromPost as toUpdate };

/** Add to / Remove from the `featured` collection (a pin or an unpin). */
export function toPin(ctx: Context<AppData>, post: Post, pinned: boolean, now: number): Add | Remove {
  const { urls, config } = ctx.data;
  const values = {
    id: urls.activity(pinned ? "pins" : "unpins", uuidv7(now)),
    actor: urls.actor(),
    object: urls.post(post.id),
    target: ctx.getFeaturedUri(config.handle),
    to: PUBLIC_COLLECTION,
    cc: urls.followers(),
  };
  return pinned ? new Add(values) : new Remove(values);
}

/** Update(Person): the profile as it is now. */
export async function toProfileUpdate(ctx: Context<AppData>, now: number): Promise<Update> {
  const { urls } = ctx.data;
  return new Update({
    id: urls.activity("updates", String(now)),
    actor: urls.actor(),
    object: await actorFromProfile(ctx),
    to: PUBLIC_COLLECTION,
    cc: urls.followers(),
  });
}

/** The Follow we answer, rebuilt by ids from what we stored of it. */
export function followOf(ctx: Context<AppData>, follower: Pick<Follower, "actorIri" | "followIri">): Follow {
  return new Follow({
    id: follower.followIri ? new URL(follower.followIri) : null,
    actor: new URL(follower.actorIri),
    object: ctx.data.urls.actor(),
  });
}

/**
 * A polite request as it was received, rebuilt from its ids (the object of our
 * answer to it); one Fedify's vocabulary does not know (FeatureRequest) by its id.
 */
export function requestOf(request: InteractionRequest): Activity | URL {
  const values = { id: request.id, actor: request.actor, object: request.object, instrument: request.instrument };
  switch (request.type) {
    case "ReplyRequest":
      return new ReplyRequest(values);
    case "QuoteRequest":
      return new QuoteRequest(values);
    case "AnnounceRequest":
      return new AnnounceRequest(values);
    case "LikeRequest":
      return new LikeRequest(values);
    case "FeatureRequest":
    case "OtherRequest":
      return request.id;
  }
}

/** Accept or Reject of a follower's Follow (or of any request: a quote, a reply). */
export function toAnswer(
  ctx: Context<AppData>,
  answer: "accept" | "reject",
  values: { object: Follow | URL | import("@fedify/vocab").Object; target?: URL | null; to?: URL; result?: URL },
): Accept | Reject {
  const { urls } = ctx.data;
  const common = { actor: urls.actor(), ...values };
  return answer === "accept"
    ? new Accept({ id: urls.activity("accepts", uuidv7()), ...common })
    : new Reject({ id: urls.activity("rejects", uuidv7()), ...common });
}

/** Revokes a quote permission we granted (FEP-044f): Delete of the stamp. */
export function toStampRevocation(ctx: Context<AppData>, stamp: QuoteStamp): Delete {
  const { urls } = ctx.data;
  return new Delete({
    id: urls.activity("revocations", stamp.id),
    actor: urls.actor(),
    object: urls.stamp(stamp.id),
    to: new URL(stamp.actorIri),
  });
}

/** Revokes a boost, like or featuring we authorized: Delete of the authorization, to whoever holds it. */
export function toAuthorizationRevocation(ctx: Context<AppData>, authorization: Authorization): Delete {
  const { urls } = ctx.data;
  return new Delete({
    id: urls.activity("revocations", authorization.id),
    actor: urls.actor(),
    object: urls.authorization(authorization.id),
    to: new URL(authorization.actorIri),
  });
}

/** Move: the account now lives at `target` (which lists us in its `alsoKnownAs`). */
export function toMove(ctx: Context<AppData>, target: URL, now: number): Move {
  const { urls } = ctx.data;
  return new Move({
    id: urls.activity("moves", String(now)),
    actor: urls.actor(),
    object: urls.actor(),
    target,
    to: urls.followers(),
  });
}

/** Our Follow of an account (a bridge), with the id we keep to match its Accept. */
export function toFollow(ctx: Context<AppData>, target: URL, id: URL): Follow {
  return new Follow({ id, actor: ctx.data.urls.actor(), object: target, to: target });
}

export function toUndoFollow(ctx: Context<AppData>, target: URL, followId: URL): Undo {
  const { urls } = ctx.data;
  return new Undo({
    id: new URL(`${followId.href}/undo`),
    actor: urls.actor(),
    object: new Follow({ id: followId, actor: urls.actor(), object: target }),
    to: target,
  });
}
