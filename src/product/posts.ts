import { and, desc, eq, isNotNull, isNull, lt, or, sql } from "drizzle-orm";
import type { AppData } from "../context.ts";
import { type Db, durably } from "../storage/db.ts";
import { type Attachment, posts } from "../storage/schema.ts";
import { uuidv7 } from "./ids.ts";
import { renderMarkdown } from "./markdown.ts";
import { checkAttachments, InvalidMediaError } from "./media.ts";

export type Post = typeof posts.$inferSelect;

export const MAX_POST_LENGTH = 10_000;
export const MAX_SUMMARY_LENGTH = 500;
export const MAX_PINNED = 5;

/** What the author got wrong; the message names the field. */
export class InvalidPostError extends Error {
  override name = "InvalidPostError";
}

export interface PostInput {
  /** Markdown. */
  text: string;
  /** Content warning shown before the text. */
  summary?: string | null;
  sensitive?: boolean;
  language?: string;
  /** Uploaded media with their descriptions; on an edit, absent keeps what the post has. */
  attachments?: Attachment[];
}

export interface CheckedPost {
  source: string;
  contentHtml: string;
  hashtags: string[];
  language: string;
  summary: string | null;
  sensitive: boolean;
  attachments?: Attachment[];
}

/** Validates and renders what the author wrote, or throws {@link InvalidPostError}. */
export function checkPost(data: AppData, input: PostInput): CheckedPost {
  const text = input.text.replace(/\r\n?/g, "\n").trim();
  let attachments: Attachment[] | undefined;
  try {
    attachments = input.attachments === undefined ? undefined : checkAttachments(data, input.attachments);
  } catch (e) {
    if (e instanceof InvalidMediaError) throw new InvalidPostError(e.message);
    throw e;
  }
  if (text === "" && !attachments?.length) throw new InvalidPostError("text: a post needs some text or a picture");
  const length = [...text].length;
  if (length > MAX_POST_LENGTH)
    throw new InvalidPostError(`text: at most ${MAX_POST_LENGTH} characters, got ${length}`);
  const summary = input.summary?.trim() || null;
  if (summary !== null && [...summary].length > MAX_SUMMARY_LENGTH) {
    throw new InvalidPostError(`content warning: at most ${MAX_SUMMARY_LENGTH} characters`);
  }
  const language = input.language?.trim() || data.config.language;
  if (!/^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/.test(language)) {
    throw new InvalidPostError(`language: not a language tag: ${JSON.stringify(language)}`);
  }
  const rendered = renderMarkdown(text, data.config.origin);
  return {
    source: text,
    contentHtml: rendered.html,
    hashtags: rendered.hashtags,
    language,
    summary,
    sensitive: (input.sensitive ?? false) || summary !== null,
    ...(attachments === undefined ? {} : { attachments }),
  };
}

/** Checks and stores a new post, on disk before it returns. Delivery is the caller's job. */
export function createPost(data: AppData, input: PostInput, now: number = Date.now()): Post {
  const checked = checkPost(data, input);
  return durably(data.db, () =>
    data.db
      .insert(posts)
      .values({ id: uuidv7(now), ...checked, publishedAt: now })
      .returning()
      .get(),
  );
}

/** Replaces a live post's text; `updatedAt` always moves forward (servers ignore edits that do not). */
export function editPost(data: AppData, id: string, input: PostInput, now: number = Date.now()): Post {
  const checked = checkPost(data, input);
  return durably(data.db, () => {
    const current = getLivePost(data.db, id);
    if (current === undefined) throw new PostNotFoundError(id);
    const updatedAt = Math.max(now, (current.updatedAt ?? current.publishedAt) + 1);
    return data.db
      .update(posts)
      .set({ ...checked, updatedAt })
      .where(eq(posts.id, id))
      .returning()
      .get();
  });
}

/**
 * Deletes a post: its text is erased, its row stays so the URL answers 410
 * Gone. Returns the post as it was, or undefined when there was none.
 */
export function deletePost(db: Db, id: string, now: number = Date.now()): Post | undefined {
  return durably(db, () => {
    const current = getLivePost(db, id);
    if (current === undefined) return undefined;
    db.update(posts)
      .set({
        source: "",
        contentHtml: "",
        summary: null,
        hashtags: [],
        attachments: [],
        pinnedAt: null,
        deletedAt: now,
      })
      .where(eq(posts.id, id))
      .run();
    return current;
  });
}

export function setPinned(db: Db, id: string, pinned: boolean, now: number = Date.now()): Post {
  const current = getLivePost(db, id);
  if (current === undefined) throw new PostNotFoundError(id);
  if (pinned && current.pinnedAt === null && listPinned(db).length >= MAX_PINNED) {
    throw new InvalidPostError(`pin: at most ${MAX_PINNED} posts can be pinned; unpin one first`);
  }
  return db
    .update(posts)
    .set({ pinnedAt: pinned ? (current.pinnedAt ?? now) : null })
    .where(eq(posts.id, id))
    .returning()
    .get();
}

export class PostNotFoundError extends Error {
  override name = "PostNotFoundError";
  constructor(id: string) {
    super(`no post ${id}`);
  }
}

/** A post, deleted or not. */
export function getPost(db: Db, id: string): Post | undefined {
  return db.select().from(posts).where(eq(posts.id, id)).get();
}

export function getLivePost(db: Db, id: string): Post | undefined {
  return db
    .select()
    .from(posts)
    .where(and(eq(posts.id, id), isNull(posts.deletedAt)))
    .get();
}

export function markQueued(db: Db, id: string, now: number = Date.now()): void {
  db.update(posts).set({ queuedAt: now }).where(eq(posts.id, id)).run();
}

/** Posts stored but never handed to the delivery queue (the process died in between). */
export function postsAwaitingQueue(db: Db): Post[] {
  return db
    .select()
    .from(posts)
    .where(and(isNull(posts.queuedAt), isNull(posts.deletedAt)))
    .orderBy(posts.publishedAt)
    .all();
}

export function countPosts(db: Db): number {
  return db.select({ n: sql<number>`count(*)` }).from(posts).where(isNull(posts.deletedAt)).get()?.n ?? 0;
}

export function listPinned(db: Db): Post[] {
  return db
    .select()
    .from(posts)
    .where(and(isNotNull(posts.pinnedAt), isNull(posts.deletedAt)))
    .orderBy(desc(posts.pinnedAt))
    .all();
}

/** A stable position in the newest-first list of posts. */
export interface PostCursor {
  publishedAt: number;
  id: string;
}

export function encodePostCursor(post: PostCursor): string {
  return `${post.publishedAt}_${post.id}`;
}

export function decodePostCursor(cursor: string): PostCursor | null {
  const m = /^(\d{1,15})_([0-9a-f-]{36})$/.exec(cursor);
  return m === null ? null : { publishedAt: Number(m[1]), id: m[2] };
}

export interface ListOptions {
  after?: PostCursor | null;
  /** Only posts with this hashtag (case-insensitive). */
  hashtag?: string;
}

/** Live posts newest first, after the cursor when given; one more than `limit` tells whether a next page exists. */
export function listPosts(
  db: Db,
  limit: number,
  options: ListOptions = {},
): { items: Post[]; next: PostCursor | null } {
  const { after, hashtag } = options;
  const conditions = [isNull(posts.deletedAt)];
  if (after != null) {
    conditions.push(
      or(
        lt(posts.publishedAt, after.publishedAt),
        and(eq(posts.publishedAt, after.publishedAt), lt(posts.id, after.id)),
      )!,
    );
  }
  if (hashtag !== undefined) {
    conditions.push(
      sql`exists (select 1 from json_each(${posts.hashtags}) where lower(json_each.value) = ${hashtag.toLowerCase()})`,
    );
  }
  const rows = db
    .select()
    .from(posts)
    .where(and(...conditions))
    .orderBy(desc(posts.publishedAt), desc(posts.id))
    .limit(limit + 1)
    .all();
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return { items, next: rows.length > limit && last ? { publishedAt: last.publishedAt, id: last.id } : null };
}
