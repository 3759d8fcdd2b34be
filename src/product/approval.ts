import type { Context } from "@fedify/fedify";
import type { Queryable } from "../storage/database.ts";
import { sql } from "../storage/sql.ts";
import type { AppData } from "./context.ts";
import { getSetting, setSetting } from "./instance.ts";
import { SCHEDULED_COLUMNS, type ScheduledPost } from "./post.ts";
import { checkPost, InvalidPostError, type PostInput } from "./posts.ts";
import { getScheduled, publishDuePosts, storeWaiting, textColumns } from "./schedule.ts";

/*
 * A second pair of eyes: with the owner's approval rule on, what an editor
 * writes waits in `scheduled_posts` (review = "awaiting") until the owner
 * approves it — then it goes out as any post does (the undo window, or its
 * scheduled time) — or declines it with a note the editor sees. An editor's
 * account, or its app token, cannot speak for the author alone.
 */

const KEY = "approval_required";
const COLUMNS = SCHEDULED_COLUMNS.select;

export async function approvalRequired(db: Queryable): Promise<boolean> {
  return (await getSetting(db, KEY)) === "on";
}

export async function requireApproval(db: Queryable, on: boolean): Promise<void> {
  await setSetting(db, KEY, on ? "on" : "off");
}

/** Stores an editor's post for the owner's review; `publishAt` is a scheduled time, or now. */
export async function submitForApproval(
  data: AppData,
  input: PostInput,
  authorId: number,
  options: { publishAt?: number; timeZone?: string } = {},
  now: number = Date.now(),
): Promise<string> {
  const checked = await checkPost(data, input);
  const { id } = await storeWaiting(
    data,
    checked,
    { publishAt: options.publishAt ?? now, timeZone: options.timeZone, review: "awaiting", authorId },
    now,
  );
  return id;
}

/** Posts waiting for the owner, the oldest first (or one author's awaiting and declined posts). */
export async function listForReview(data: AppData, authorId?: number): Promise<ScheduledPost[]> {
  const rows = await data.db.all(
    authorId === undefined
      ? sql`SELECT ${COLUMNS} FROM scheduled_posts WHERE review = 'awaiting' ORDER BY created_at`
      : sql`SELECT ${COLUMNS} FROM scheduled_posts WHERE review IS NOT NULL AND author_id = ${authorId}
            ORDER BY created_at`,
  );
  return rows.map((r) => SCHEDULED_COLUMNS.decode(r));
}

/**
 * Approves a waiting post: from now on it is an ordinary post waiting for its time (now, or the time its
 * editor scheduled), and goes out with the undo window. Once: a second approval, or one after a decline, fails.
 */
export async function approve(ctx: Context<AppData>, id: string, now: number = Date.now()): Promise<void> {
  const changed = await ctx.data.db.run(
    sql`UPDATE scheduled_posts SET review = NULL, publish_at = CASE WHEN publish_at < ${now} THEN ${now} ELSE publish_at END
        WHERE id = ${id} AND review = 'awaiting'`,
  );
  if (changed === 0) throw new InvalidPostError("this post is no longer waiting for approval (already decided)");
  await publishDuePosts(ctx, now);
}

/** The owner edits a waiting post before deciding (what the approval then sends); refused once decided. */
export async function editAwaiting(data: AppData, id: string, input: PostInput): Promise<void> {
  const current = await getScheduled(data, id);
  const checked = await checkPost(data, input, current?.attachments);
  const changed = await data.db.run(
    sql`UPDATE scheduled_posts SET ${textColumns(checked)} WHERE id = ${id} AND review = 'awaiting'`,
  );
  if (changed === 0) throw new InvalidPostError("this post is no longer waiting for approval (already decided)");
}

/** Declines a waiting post with a note for its editor; nothing of it is sent. */
export async function decline(data: AppData, id: string, note: string): Promise<void> {
  if (note.length > 1000) throw new InvalidPostError("note: at most 1,000 characters");
  const changed = await data.db.run(
    sql`UPDATE scheduled_posts SET review = 'declined', review_note = ${note.trim() || null}
        WHERE id = ${id} AND review = 'awaiting'`,
  );
  if (changed === 0) throw new InvalidPostError("this post is no longer waiting for approval (already decided)");
}

/** The editor puts away a declined post of theirs. */
export async function discardDeclined(data: AppData, id: string, authorId: number): Promise<boolean> {
  return (
    (await data.db.run(
      sql`DELETE FROM scheduled_posts WHERE id = ${id} AND review = 'declined' AND author_id = ${authorId}`,
    )) > 0
  );
}
