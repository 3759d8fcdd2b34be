import type { Context } from "@fedify/fedify";
import type { Activity } from "@fedify/vocab";
import {
  followOf,
  requestOf,
  toAnswer,
  toAuthorizationRevocation,
  toCreate,
  toDelete,
  toFollow,
  toMove,
  toPin,
  toProfileUpdate,
  toStampRevocation,
  toUndoFollow,
  toUpdate,
} from "../federation/activities.ts";
import { type AttachmentExtras, actorTouches, attachmentExtras, finishJson } from "../federation/json.ts";
import type { Authorization } from "../product/authorizations.ts";
import type { AppData } from "../product/context.ts";
import type { FollowRef, InteractionRequest, Outbox, Recipient } from "../product/outbox.ts";
import { type Post, unsavedPost } from "../product/posts.ts";
import type { QuoteStamp } from "../product/quotes.ts";
import type { Queryable } from "../storage/database.ts";
import { deliverTo, fanOut, wakeDeliveries } from "./fanout.ts";

/** An activity as the JSON every server receives: compacted once, then finished (see federation/json.ts). */
async function activityJson(ctx: Context<AppData>, activity: Activity, extras?: AttachmentExtras): Promise<string> {
  const compact = await activity.toJsonLd({ format: "compact", contextLoader: ctx.contextLoader });
  return JSON.stringify(finishJson(compact, extras, actorTouches(ctx.data)));
}

/**
 * The fediverse channel: each fact becomes its activity, as JSON once, here,
 * stored once; the workers queue its deliveries (one per follower server, in
 * chunks: fanout.ts) or it is queued for its one recipient, and the workers
 * sign and send them.
 */
export class DeliveryOutbox implements Outbox {
  readonly #context: () => Context<AppData>;
  constructor(context: () => Context<AppData>) {
    this.#context = context;
  }

  #json(activity: Activity, extras?: AttachmentExtras): Promise<string> {
    return activityJson(this.#context(), activity, extras);
  }

  async #toFollowers(
    activity: Activity,
    kind: string,
    postId: string | null,
    extras?: AttachmentExtras,
  ): Promise<void> {
    const ctx = this.#context();
    const body = await this.#json(activity, extras);
    await fanOut(ctx.data.db, { activityIri: activity.id?.href ?? "", kind, postId, body });
    await wakeDeliveries(ctx.data.db);
  }

  async #toOne(recipient: Recipient, activity: Activity, kind: string): Promise<void> {
    const ctx = this.#context();
    const body = await this.#json(activity);
    await deliverTo(
      ctx.data.db,
      { activityIri: activity.id?.href ?? "", kind, postId: null, body },
      recipient.inbox.href,
    );
    await wakeDeliveries(ctx.data.db);
  }

  async postPublished(post: Post): Promise<(tx: Queryable) => Promise<void>> {
    const ctx = this.#context();
    const create = await toCreate(ctx, post);
    // The JSON is made before the transaction: only the rows are written inside it.
    const body = await this.#json(create, await attachmentExtras(ctx.data, [post]));
    return async (tx) => {
      await fanOut(tx, { activityIri: create.id?.href ?? "", kind: "Create", postId: post.id, body });
    };
  }

  async postEdited(post: Post): Promise<void> {
    const ctx = this.#context();
    await this.#toFollowers(await toUpdate(ctx, post), "Update", post.id, await attachmentExtras(ctx.data, [post]));
  }

  async postDeleted(post: Post, deletedAt: number): Promise<void> {
    await this.#toFollowers(toDelete(this.#context(), post, deletedAt), "Delete", post.id);
  }

  async pinChanged(post: Post, pinned: boolean, at: number): Promise<void> {
    await this.#toFollowers(toPin(this.#context(), post, pinned, at), pinned ? "Add" : "Remove", post.id);
  }

  async profileChanged(at: number): Promise<void> {
    await this.#toFollowers(await toProfileUpdate(this.#context(), at), "Update(Person)", null);
  }

  async followAccepted(follow: FollowRef): Promise<void> {
    await this.#answerFollow(follow, "accept");
  }

  async followRejected(follow: FollowRef): Promise<void> {
    await this.#answerFollow(follow, "reject");
  }

  async #answerFollow(follow: FollowRef, answer: "accept" | "reject"): Promise<void> {
    const ctx = this.#context();
    await this.#toOne(
      { id: new URL(follow.actorIri), inbox: new URL(follow.inbox) },
      // The Follow as received, by ids.
      toAnswer(ctx, answer, { object: followOf(ctx, follow) }),
      answer === "accept" ? "Accept" : "Reject",
    );
  }

  async replyRejected(
    to: Recipient,
    reply: { id: URL; target: URL | null; request?: InteractionRequest },
  ): Promise<void> {
    const ctx = this.#context();
    const object = reply.request ? requestOf(reply.request) : reply.id;
    await this.#toOne(to, toAnswer(ctx, "reject", { object, target: reply.target, to: to.id }), "Reject");
  }

  async requestAnswered(to: Recipient, request: InteractionRequest, stamp: URL | null): Promise<void> {
    const ctx = this.#context();
    const object = requestOf(request);
    await this.#toOne(
      to,
      stamp === null
        ? toAnswer(ctx, "reject", { object })
        : toAnswer(ctx, "accept", { object, result: stamp, to: to.id }),
      stamp === null ? "Reject" : "Accept",
    );
  }

  async followed(account: Recipient, followId: URL): Promise<void> {
    await this.#toOne(account, toFollow(this.#context(), account.id, followId), "Follow");
  }

  async unfollowed(account: Recipient, followId: URL): Promise<void> {
    await this.#toOne(account, toUndoFollow(this.#context(), account.id, followId), "Undo(Follow)");
  }

  async accountMoved(target: URL, at: number): Promise<void> {
    await this.#toFollowers(toMove(this.#context(), target, at), "Move", null);
  }

  async authorizationRevoked(authorization: Authorization): Promise<void> {
    await this.#toOne(
      { id: new URL(authorization.actorIri), inbox: new URL(authorization.inbox) },
      toAuthorizationRevocation(this.#context(), authorization),
      "Delete",
    );
  }

  async stampRevoked(stamp: QuoteStamp): Promise<void> {
    await this.#toOne(
      { id: new URL(stamp.actorIri), inbox: new URL(stamp.inbox) },
      toStampRevocation(this.#context(), stamp),
      "Delete",
    );
  }
}

/**
 * Compacts one Create at start: the first JSON-LD compaction in a process
 * loads and processes the contexts (a few hundred milliseconds), which would
 * otherwise delay the first post's fan-out.
 */
export async function warmUp(ctx: Context<AppData>): Promise<void> {
  const post = unsavedPost(
    { contentHtml: "<p>warm-up</p>", language: ctx.data.config.language, hashtags: ["warmup"] },
    Date.now(),
  );
  const create = await toCreate(ctx, post);
  await create.toJsonLd({ format: "compact", contextLoader: ctx.contextLoader });
}
