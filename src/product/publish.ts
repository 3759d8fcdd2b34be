import type { Context } from "@fedify/fedify";
import { Accept, Add, Delete, Follow, PUBLIC_COLLECTION, Reject, Remove, Update } from "@fedify/vocab";
import { getLogger } from "@logtape/logtape";
import type { AppData } from "../context.ts";
import { fanOut, notifyNewPost } from "../delivery/fanout.ts";
import { actorFromProfile } from "../federation/actor.ts";
import { createFromPost, deleteFromPost, postUrl, updateFromPost } from "../federation/note.ts";
import { expandPublicAudience } from "../federation/public-audience.ts";
import { stampUrl } from "../federation/stamps.ts";
import { addBlock, followersOnHost, normalizeActor, normalizeDomain, removeBlock } from "./blocks.ts";
import { approveFollower, type Follower, getFollower, removeFollower } from "./followers.ts";
import { uuidv7 } from "./ids.ts";
import { bumpSiteVersion } from "./instance.ts";
import { sweepUnusedMedia } from "./media.ts";
import {
  createPost,
  deletePost,
  editPost,
  markQueued,
  type Post,
  type PostInput,
  postsAwaitingQueue,
  setPinned,
} from "./posts.ts";
import { type Profile, type ProfileInput, updateProfile } from "./profile.ts";
import { takeStamps } from "./quotes.ts";

const logger = getLogger(["lectern", "publish"]);

/*
 * What the author does, as the web desk, the CLI and the scheduler all call it:
 * store first (on disk before returning), then hand the activity to the durable
 * delivery queue. Returns as soon as both are done, whatever the follower count.
 */

type Activity = Parameters<Context<AppData>["sendActivity"]>[2];

/**
 * Queues an activity for every follower's server (see `fanOut`): its JSON is
 * made once, here; the delivery worker signs and sends it to each server.
 */
async function toFollowers(
  ctx: Context<AppData>,
  activity: Activity,
  kind: string,
  postId: string | null = null,
  alongside?: () => void,
): Promise<void> {
  const json = expandPublicAudience(await activity.toJsonLd({ format: "compact", contextLoader: ctx.contextLoader }));
  fanOut(
    ctx.data.db,
    { activityIri: activity.id?.href ?? "", kind, postId, body: JSON.stringify(json) },
    Date.now(),
    alongside,
  );
}

/**
 * Publishes a post: stores it (on disk before returning) and wakes the
 * server's delivery worker, which queues its Create for every follower's
 * server (see {@link queueNewPosts}). Costs the same for ten followers or a
 * million; a post stored while the server is down goes out when it starts.
 */
export async function publishPost(ctx: Context<AppData>, input: PostInput, now: number = Date.now()): Promise<Post> {
  const post = createPost(ctx.data, input, now);
  bumpSiteVersion(ctx.data.db);
  notifyNewPost(ctx.data.db);
  return post;
}

/** Queues a post's Create for all followers, and marks it queued in the same transaction. */
export async function queueDelivery(ctx: Context<AppData>, post: Post): Promise<void> {
  await toFollowers(ctx, createFromPost(ctx, post), "Create", post.id, () => markQueued(ctx.data.db, post.id));
}

/** Queues the Create of every stored post not queued yet (run by the delivery worker). */
export async function queueNewPosts(ctx: Context<AppData>): Promise<number> {
  const waiting = postsAwaitingQueue(ctx.data.db);
  for (const post of waiting) {
    logger.debug("Queuing the delivery of post {id}", { id: post.id });
    await queueDelivery(ctx, post);
  }
  return waiting.length;
}

export async function publishEdit(
  ctx: Context<AppData>,
  id: string,
  input: PostInput,
  now: number = Date.now(),
): Promise<Post> {
  const post = editPost(ctx.data, id, input, now);
  bumpSiteVersion(ctx.data.db);
  await toFollowers(ctx, updateFromPost(ctx, post), "Update", post.id);
  return post;
}

/** Deletes a post everywhere; false when there was no such live post. */
export async function publishDelete(ctx: Context<AppData>, id: string, now: number = Date.now()): Promise<boolean> {
  const post = deletePost(ctx.data.db, id, now);
  if (post === undefined) return false;
  bumpSiteVersion(ctx.data.db);
  await toFollowers(ctx, deleteFromPost(ctx, post, now), "Delete", post.id);
  // Quotes we allowed are revoked: each quoting server is told the stamp is gone.
  for (const stamp of takeStamps(ctx.data.db, post.id)) {
    const actor = ctx.getActorUri(ctx.data.config.handle);
    await ctx.sendActivity(
      { identifier: ctx.data.config.handle },
      { id: new URL(stamp.actorIri), inboxId: new URL(stamp.inbox), endpoints: null },
      new Delete({
        id: new URL(`#revocations/${stamp.id}`, actor),
        actor,
        object: stampUrl(ctx, stamp.id),
        to: new URL(stamp.actorIri),
      }),
    );
  }
  // Its pictures go too, unless another post or the profile uses them.
  await sweepUnusedMedia(ctx.data, { graceMs: 0, only: post.attachments.map((a) => a.mediaId), now });
  return true;
}

/** Pins or unpins a post on the profile (the `featured` collection), telling followers' servers. */
export async function publishPin(
  ctx: Context<AppData>,
  id: string,
  pinned: boolean,
  now: number = Date.now(),
): Promise<Post> {
  const post = setPinned(ctx.data.db, id, pinned, now);
  bumpSiteVersion(ctx.data.db);
  const handle = ctx.data.config.handle;
  const actor = ctx.getActorUri(handle);
  const values = {
    id: new URL(`#${pinned ? "pins" : "unpins"}/${uuidv7(now)}`, actor),
    actor,
    object: postUrl(ctx, post.id),
    target: ctx.getFeaturedUri(handle),
    to: PUBLIC_COLLECTION,
    cc: ctx.getFollowersUri(handle),
  };
  await toFollowers(ctx, pinned ? new Add(values) : new Remove(values), pinned ? "Add" : "Remove", post.id);
  return post;
}

/** Saves profile changes and sends the new actor to followers' servers. */
export async function publishProfile(
  ctx: Context<AppData>,
  input: ProfileInput,
  now: number = Date.now(),
): Promise<Profile> {
  const profile = updateProfile(ctx.data, input, now);
  bumpSiteVersion(ctx.data.db);
  const handle = ctx.data.config.handle;
  const actor = await actorFromProfile(ctx);
  await toFollowers(
    ctx,
    new Update({
      id: new URL(`#updates/${now}`, ctx.getActorUri(handle)),
      actor: ctx.getActorUri(handle),
      object: actor,
      to: PUBLIC_COLLECTION,
      cc: ctx.getFollowersUri(handle),
    }),
    "Update(Person)",
  );
  return profile;
}

/**
 * Removes a follower; their server is told with a Reject of their Follow, and
 * stops counting them as following. False when they were not following.
 */
export async function rejectFollower(ctx: Context<AppData>, actorIri: string): Promise<boolean> {
  const follower = getFollower(ctx.data.db, actorIri);
  if (follower === undefined || !removeFollower(ctx.data.db, actorIri)) return false;
  bumpSiteVersion(ctx.data.db);
  await answerFollow(ctx, follower, Reject);
  return true;
}

/** Sends a follower Accept or Reject of their Follow (rebuilt from what we stored of it). */
async function answerFollow(
  ctx: Context<AppData>,
  follower: Follower,
  answer: typeof Accept | typeof Reject,
): Promise<void> {
  const handle = ctx.data.config.handle;
  const actor = ctx.getActorUri(handle);
  await ctx.sendActivity(
    { identifier: handle },
    { id: new URL(follower.actorIri), inboxId: new URL(follower.inbox), endpoints: null },
    new answer({
      id: new URL(`#${answer === Accept ? "accepts" : "rejects"}/${uuidv7()}`, actor),
      actor,
      object: new Follow({
        id: follower.followIri ? new URL(follower.followIri) : null,
        actor: new URL(follower.actorIri),
        object: actor,
      }),
    }),
  );
}

/** Accepts a follower who was waiting for approval; false when there was none. */
export async function approveFollowRequest(ctx: Context<AppData>, actorIri: string): Promise<boolean> {
  const follower = getFollower(ctx.data.db, actorIri);
  if (follower === undefined || !approveFollower(ctx.data.db, actorIri)) return false;
  bumpSiteVersion(ctx.data.db);
  await answerFollow(ctx, follower, Accept);
  return true;
}

/** Blocks an account: it stops following (told with Reject), cannot follow again, gets nothing. */
export async function blockAccount(ctx: Context<AppData>, actorIri: string): Promise<string> {
  const iri = normalizeActor(actorIri);
  addBlock(ctx.data.db, "actor", iri);
  await rejectFollower(ctx, iri);
  return iri;
}

/**
 * Blocks a whole server: its followers are removed (silently: we stop talking
 * to it), its follows and inbox traffic are refused, nothing is delivered there.
 */
export function blockServer(ctx: Context<AppData>, domain: string): { domain: string; removed: number } {
  const host = normalizeDomain(domain);
  addBlock(ctx.data.db, "domain", host);
  let removed = 0;
  for (const f of followersOnHost(ctx.data.db, host)) if (removeFollower(ctx.data.db, f.actorIri)) removed++;
  bumpSiteVersion(ctx.data.db);
  return { domain: host, removed };
}

export function unblock(ctx: Context<AppData>, kind: "actor" | "domain", value: string): boolean {
  return removeBlock(ctx.data.db, kind, kind === "domain" ? normalizeDomain(value) : normalizeActor(value));
}
