import type { Context } from "@fedify/fedify";
import { CHANNELS } from "../storage/database.ts";
import { revokePostAuthorizations } from "./authorizations.ts";
import { addBlock, normalizeActor, normalizeDomain, removeBlock } from "./blocks.ts";
import { postChange, siteChanged } from "./changes.ts";
import type { AppData } from "./context.ts";
import { discardEditDraft } from "./edit-drafts.ts";
import { deleteFollowerRow, followersOnHost, getFollower, markAccepted } from "./followers.ts";
import { sweepUnusedMedia } from "./media.ts";
import {
  createPost,
  deletePost,
  editPost,
  getPost,
  InvalidPostError,
  type Post,
  type PostInput,
  setPinned,
} from "./posts.ts";
import { getProfile, type Profile, type ProfileInput, updateProfile } from "./profile.ts";
import { takeStamps } from "./quotes.ts";

/*
 * What the author does, as the web desk, the CLI and the scheduler all call it:
 * store first (on disk before returning), then hand what happened to the
 * outbox (the delivery engine). Returns as soon as both are done, whatever
 * the follower count.
 */

/**
 * Publishes a post: stores it (on disk before returning) and wakes the
 * delivery workers, which turn it into a Create for every follower's server.
 * Costs the same for ten followers or a million; a post stored while no
 * worker runs goes out when one starts.
 */
export async function publishPost(ctx: Context<AppData>, input: PostInput, now: number = Date.now()): Promise<Post> {
  await refuseIfMoved(ctx.data);
  const post = await createPost(ctx.data, input, now);
  await siteChanged(ctx.data, [postChange(post)]);
  await ctx.data.db.notify(CHANNELS.posts);
  return post;
}

export async function publishEdit(
  ctx: Context<AppData>,
  id: string,
  input: PostInput,
  now: number = Date.now(),
): Promise<Post> {
  const before = await getPost(ctx.data.db, id);
  const post = await editPost(ctx.data, id, input, now);
  // Changes saved as a draft are published now, or replaced by these.
  await discardEditDraft(ctx.data.db, id);
  // The tags it had and the tags it has: both tag pages change.
  await siteChanged(ctx.data, [postChange(post), ...(before ? [postChange(before)] : [])]);
  await ctx.data.outbox.postEdited(post);
  return post;
}

/** Deletes a post everywhere; false when there was no such live post. */
export async function publishDelete(ctx: Context<AppData>, id: string, now: number = Date.now()): Promise<boolean> {
  const post = await deletePost(ctx.data.db, id, now);
  if (post === undefined) return false;
  await discardEditDraft(ctx.data.db, id);
  await siteChanged(ctx.data, [postChange(post)]);
  await ctx.data.outbox.postDeleted(post, now);
  // Quotes we allowed are revoked: each quoting server is told the stamp is gone.
  for (const stamp of await takeStamps(ctx.data.db, post.id)) await ctx.data.outbox.stampRevoked(stamp);
  // So are the boosts and likes we authorized (their authorizations are served as gone from now on).
  for (const granted of await revokePostAuthorizations(ctx.data.db, post.id, now))
    await ctx.data.outbox.authorizationRevoked(granted);
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
  const post = await setPinned(ctx.data.db, id, pinned, now);
  await siteChanged(ctx.data, [{ kind: "pins", id: post.id }]);
  await ctx.data.outbox.pinChanged(post, pinned, now);
  return post;
}

/** Saves profile changes and sends the new actor to followers' servers. */
export async function publishProfile(
  ctx: Context<AppData>,
  input: ProfileInput,
  now: number = Date.now(),
): Promise<Profile> {
  const profile = await updateProfile(ctx.data, input, now);
  await siteChanged(ctx.data, [{ kind: "profile" }]);
  await ctx.data.outbox.profileChanged(now);
  return profile;
}

/**
 * A follower is gone (they unfollowed, or their account no longer exists):
 * their row and what shows them on the site, with no message to anyone; true
 * when there was one.
 */
export async function followerLeft(data: AppData, actorIri: string): Promise<boolean> {
  if (!(await deleteFollowerRow(data.db, actorIri))) return false;
  await siteChanged(data, [{ kind: "followers" }]);
  return true;
}

/**
 * Removes a follower; their server is told with a Reject of their Follow, and
 * stops counting them as following. False when they were not following.
 */
export async function dismissFollower(ctx: Context<AppData>, actorIri: string): Promise<boolean> {
  const follower = await getFollower(ctx.data.db, actorIri);
  if (follower === undefined || !(await followerLeft(ctx.data, actorIri))) return false;
  await ctx.data.outbox.followRejected(follower);
  return true;
}

/** Accepts a follower who was waiting for approval; false when there was none. */
export async function approveFollowRequest(ctx: Context<AppData>, actorIri: string): Promise<boolean> {
  const follower = await getFollower(ctx.data.db, actorIri);
  if (follower === undefined || !(await markAccepted(ctx.data.db, actorIri))) return false;
  await siteChanged(ctx.data, [{ kind: "followers" }]);
  await ctx.data.outbox.followAccepted(follower);
  return true;
}

/** Blocks an account: it stops following (told with Reject), cannot follow again, gets nothing. */
export async function blockAccount(ctx: Context<AppData>, actorIri: string): Promise<string> {
  const iri = normalizeActor(actorIri);
  await addBlock(ctx.data.db, "actor", iri);
  await dismissFollower(ctx, iri);
  return iri;
}

/**
 * Blocks a whole server: its followers are removed (silently: we stop talking
 * to it), its follows and inbox traffic are refused, nothing is delivered there.
 */
export async function blockServer(ctx: Context<AppData>, domain: string): Promise<{ domain: string; removed: number }> {
  const host = normalizeDomain(domain);
  await addBlock(ctx.data.db, "domain", host);
  let removed = 0;
  for (const f of await followersOnHost(ctx.data.db, host))
    if (await deleteFollowerRow(ctx.data.db, f.actorIri)) removed++;
  await siteChanged(ctx.data, [{ kind: "followers" }]);
  return { domain: host, removed };
}

export async function unblock(ctx: Context<AppData>, kind: "actor" | "domain", value: string): Promise<boolean> {
  return await removeBlock(ctx.data.db, kind, kind === "domain" ? normalizeDomain(value) : normalizeActor(value));
}

/** After a move, nothing more is published here: followers now read the new account. */
export async function refuseIfMoved(data: AppData): Promise<void> {
  const movedTo = (await getProfile(data)).movedTo;
  if (movedTo !== null)
    throw new InvalidPostError(`this account has moved to ${movedTo}: nothing more is published here`);
}
