import { and, desc, eq, isNull, lt, or, sql } from "drizzle-orm";
import type { AppData } from "../context.ts";
import type { Db } from "../storage/db.ts";
import { posts } from "../storage/schema.ts";
import { uuidv7 } from "./ids.ts";
import { renderMarkdown } from "./markdown.ts";

export type Post = typeof posts.$inferSelect;

export const MAX_POST_LENGTH = 10_000;
export const MAX_SUMMARY_LENGTH = 500;

export class InvalidPostError extends Error {
  override name = "InvalidPostError";
}

export interface NewPost {
  /** Markdown. */
  text: string;
  /** Content warning shown before the text. */
  summary?: string | null;
  sensitive?: boolean;
  language?: string;
}

/** Checks and stores a new post. Delivery is {@link queueDelivery}'s job. */
export function createPost(data: AppData, input: NewPost, now: number = Date.now()): Post {
  const text = input.text.replace(/\r\n?/g, "\n").trim();
  if (text === "") throw new InvalidPostError("text: a post needs some text");
  if ([...text].length > MAX_POST_LENGTH) {
    throw new InvalidPostError(`text: at most ${MAX_POST_LENGTH} characters, got ${[...text].length}`);
  }
  const summary = input.summary?.trim() || null;
  if (summary !== null && [...summary].length > MAX_SUMMARY_LENGTH) {
    throw new InvalidPostError(`summary: at most ${MAX_SUMMARY_LENGTH} characters`);
  }
  const language = input.language ?? data.config.language;
  if (!/^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/.test(language)) {
    throw new InvalidPostError(`language: not a language tag: ${JSON.stringify(language)}`);
  }
  const rendered = renderMarkdown(text, data.config.origin);
  const row = {
    id: uuidv7(now),
    source: text,
    contentHtml: rendered.html,
    language,
    summary,
    sensitive: (input.sensitive ?? false) || summary !== null,
    hashtags: rendered.hashtags,
    publishedAt: now,
  };
  return data.db.insert(posts).values(row).returning().get();
}

export function getPost(db: Db, id: string): Post | undefined {
  return db.select().from(posts).where(eq(posts.id, id)).get();
}

export function markQueued(db: Db, id: string, now: number = Date.now()): void {
  db.update(posts).set({ queuedAt: now }).where(eq(posts.id, id)).run();
}

/** Posts stored but never handed to the delivery queue (the process died in between). */
export function postsAwaitingQueue(db: Db): Post[] {
  return db.select().from(posts).where(isNull(posts.queuedAt)).orderBy(posts.publishedAt).all();
}

export function countPosts(db: Db): number {
  return db.select({ n: sql<number>`count(*)` }).from(posts).get()?.n ?? 0;
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

/** Posts newest first, after the cursor when given; one more than `limit` tells whether a next page exists. */
export function listPosts(db: Db, limit: number, after?: PostCursor | null): { items: Post[]; next: PostCursor | null } {
  const where =
    after == null
      ? undefined
      : or(lt(posts.publishedAt, after.publishedAt), and(eq(posts.publishedAt, after.publishedAt), lt(posts.id, after.id)));
  const rows = db
    .select()
    .from(posts)
    .where(where)
    .orderBy(desc(posts.publishedAt), desc(posts.id))
    .limit(limit + 1)
    .all();
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return { items, next: rows.length > limit && last ? { publishedAt: last.publishedAt, id: last.id } : null };
}
