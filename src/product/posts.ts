import { InvalidInputError, NotFoundError } from "../shared/errors.ts";
import { UUID_PATTERN, uuidv7 } from "../shared/ids.ts";
import { activeTraceParent } from "../shared/metrics.ts";
import type { Database, Queryable } from "../storage/database.ts";
import { type Sql, sql } from "../storage/sql.ts";
import type { AppData } from "./context.ts";
import { type InlineImage, NestingError, type RenderedText, renderMarkdown } from "./markdown.ts";
import { checkAttachments, getMedia, InvalidMediaError } from "./media.ts";
import {
  type Attachment,
  type CheckedPost,
  POST_COLUMNS,
  type Post,
  type PostVersion,
  VERSION_COLUMNS,
} from "./post.ts";

export type { Attachment, CheckedPost, Post, PostVersion } from "./post.ts";

/** A row of `posts` as a Post; undefined for no row. */
const toPost = (row: Record<string, unknown> | undefined): Post | undefined =>
  row === undefined ? undefined : POST_COLUMNS.decode(row);
const COLUMNS = POST_COLUMNS.select;

export const MAX_POST_LENGTH = 10_000;
/** A statement is long-form: about fifteen thousand words. */
export const MAX_STATEMENT_LENGTH = 100_000;
export const MAX_TITLE_LENGTH = 200;
export const MAX_SUMMARY_LENGTH = 500;
export const MAX_PINNED = 5;

/** What the author got wrong; the message names the field. */
export class InvalidPostError extends InvalidInputError {
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
  /** Continues a thread: the id of one of the author's own live posts (new posts only). */
  inReplyTo?: string | null;
  /** A title makes it a statement (an `Article`): long Markdown with headings and pictures in place. */
  title?: string | null;
}

/**
 * Validates and renders what the author wrote, or throws {@link InvalidPostError}.
 * `kept`: the attachments an edit keeps when it names none (a statement's text places them).
 */
export async function checkPost(data: AppData, input: PostInput, kept: Attachment[] = []): Promise<CheckedPost> {
  const text = input.text.replace(/\r\n?/g, "\n").trim();
  const title = checkTitle(input.title);
  let attachments: Attachment[] | undefined;
  try {
    attachments = input.attachments === undefined ? undefined : await checkAttachments(data, input.attachments);
  } catch (e) {
    if (e instanceof InvalidMediaError) throw new InvalidPostError(e.message);
    throw e;
  }
  if (text === "" && !attachments?.length) throw new InvalidPostError("text: a post needs some text or a picture");
  const length = [...text].length;
  const limit = title === null ? MAX_POST_LENGTH : MAX_STATEMENT_LENGTH;
  if (length > limit)
    throw new InvalidPostError(
      `text: at most ${limit} characters${title === null ? " (a statement, with a title, takes more)" : ""}, got ${length}`,
    );
  const summary = input.summary?.trim() || null;
  if (title !== null && summary !== null)
    throw new InvalidPostError("content warning: a statement has none (its first paragraph is its summary everywhere)");
  if (summary !== null && [...summary].length > MAX_SUMMARY_LENGTH) {
    throw new InvalidPostError(`content warning: at most ${MAX_SUMMARY_LENGTH} characters`);
  }
  const language = input.language?.trim() || data.config.language;
  if (!/^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/.test(language)) {
    throw new InvalidPostError(`language: not a language tag: ${JSON.stringify(language)}`);
  }
  let inReplyTo: string | null = null;
  let threadRoot: string | null = null;
  if (input.inReplyTo) {
    // Only the author's own live posts can be continued: the channel has no replies to anyone else.
    const parent = UUID_PATTERN.test(input.inReplyTo) ? await getLivePost(data.db, input.inReplyTo) : undefined;
    if (parent === undefined) throw new InvalidPostError("thread: the post this continues does not exist (any more)");
    inReplyTo = parent.id;
    threadRoot = parent.threadRoot ?? parent.id;
  }
  let rendered: RenderedText;
  try {
    rendered = renderMarkdown(
      text,
      data.urls,
      title === null ? undefined : await inlineImages(data, attachments ?? kept),
    );
  } catch (e) {
    if (e instanceof NestingError) throw new InvalidPostError(`text: ${e.message}`);
    throw e;
  }
  return {
    title,
    inReplyTo,
    threadRoot,
    source: text,
    contentHtml: rendered.html,
    hashtags: rendered.hashtags,
    language,
    summary,
    sensitive: (input.sensitive ?? false) || summary !== null,
    ...(attachments === undefined ? {} : { attachments }),
  };
}

function checkTitle(value: string | null | undefined): string | null {
  const title = value?.trim() || null;
  if (title === null) return null;
  if (/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u.test(title)) throw new InvalidPostError("title: one line of text");
  if ([...title].length > MAX_TITLE_LENGTH) throw new InvalidPostError(`title: at most ${MAX_TITLE_LENGTH} characters`);
  return title;
}

/** A statement's attachments as it places them in its text, in order (`attachment:1` is the first). */
async function inlineImages(data: AppData, attachments: Attachment[]): Promise<InlineImage[]> {
  const found = await getMedia(
    data,
    attachments.map((a) => a.mediaId),
  );
  return attachments.map((a) => {
    const m = found.get(a.mediaId);
    const image = m?.kind === "image";
    return {
      // A video has no place in the text: its picture is its preview; a missing one links nowhere.
      url: m === undefined ? "" : data.urls.media(image ? m.file : (m.previewFile ?? m.file)).href,
      alt: a.alt,
      width: m?.width ?? null,
      height: m?.height ?? null,
    };
  });
}

/** Checks and stores a new post, on disk before it returns. Delivery is the caller's job. */
export async function createPost(data: AppData, input: PostInput, now: number = Date.now()): Promise<Post> {
  const checked = await checkPost(data, input);
  return await data.db.transaction((tx) => insertPost(tx, checked, now), { durable: true });
}

/** A post that is not stored (a preview, a warm-up): the fields given, the rest as a new post has them. */
export function unsavedPost(fields: Partial<Post> & Pick<Post, "contentHtml" | "language">, now: number): Post {
  return {
    id: "00000000-0000-7000-8000-000000000000",
    source: "",
    summary: null,
    sensitive: false,
    hashtags: [],
    attachments: [],
    publishedAt: now,
    updatedAt: null,
    queuedAt: null,
    pinnedAt: null,
    deletedAt: null,
    boosts: 0,
    likes: 0,
    inReplyTo: null,
    threadRoot: null,
    title: null,
    ...fields,
  };
}

/** The live posts of a thread, first to last (the root included). */
export async function listThread(db: Queryable, root: string): Promise<Post[]> {
  const rows = await db.all(
    sql`SELECT ${COLUMNS} FROM posts WHERE (id = ${root} OR thread_root = ${root}) AND deleted_at IS NULL
        ORDER BY published_at, id LIMIT 200`,
  );
  return rows.map((r) => toPost(r) as Post);
}

/** The ids of the author's live posts that continue this one (its "replies", all the author's own). */
export async function listContinuations(db: Queryable, id: string): Promise<string[]> {
  const rows = await db.all<{ id: string }>(
    sql`SELECT id FROM posts WHERE in_reply_to = ${id} AND deleted_at IS NULL ORDER BY published_at, id LIMIT 100`,
  );
  return rows.map((r) => r.id);
}

/** Stores a checked post (in the caller's transaction). */
export async function insertPost(db: Queryable, checked: CheckedPost, now: number, id = uuidv7(now)): Promise<Post> {
  const row = await db.get(
    sql`INSERT INTO posts (id, source, content_html, language, summary, sensitive, hashtags, attachments, published_at,
          in_reply_to, thread_root, trace_parent, title)
        VALUES (${id}, ${checked.source}, ${checked.contentHtml}, ${checked.language}, ${checked.summary},
                ${checked.sensitive}, ${JSON.stringify(checked.hashtags)}, ${JSON.stringify(checked.attachments ?? [])}, ${now},
                ${checked.inReplyTo}, ${checked.threadRoot}, ${activeTraceParent()}, ${checked.title})
        RETURNING ${COLUMNS}`,
  );
  return toPost(row) as Post;
}

/** Replaces a live post's text; `updatedAt` always moves forward (servers ignore edits that do not). */
export async function editPost(data: AppData, id: string, input: PostInput, now: number = Date.now()): Promise<Post> {
  const checked = await checkPost(data, input, (await getLivePost(data.db, id))?.attachments);
  return await data.db.transaction(
    async (tx) => {
      const current = await getLivePost(tx, id);
      if (current === undefined) throw new PostNotFoundError(id);
      const updatedAt = Math.max(now, (current.updatedAt ?? current.publishedAt) + 1);
      // The version being replaced is kept for the edit history.
      await tx.run(
        sql`INSERT INTO post_versions (post_id, source, content_html, language, summary, sensitive, attachments, title, at)
            SELECT id, source, content_html, language, summary, sensitive, attachments, title, COALESCE(updated_at, published_at)
            FROM posts WHERE id = ${id}`,
      );
      const attachments =
        checked.attachments === undefined ? sql.empty : sql`, attachments = ${JSON.stringify(checked.attachments)}`;
      const row = await tx.get(
        sql`UPDATE posts SET source = ${checked.source}, content_html = ${checked.contentHtml}, language = ${checked.language},
              summary = ${checked.summary}, sensitive = ${checked.sensitive}, hashtags = ${JSON.stringify(checked.hashtags)},
              title = ${checked.title}, updated_at = ${updatedAt}${attachments}
            WHERE id = ${id} RETURNING ${COLUMNS}`,
      );
      return toPost(row) as Post;
    },
    { durable: true },
  );
}

/**
 * Deletes a post: its text is erased, its row stays so the URL answers 410
 * Gone. Returns the post as it was, or undefined when there was none.
 */
export async function deletePost(db: Database, id: string, now: number = Date.now()): Promise<Post | undefined> {
  return await db.transaction(
    async (tx) => {
      const current = await getLivePost(tx, id);
      if (current === undefined) return undefined;
      await tx.run(
        sql`UPDATE posts SET source = '', content_html = '', summary = NULL, title = NULL, hashtags = '[]', attachments = '[]',
              pinned_at = NULL, deleted_at = ${now}
            WHERE id = ${id}`,
      );
      await tx.run(sql`DELETE FROM post_versions WHERE post_id = ${id}`);
      return current;
    },
    { durable: true },
  );
}

export async function setPinned(db: Database, id: string, pinned: boolean, now: number = Date.now()): Promise<Post> {
  const current = await getLivePost(db, id);
  if (current === undefined) throw new PostNotFoundError(id);
  if (pinned && current.pinnedAt === null && (await listPinned(db)).length >= MAX_PINNED) {
    throw new InvalidPostError(`pin: at most ${MAX_PINNED} posts can be pinned; unpin one first`);
  }
  const pinnedAt = pinned ? (current.pinnedAt ?? now) : null;
  return toPost(
    await db.get(sql`UPDATE posts SET pinned_at = ${pinnedAt} WHERE id = ${id} RETURNING ${COLUMNS}`),
  ) as Post;
}

export class PostNotFoundError extends NotFoundError {
  override name = "PostNotFoundError";
  constructor(id: string) {
    super(`no post ${id} (already deleted, or never existed)`);
  }
}

/** A post, deleted or not. */
export async function getPost(db: Queryable, id: string): Promise<Post | undefined> {
  return toPost(await db.get(sql`SELECT ${COLUMNS} FROM posts WHERE id = ${id}`));
}

export async function getLivePost(db: Queryable, id: string): Promise<Post | undefined> {
  return toPost(await db.get(sql`SELECT ${COLUMNS} FROM posts WHERE id = ${id} AND deleted_at IS NULL`));
}

/** Posts (deleted ones too) that `where` picks, oldest published first. */
export async function postsWhere(db: Queryable, where: Sql, limit: number): Promise<Post[]> {
  const rows = await db.all(sql`SELECT ${COLUMNS} FROM posts WHERE ${where} ORDER BY published_at LIMIT ${limit}`);
  return rows.map((r) => toPost(r) as Post);
}

/** Posts handed to the channels after `after` and up to `upTo` (their `queued_at`), not deleted, in that order. */
export async function postsQueuedBetween(db: Queryable, after: number, upTo: number, limit: number): Promise<Post[]> {
  const rows = await db.all(sql`SELECT ${COLUMNS} FROM posts
    WHERE queued_at > ${after} AND queued_at <= ${upTo} AND deleted_at IS NULL ORDER BY queued_at, id LIMIT ${limit}`);
  return rows.map((r) => toPost(r) as Post);
}

export async function countPosts(db: Queryable): Promise<number> {
  return Number((await db.get<{ n: number }>(sql`SELECT count(*) AS n FROM posts WHERE deleted_at IS NULL`))?.n ?? 0);
}

export async function listPinned(db: Queryable): Promise<Post[]> {
  const rows = await db.all(
    sql`SELECT ${COLUMNS} FROM posts WHERE pinned_at IS NOT NULL AND deleted_at IS NULL ORDER BY pinned_at DESC`,
  );
  return rows.map((r) => toPost(r) as Post);
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
  /** Older than this post (the next page down). */
  after?: PostCursor | null;
  /** Newer than this post. */
  newerThan?: PostCursor | null;
  /** With `newerThan`: the posts just above it (the page before), not the newest ones. */
  adjacent?: boolean;
  /** Only posts with this hashtag (case-insensitive). */
  hashtag?: string;
}

/**
 * Live posts newest first, within the cursors when given; one more than
 * `limit` tells whether a next page exists. With `newerThan` and `adjacent`,
 * the `limit` posts right above that post (Mastodon's `min_id`); with
 * `newerThan` alone the newest ones above it (`since_id`).
 */
export async function listPosts(
  db: Queryable,
  limit: number,
  options: ListOptions = {},
): Promise<{ items: Post[]; next: PostCursor | null }> {
  const { after, newerThan, hashtag } = options;
  const conditions = [sql`deleted_at IS NULL`];
  if (after != null) {
    conditions.push(
      sql`(published_at < ${after.publishedAt} OR (published_at = ${after.publishedAt} AND id < ${after.id}))`,
    );
  }
  if (newerThan != null) {
    conditions.push(
      sql`(published_at > ${newerThan.publishedAt} OR (published_at = ${newerThan.publishedAt} AND id > ${newerThan.id}))`,
    );
  }
  const upwards = newerThan != null && options.adjacent === true;
  if (hashtag !== undefined) {
    const tag = hashtag.toLowerCase();
    conditions.push(
      db.dialect === "postgres"
        ? sql`EXISTS (SELECT 1 FROM jsonb_array_elements_text(hashtags::jsonb) AS t(v) WHERE lower(t.v) = ${tag})`
        : sql`EXISTS (SELECT 1 FROM json_each(hashtags) WHERE lower(json_each.value) = ${tag})`,
    );
  }
  const rows = await db.all(
    sql`SELECT ${COLUMNS} FROM posts WHERE ${sql.join(conditions, " AND ")}
        ORDER BY ${upwards ? sql.raw("published_at ASC, id ASC") : sql.raw("published_at DESC, id DESC")} LIMIT ${limit + 1}`,
  );
  const items = rows.slice(0, limit).map((r) => toPost(r) as Post);
  if (upwards) items.reverse();
  const last = items.at(-1);
  return { items, next: rows.length > limit && last ? { publishedAt: last.publishedAt, id: last.id } : null };
}

/** Earlier versions of a post, oldest first (none for a post never edited, or deleted). */
export async function listVersions(db: Queryable, id: string): Promise<PostVersion[]> {
  const rows = await db.all(
    sql`SELECT ${VERSION_COLUMNS.select} FROM post_versions WHERE post_id = ${id} ORDER BY at, id`,
  );
  return rows.map((r) => VERSION_COLUMNS.decode(r));
}
