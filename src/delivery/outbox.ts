import type { Context } from "@fedify/fedify";
import type { Activity } from "@fedify/vocab";
import type { AppData } from "../context.ts";
import {
  followOf,
  toAnswer,
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
import { type AttachmentExtras, attachmentExtras, finishJson } from "../federation/json.ts";
import type { Follower } from "../product/followers.ts";
import type { Outbox } from "../product/outbox.ts";
import { claimQueued, type Post, postsAwaitingQueue, unsavedPost } from "../product/posts.ts";
import type { QuoteStamp } from "../product/quotes.ts";
import { deliverTo, fanOut, wakeDeliveries } from "./fanout.ts";

/** An activity as the JSON every server receives: compacted once, then finished (see federation/json.ts). */
async function activityJson(ctx: Context<AppData>, activity: Activity, extras?: AttachmentExtras): Promise<string> {
  const compact = await activity.toJsonLd({ format: "compact", contextLoader: ctx.contextLoader });
  return JSON.stringify(finishJson(compact, extras));
}

/**
 * The delivery engine as the product's outbox: each activity becomes JSON
 * once, here, and is stored with its deliveries (one per follower server, or
 * one for a single recipient); the workers sign and send them.
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
  ): Promise<number> {
    const ctx = this.#context();
    const body = await this.#json(activity, extras);
    const { deliveries } = await fanOut(ctx.data.db, {
      activityIri: activity.id?.href ?? "",
      kind,
      postId,
      body,
    });
    await wakeDeliveries(ctx.data.db);
    return deliveries;
  }

  async send(recipient: { id: URL; inbox: URL }, activity: Activity, kind: string, postId: string | null = null) {
    const ctx = this.#context();
    const body = await this.#json(activity);
    await deliverTo(ctx.data.db, { activityIri: activity.id?.href ?? "", kind, postId, body }, recipient.inbox.href);
    await wakeDeliveries(ctx.data.db);
  }

  async postUpdated(post: Post): Promise<void> {
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

  async followAnswered(follower: Pick<Follower, "actorIri" | "followIri" | "inbox">, accepted: boolean) {
    const ctx = this.#context();
    const answer = toAnswer(ctx, accepted ? "accept" : "reject", { object: followOf(ctx, follower) });
    await this.send(
      { id: new URL(follower.actorIri), inbox: new URL(follower.inbox) },
      answer,
      accepted ? "Accept" : "Reject",
    );
  }

  async followed(account: { id: URL; inbox: URL }, followId: URL): Promise<void> {
    await this.send(account, toFollow(this.#context(), account.id, followId), "Follow");
  }

  async unfollowed(account: { id: URL; inbox: URL }, followId: URL): Promise<void> {
    await this.send(account, toUndoFollow(this.#context(), account.id, followId), "Undo(Follow)");
  }

  async accountMoved(target: URL, at: number): Promise<void> {
    await this.#toFollowers(toMove(this.#context(), target, at), "Move", null);
  }

  async stampRevoked(stamp: QuoteStamp): Promise<void> {
    const ctx = this.#context();
    await this.send(
      { id: new URL(stamp.actorIri), inbox: new URL(stamp.inbox) },
      toStampRevocation(ctx, stamp),
      "Delete",
    );
  }
}

/**
 * Turns every stored post not yet delivered into a Create for all followers
 * (run by the delivery workers). Each post is claimed in the same
 * transaction as its deliveries are written, so however many workers run, a
 * post is fanned out once; a crash in between leaves it for the next round.
 */
export async function queueNewPosts(ctx: Context<AppData>): Promise<number> {
  const { db } = ctx.data;
  const waiting = await postsAwaitingQueue(db);
  let queued = 0;
  for (const post of waiting) {
    const create = await toCreate(ctx, post);
    const body = await activityJson(ctx, create, await attachmentExtras(ctx.data, [post]));
    const done = await db.transaction(async (tx) => {
      if (!(await claimQueued(tx, post.id))) return false;
      await fanOut(tx, { activityIri: create.id?.href ?? "", kind: "Create", postId: post.id, body });
      return true;
    });
    if (done) queued++;
  }
  if (queued > 0) await wakeDeliveries(db);
  return queued;
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
