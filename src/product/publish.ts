import type { Context } from "@fedify/fedify";
import { getLogger } from "@logtape/logtape";
import type { AppData } from "../context.ts";
import { createFromPost } from "../federation/note.ts";
import { createPost, markQueued, type NewPost, type Post, postsAwaitingQueue } from "./posts.ts";

const logger = getLogger(["lectern", "publish"]);

/**
 * Publishes a post: stores it, then hands its Create to the durable delivery
 * queue. Returns once both are on disk; delivery happens in the server's queue
 * worker, whatever the follower count.
 */
export async function publishPost(ctx: Context<AppData>, input: NewPost): Promise<Post> {
  const post = createPost(ctx.data, input);
  await queueDelivery(ctx, post);
  return post;
}

/** Queues a post's Create for all followers, one request per server where a shared inbox exists. */
export async function queueDelivery(ctx: Context<AppData>, post: Post): Promise<void> {
  const identifier = ctx.data.config.handle;
  await ctx.sendActivity({ identifier }, "followers", createFromPost(ctx, post), {
    preferSharedInbox: true,
    excludeBaseUris: [ctx.data.config.origin],
    // Always through the fan-out queue: publishing costs the same for ten followers or a million.
    fanout: "force",
  });
  markQueued(ctx.data.db, post.id);
}

/** Queues the posts that were stored but whose process died before queuing them. */
export async function queueStrandedPosts(ctx: Context<AppData>): Promise<number> {
  const stranded = postsAwaitingQueue(ctx.data.db);
  for (const post of stranded) {
    logger.info("Queuing delivery of post {id}, stored before a crash", { id: post.id });
    await queueDelivery(ctx, post);
  }
  return stranded.length;
}
