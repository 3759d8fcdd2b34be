import { htmlToText } from "../shared/markup.ts";
import { col, columns } from "../storage/columns.ts";

/*
 * What a post is, once: the domain type, the types derived from it (a post
 * checked before it is stored, an earlier version, a scheduled post), and how
 * each is read from its table (one column map each: the SELECT list and the
 * typed decoder). No database or Fedify code here: every part of Lectern may
 * import it.
 */

/** An attachment of a post: which media file, with the author's description. */
export interface Attachment {
  mediaId: string;
  /** Alt text. */
  alt: string;
  /** Focal point, x and y in -1..1 (Mastodon's convention). */
  focus?: [number, number];
}

export interface Post {
  /** UUIDv7: sorts by creation time. */
  id: string;
  /** What the author wrote (Markdown). */
  source: string;
  /** Sanitized HTML rendered once from `source`. */
  contentHtml: string;
  language: string;
  /** Content warning. */
  summary: string | null;
  sensitive: boolean;
  /** Hashtag names without '#'. */
  hashtags: string[];
  attachments: Attachment[];
  publishedAt: number;
  updatedAt: number | null;
  /** Set once a worker handed it to every channel (see delivery/published.ts). */
  queuedAt: number | null;
  pinnedAt: number | null;
  /** Set when deleted: the row stays, emptied, so the post's URL answers 410. */
  deletedAt: number | null;
  /** How many times it was boosted: a number, nothing about who. */
  boosts: number;
  /** How many accounts liked it (counted when likes are, nothing about who). */
  likes: number;
  /** The author's own post this one continues, if any (a thread). */
  inReplyTo: string | null;
  /** The first post of its thread; null when it is not a continuation. */
  threadRoot: string | null;
  /** A statement's title: the post is then federated as an `Article` with a page of its own. Null: a Note. */
  title: string | null;
}

/** What the author wrote, checked and rendered, ready to be stored (attachments absent: an edit keeps them). */
export type CheckedPost = Pick<
  Post,
  "source" | "contentHtml" | "hashtags" | "language" | "summary" | "sensitive" | "inReplyTo" | "threadRoot" | "title"
> & { attachments?: Attachment[] };

/** A post as it read before an edit, from `at` until the next version. */
export type PostVersion = Pick<Post, "contentHtml" | "summary" | "sensitive" | "language" | "attachments" | "title"> & {
  at: number;
};

/** A post waiting for its time; published (moved to `posts`) by a worker's scheduler. */
export type ScheduledPost = Pick<
  Post,
  "id" | "source" | "language" | "summary" | "sensitive" | "attachments" | "inReplyTo" | "title"
> & {
  /** When to publish, milliseconds since the epoch. */
  publishAt: number;
  /** The time zone the author chose, to show the time back as they wrote it. */
  timeZone: string;
  createdAt: number;
  /** Sent, and waiting out the undo window (published under its id at `publishAt`). */
  held: boolean;
  /** An editor's post under the approval rule: waiting for the owner, or declined with a note. */
  review: "awaiting" | "declined" | null;
  reviewNote: string | null;
  authorId: number | null;
};

/**
 * What a statement says in a sentence or two: its first paragraph as plain text (at most 500 characters).
 * Federated as the Article's `summary` (Mastodon shows title, this and the link) and used by feeds and previews.
 */
export function statementSummary(post: Pick<Post, "contentHtml">): string {
  const first = /<p>([\s\S]*?)<\/p>/.exec(post.contentHtml);
  return htmlToText(first?.[1] ?? post.contentHtml, 500);
}

const attachments = col.json<Attachment[]>([]);

/** `posts` as a Post. */
export const POST_COLUMNS = columns<Post>({
  id: col.text("id"),
  source: col.text("source"),
  contentHtml: col.text("content_html"),
  language: col.text("language"),
  summary: col.textOrNull("summary"),
  sensitive: col.bool("sensitive"),
  hashtags: col.json<string[]>([])("hashtags"),
  attachments: attachments("attachments"),
  publishedAt: col.number("published_at"),
  updatedAt: col.numberOrNull("updated_at"),
  queuedAt: col.numberOrNull("queued_at"),
  pinnedAt: col.numberOrNull("pinned_at"),
  deletedAt: col.numberOrNull("deleted_at"),
  boosts: col.number("boosts"),
  likes: col.number("likes"),
  inReplyTo: col.textOrNull("in_reply_to"),
  threadRoot: col.textOrNull("thread_root"),
  title: col.textOrNull("title"),
});

/** `post_versions` as a PostVersion. */
export const VERSION_COLUMNS = columns<PostVersion>({
  contentHtml: col.text("content_html"),
  summary: col.textOrNull("summary"),
  sensitive: col.bool("sensitive"),
  language: col.text("language"),
  attachments: attachments("attachments"),
  title: col.textOrNull("title"),
  at: col.number("at"),
});

/** `scheduled_posts` as a ScheduledPost. */
export const SCHEDULED_COLUMNS = columns<ScheduledPost>({
  id: col.text("id"),
  source: col.text("source"),
  language: col.text("language"),
  summary: col.textOrNull("summary"),
  sensitive: col.bool("sensitive"),
  attachments: attachments("attachments"),
  publishAt: col.number("publish_at"),
  timeZone: col.text("time_zone"),
  createdAt: col.number("created_at"),
  held: col.bool("held"),
  inReplyTo: col.textOrNull("in_reply_to"),
  review: { column: "review", decode: (v) => (v === "awaiting" || v === "declined" ? v : null) },
  reviewNote: col.textOrNull("review_note"),
  authorId: col.numberOrNull("author_id"),
  title: col.textOrNull("title"),
});
