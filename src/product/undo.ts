import type { Context } from "@fedify/fedify";
import { uuidv7 } from "../shared/ids.ts";
import { sql } from "../storage/sql.ts";
import type { AppData } from "./context.ts";
import { checkPost, getPost, InvalidPostError, type Post, type PostInput, unsavedPost } from "./posts.ts";
import { publishPost, refuseIfMoved } from "./publish.ts";
import { listScheduled, publishDuePosts, type ScheduledPost, storeWaiting } from "./schedule.ts";

/*
 * The undo window (`publish.undo_seconds`): a post sent from the desk, the
 * CLI or an app is stored at once, under the id it will keep, but held back
 * from everything public — pages, feeds, outbox, followers' inboxes, email,
 * push — until its deadline; until then the author can take it back (nothing
 * of it ever left) or send it at once. Held posts are rows of
 * `scheduled_posts` (held = true): the scheduler, which every worker runs
 * each second, publishes each once, and they survive restarts and crashes.
 */

export type Submitted = { post: Post; sendAt: null } | { post: Post; sendAt: number };

/** Publishes a post now, or, with an undo window, holds it until `sendAt` (the post as it will be). */
export async function submitPost(
  ctx: Context<AppData>,
  input: PostInput,
  now: number = Date.now(),
): Promise<Submitted> {
  const { undoMs } = ctx.data.config;
  if (undoMs === 0) return { post: await publishPost(ctx, input, now), sendAt: null };
  await refuseIfMoved(ctx.data);
  const checked = await checkPost(ctx.data, input);
  const id = uuidv7(now);
  const sendAt = now + undoMs;
  await storeWaiting(ctx.data, checked, { id, publishAt: sendAt, held: true }, now);
  const post = unsavedPost({ ...checked, id, attachments: checked.attachments ?? [] }, now);
  return { post, sendAt };
}

/** Posts waiting out their undo window, the soonest first. */
export function listHeld(data: AppData): Promise<ScheduledPost[]> {
  return listScheduled(data, true);
}

/** Why a held post could not be undone or sent: it is out already, or there is no such post. */
async function notHeld(data: AppData, id: string): Promise<never> {
  const post = await getPost(data.db, id);
  if (post !== undefined && post.deletedAt === null)
    throw new InvalidPostError("this post is already out: its undo window has passed (delete it instead)");
  throw new InvalidPostError("there is no post waiting with that id (already undone, or never sent)");
}

/** Takes back a post inside its window: nothing of it was sent or shown, nothing is kept. */
export async function undoPost(data: AppData, id: string): Promise<void> {
  const gone = await data.db.run(sql`DELETE FROM scheduled_posts WHERE id = ${id} AND held = ${true}`);
  if (gone === 0) await notHeld(data, id);
}

/** Ends a post's window now: it is published at once (by this call, or by a worker's scheduler first). */
export async function sendNow(ctx: Context<AppData>, id: string, now: number = Date.now()): Promise<void> {
  const moved = await ctx.data.db.run(
    sql`UPDATE scheduled_posts SET publish_at = ${now} WHERE id = ${id} AND held = ${true}`,
  );
  if (moved === 0) await notHeld(ctx.data, id);
  await publishDuePosts(ctx, now);
}
