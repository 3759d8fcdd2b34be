import { bool, index, number, table, text } from "./define.ts";

/*
 * Posts not out yet: scheduled for a time, held for the undo window
 * (`publish.undo_seconds`), or an editor's waiting for the owner's approval. The scheduler moves each to `posts` when its time
 * comes, keeping a held post's id; until then nothing of it is public.
 */
export const scheduledPosts = table(
  "scheduled_posts",
  {
    id: text("id").primaryKey(),
    source: text("source").notNull(),
    language: text("language").notNull(),
    summary: text("summary"),
    sensitive: bool("sensitive").notNull().default(false),
    /** A statement's title; null for a post. */
    title: text("title"),
    attachments: text("attachments").notNull().defaultSql("'[]'"),
    /** When to publish, milliseconds since the epoch. */
    publishAt: number("publish_at").notNull(),
    /** The time zone the author chose, to show the time back as they wrote it. */
    timeZone: text("time_zone").notNull(),
    createdAt: number("created_at").notNull(),
    /** Written and sent, waiting out the undo window (not a scheduled post): published under this id. */
    held: bool("held").notNull().default(false),
    /** The author's own post a held post continues (a thread). */
    inReplyTo: text("in_reply_to"),
    /** An editor's post under the approval rule: "awaiting" the owner, or "declined" (with a note); null: neither. */
    review: text("review"),
    reviewNote: text("review_note"),
    /** Who wrote it (a staff account), for the approval queue. */
    authorId: number("author_id"),
  },
  (t) => [index("scheduled_posts_due").on(t.publishAt)],
);

/**
 * Changes to a published post saved as a draft: nothing of them is public or sent until they are
 * published as the edit (then the row goes). One per post; what the desk's edit page comes back to.
 */
export const editDrafts = table("edit_drafts", {
  postId: text("post_id").primaryKey(),
  /** Who saved it last. */
  staffId: number("staff_id"),
  title: text("title"),
  source: text("source").notNull(),
  summary: text("summary"),
  sensitive: bool("sensitive").notNull().default(false),
  language: text("language").notNull(),
  attachments: text("attachments").notNull().defaultSql("'[]'"),
  updatedAt: number("updated_at").notNull(),
});
