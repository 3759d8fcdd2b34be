import type { Context } from "@fedify/fedify";
import { getLogger } from "@logtape/logtape";
import { asc, eq, lte, sql } from "drizzle-orm";
import { isTimeZone } from "../config.ts";
import type { AppData } from "../context.ts";
import { notifyNewPost } from "../delivery/fanout.ts";
import { durably } from "../storage/db.ts";
import { posts, scheduledPosts } from "../storage/schema.ts";
import { Temporal } from "../temporal.ts";
import { uuidv7 } from "./ids.ts";
import { bumpSiteVersion } from "./instance.ts";
import { checkPost, InvalidPostError, type Post, type PostInput } from "./posts.ts";

const logger = getLogger(["lectern", "schedule"]);

export type ScheduledPost = typeof scheduledPosts.$inferSelect;

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

export function schedulePost(data: AppData, input: ScheduleInput, now: number = Date.now()): ScheduledPost {
  const checked = checkPost(data, input);
  const publishAt = resolvePublishTime(input, now);
  return durably(data.db, () =>
    data.db
      .insert(scheduledPosts)
      .values({
        id: uuidv7(now),
        source: checked.source,
        language: checked.language,
        summary: checked.summary,
        sensitive: checked.sensitive,
        attachments: checked.attachments ?? [],
        publishAt,
        timeZone: input.timeZone,
        createdAt: now,
      })
      .returning()
      .get(),
  );
}

export function editScheduled(
  data: AppData,
  id: string,
  input: ScheduleInput,
  now: number = Date.now(),
): ScheduledPost {
  const checked = checkPost(data, input);
  const publishAt = resolvePublishTime(input, now);
  const row = durably(data.db, () =>
    data.db
      .update(scheduledPosts)
      .set({
        source: checked.source,
        language: checked.language,
        summary: checked.summary,
        sensitive: checked.sensitive,
        ...(checked.attachments === undefined ? {} : { attachments: checked.attachments }),
        publishAt,
        timeZone: input.timeZone,
      })
      .where(eq(scheduledPosts.id, id))
      .returning()
      .get(),
  );
  if (row === undefined) throw new InvalidPostError("this scheduled post was already published or cancelled");
  return row;
}

/** Cancels a scheduled post; false when it was already published or cancelled. */
export function cancelScheduled(data: AppData, id: string): boolean {
  return data.db.delete(scheduledPosts).where(eq(scheduledPosts.id, id)).run().changes > 0;
}

export function getScheduled(data: AppData, id: string): ScheduledPost | undefined {
  return data.db.select().from(scheduledPosts).where(eq(scheduledPosts.id, id)).get();
}

export function listScheduled(data: AppData): ScheduledPost[] {
  return data.db.select().from(scheduledPosts).orderBy(asc(scheduledPosts.publishAt)).all();
}

export function nextScheduledAt(data: AppData): number | null {
  return (
    data.db
      .select({ t: sql<number | null>`min(${scheduledPosts.publishAt})` })
      .from(scheduledPosts)
      .get()?.t ?? null
  );
}

/**
 * Publishes every scheduled post whose time has come. Moving it into `posts`
 * is one transaction; its delivery is queued right after (and re-queued at
 * start if the process dies in between).
 */
export async function publishDuePosts(ctx: Context<AppData>, now: number = Date.now()): Promise<Post[]> {
  const { db } = ctx.data;
  const due = db
    .select()
    .from(scheduledPosts)
    .where(lte(scheduledPosts.publishAt, now))
    .orderBy(asc(scheduledPosts.publishAt))
    .all();
  const published: Post[] = [];
  for (const s of due) {
    const post = durably(db, () => {
      if (db.delete(scheduledPosts).where(eq(scheduledPosts.id, s.id)).run().changes === 0) return undefined;
      const checked = checkPost(ctx.data, {
        text: s.source,
        summary: s.summary,
        sensitive: s.sensitive,
        language: s.language,
        attachments: s.attachments,
      });
      return db
        .insert(posts)
        .values({ id: uuidv7(now), ...checked, publishedAt: now })
        .returning()
        .get();
    });
    if (post === undefined) continue;
    bumpSiteVersion(db);
    notifyNewPost(db);
    logger.info("Published scheduled post {id}", { id: post.id });
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
  const interval = options.intervalMs ?? 1000;
  let stopped = false;
  let running: Promise<unknown> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  const tick = () => {
    running = publishDuePosts(ctx(), now())
      .catch((error) => logger.error("Publishing scheduled posts failed: {error}", { error }))
      .finally(() => {
        if (!stopped) timer = setTimeout(tick, interval);
      });
  };
  tick();
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
