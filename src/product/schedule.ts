import type { Context } from "@fedify/fedify";
import { getLogger } from "@logtape/logtape";
import { isTimeZone } from "../shared/config-parsers.ts";
import { uuidv7 } from "../shared/ids.ts";
import { Temporal } from "../shared/temporal.ts";
import { CHANNELS } from "../storage/database.ts";
import { periodic } from "../storage/periodic.ts";
import { type Sql, sql } from "../storage/sql.ts";
import { postChange, siteChanged } from "./changes.ts";
import type { AppData } from "./context.ts";
import { SCHEDULED_COLUMNS, type ScheduledPost } from "./post.ts";
import { type CheckedPost, checkPost, InvalidPostError, insertPost, type Post, type PostInput } from "./posts.ts";
import { getProfile } from "./profile.ts";

const logger = getLogger(["lectern", "schedule"]);

export type { ScheduledPost } from "./post.ts";

const COLUMNS = SCHEDULED_COLUMNS.select;
const toScheduled = (row: Record<string, unknown> | undefined): ScheduledPost | undefined =>
  row === undefined ? undefined : SCHEDULED_COLUMNS.decode(row);

/** How far ahead a post can be scheduled. */
const MAX_AHEAD_MS = 366 * 86_400_000;

export interface ScheduleInput extends PostInput {
  /** Local date and time as the author typed them, "2026-12-24" and "18:30". */
  date: string;
  time: string;
  timeZone: string;
}

/** The instant the author meant, or an {@link InvalidPostError} saying what is wrong. */
export function resolvePublishTime(input: { date: string; time: string; timeZone: string }, now: number): number {
  if (!isTimeZone(input.timeZone))
    throw new InvalidPostError(`time zone: unknown time zone ${JSON.stringify(input.timeZone)}`);
  let local: Temporal.PlainDateTime;
  try {
    local = Temporal.PlainDateTime.from(`${input.date}T${input.time}`);
  } catch {
    throw new InvalidPostError(
      `scheduled time: ${JSON.stringify(`${input.date} ${input.time}`)} is not a date and time`,
    );
  }
  // A time skipped by a daylight-saving jump moves forward; a repeated one takes the earlier.
  const at = local.toZonedDateTime(input.timeZone, { disambiguation: "compatible" }).epochMilliseconds;
  if (at <= now) throw new InvalidPostError("scheduled time: that moment has passed");
  if (at - now > MAX_AHEAD_MS) throw new InvalidPostError("scheduled time: at most a year ahead");
  return at;
}

export async function schedulePost(
  data: AppData,
  input: ScheduleInput,
  now: number = Date.now(),
): Promise<ScheduledPost> {
  const checked = await checkPost(data, input);
  const publishAt = resolvePublishTime(input, now);
  return await storeWaiting(data, checked, { publishAt, timeZone: input.timeZone }, now);
}

/**
 * Stores a post that is not out yet, on disk before it returns: scheduled (the default), held for the undo
 * window, or waiting for the owner's approval; under `id` when it was given one already.
 */
export async function storeWaiting(
  data: AppData,
  checked: CheckedPost,
  as: { publishAt: number; timeZone?: string; id?: string; held?: boolean; review?: "awaiting"; authorId?: number },
  now: number,
): Promise<ScheduledPost> {
  const row = await data.db.transaction(
    (tx) =>
      tx.get(
        sql`INSERT INTO scheduled_posts (id, source, language, summary, sensitive, attachments, publish_at, time_zone,
              created_at, held, in_reply_to, review, author_id, title)
            VALUES (${as.id ?? uuidv7(now)}, ${checked.source}, ${checked.language}, ${checked.summary},
                    ${checked.sensitive}, ${JSON.stringify(checked.attachments ?? [])}, ${as.publishAt},
                    ${as.timeZone ?? "UTC"}, ${now}, ${as.held ?? false}, ${checked.inReplyTo},
                    ${as.review ?? null}, ${as.authorId ?? null}, ${checked.title})
            RETURNING ${COLUMNS}`,
      ),
    { durable: true },
  );
  return toScheduled(row) as ScheduledPost;
}

/**
 * Changes a scheduled (or waiting) post. `backForApproval`: the change is an editor's under the approval
 * rule, so the post goes back to the owner's queue, approved before or not.
 */
export async function editScheduled(
  data: AppData,
  id: string,
  input: ScheduleInput,
  now: number = Date.now(),
  backForApproval?: { authorId: number },
): Promise<ScheduledPost> {
  const checked = await checkPost(data, input, (await getScheduled(data, id))?.attachments);
  const publishAt = resolvePublishTime(input, now);
  const row = await data.db.transaction(
    (tx) =>
      tx.get(
        sql`UPDATE scheduled_posts SET ${textColumns(checked)}, publish_at = ${publishAt},
              time_zone = ${input.timeZone}${
                backForApproval === undefined
                  ? sql.empty
                  : sql`, review = 'awaiting', review_note = NULL, author_id = ${backForApproval.authorId}`
              }
            WHERE id = ${id} AND held = ${false} RETURNING ${COLUMNS}`,
      ),
    { durable: true },
  );
  if (row === undefined) throw new InvalidPostError("this scheduled post was already published or cancelled");
  return toScheduled(row) as ScheduledPost;
}

/** What a change of a waiting post's text sets: the text and what goes with it (its attachments when given). */
export function textColumns(checked: CheckedPost): Sql {
  const attachments =
    checked.attachments === undefined ? sql.empty : sql`, attachments = ${JSON.stringify(checked.attachments)}`;
  return sql`source = ${checked.source}, title = ${checked.title}, language = ${checked.language},
    summary = ${checked.summary}, sensitive = ${checked.sensitive}${attachments}`;
}

/** Cancels a scheduled post; false when it was already published or cancelled. */
export async function cancelScheduled(data: AppData, id: string): Promise<boolean> {
  return (
    (await data.db.run(sql`DELETE FROM scheduled_posts WHERE id = ${id} AND held = ${false} AND review IS NULL`)) > 0
  );
}

export async function getScheduled(data: AppData, id: string): Promise<ScheduledPost | undefined> {
  return toScheduled(await data.db.get(sql`SELECT ${COLUMNS} FROM scheduled_posts WHERE id = ${id}`));
}

export async function listScheduled(data: AppData, held = false): Promise<ScheduledPost[]> {
  const rows = await data.db.all(
    sql`SELECT ${COLUMNS} FROM scheduled_posts WHERE held = ${held} AND review IS NULL ORDER BY publish_at`,
  );
  return rows.map((r) => toScheduled(r) as ScheduledPost);
}

/**
 * Publishes every scheduled post whose time has come. Taking it out of
 * `scheduled_posts` and storing it in `posts` is one transaction, and only
 * the one that deleted the row publishes it: however many workers run the
 * scheduler, a post goes out once. Its delivery is queued by the workers.
 */
export async function publishDuePosts(ctx: Context<AppData>, now: number = Date.now()): Promise<Post[]> {
  const { db } = ctx.data;
  const due = await db.all(
    sql`SELECT ${COLUMNS} FROM scheduled_posts WHERE publish_at <= ${now} AND review IS NULL ORDER BY publish_at`,
  );
  // After a move nothing more is published here; the scheduled posts stay for the author to see.
  if (due.length > 0 && (await getProfile(ctx.data)).movedTo !== null) return [];
  const published: Post[] = [];
  const undoMs = ctx.data.config.undoMs;
  for (const s of due.map((r) => toScheduled(r) as ScheduledPost)) {
    if (!s.held && undoMs > 0) {
      // Its time has come: it waits out the undo window like any post sent now (the desk counts down).
      await db.run(
        sql`UPDATE scheduled_posts SET held = ${true}, publish_at = ${now + undoMs} WHERE id = ${s.id} AND held = ${false}`,
      );
      continue;
    }
    const checked = await checkPost(ctx.data, {
      text: s.source,
      summary: s.summary,
      sensitive: s.sensitive,
      language: s.language,
      attachments: s.attachments,
      inReplyTo: s.inReplyTo,
      title: s.title,
    });
    const post = await db.transaction(
      async (tx) => {
        if ((await tx.run(sql`DELETE FROM scheduled_posts WHERE id = ${s.id}`)) === 0) return undefined;
        // A held post keeps the id it was given when it was sent (its URL was already handed out).
        const post = await insertPost(tx, checked, now, s.held ? s.id : undefined);
        await siteChanged(ctx.data, [postChange(post)], { tx, now });
        return post;
      },
      { durable: true },
    );
    if (post === undefined) continue;
    await db.notify(CHANNELS.posts);
    await db.notify(CHANNELS.purges);
    logger.info(s.held ? "Published post {id} at the end of its undo window" : "Published scheduled post {id}", {
      id: post.id,
    });
    published.push(post);
  }
  return published;
}

/** Runs {@link publishDuePosts} every `intervalMs` until stopped; the clock is injectable for tests. */
export function startScheduler(
  ctx: () => Context<AppData>,
  options: { now?: () => number; intervalMs?: number } = {},
): { stop(): Promise<void> } {
  const now = options.now ?? Date.now;
  // Every worker looks: a due post is taken by one transaction (its row deleted first), so it leaves once.
  return periodic({
    name: "Publishing scheduled posts",
    everyMs: options.intervalMs ?? 1000,
    failure: "error",
    run: () => publishDuePosts(ctx(), now()),
  });
}
