import type { Channel } from "../product/outbox.ts";
import type { Post } from "../product/post.ts";
import type { Config } from "../shared/config.ts";
import type { Queryable } from "../storage/database.ts";
import { sql } from "../storage/sql.ts";

/*
 * Readers as a channel: a published post is handed to email and push as one
 * row each (`reader_fanouts`, in the transaction that publishes it); workers
 * then make it due for its readers a chunk at a time, as fediverse fan-outs
 * are queued. Nothing is copied per reader and post: a reader's row says when
 * its next message is due, and the message holds what was published since
 * the last one (see tables-readers.ts).
 */

/** Readers made due per transaction. */
export const READER_CHUNK = 2_000;
/**
 * A message covers posts handed to the channels at least this long ago: a
 * post being published in a transaction not yet committed is never skipped
 * (its time is earlier than the cut only once it is visible).
 */
export const SETTLE_MS = 2_000;

export type ReaderChannelName = "email" | "push";

export function readerChannels(config: Pick<Config, "email" | "push">): ReaderChannelName[] {
  return [...(config.email ? ["email" as const] : []), ...(config.push.enabled ? ["push" as const] : [])];
}

/** The reader channels as one way out of the outbox: they take published posts, and nothing else. */
export function readerChannel(config: Pick<Config, "email" | "push">): Channel {
  const channels = readerChannels(config);
  return {
    postPublished: async (post: Post) => async (tx: Queryable) => {
      const now = Date.now();
      for (const channel of channels)
        await tx.run(sql`INSERT INTO reader_fanouts (post_id, channel, published_at, created_at)
          VALUES (${post.id}, ${channel}, ${now}, ${now}) ON CONFLICT (post_id, channel) DO NOTHING`);
    },
  };
}

/**
 * One step of the oldest reader fan-out still being queued: the next chunk
 * of its readers (by id) made due, and counted. Two workers stepping the same
 * fan-out at once cannot count a chunk twice: the step commits only if the
 * fan-out is still where it read it. Returns false when there was nothing to do.
 */
export async function queueReaderChunk(db: Queryable, now: number, batchMs: number): Promise<boolean> {
  const open = await db.get<{ id: number; channel: string; after_id: number }>(
    sql`SELECT id, channel, after_id FROM reader_fanouts WHERE queued_all = ${false} ORDER BY id LIMIT 1`,
  );
  if (open === undefined) return false;
  const after = Number(open.after_id);
  const email = open.channel === "email";
  const table = sql.raw(email ? "email_subscribers" : "push_subscriptions");
  const mine = email ? sql`AND status = 'confirmed'` : sql``;
  const last = await db.get<{ id: number }>(
    sql`SELECT id FROM ${table} WHERE id > ${after} ${mine} ORDER BY id LIMIT 1 OFFSET ${READER_CHUNK - 1}`,
  );
  const upTo = last === undefined ? null : Number(last.id);
  const range = upTo === null ? sql`id > ${after}` : sql`id > ${after} AND id <= ${upTo}`;
  // A message already due later (a batch, a retry) stays as it is: it will hold this post too.
  // (A second more than the settling time: the worker reads posts up to a cut rounded down to the second.)
  const due = now + Math.max(SETTLE_MS + 1000, email ? batchMs : 0);
  await db
    .transaction(async (tx) => {
      const counted = await tx.get<{ n: number }>(sql`SELECT count(*) AS n FROM ${table} WHERE ${range} ${mine}`);
      await tx.run(sql`UPDATE ${table} SET due_at = ${due}
      WHERE ${range} ${email ? sql`AND status = 'confirmed' AND cadence = 'each'` : sql``}
        AND (due_at IS NULL OR due_at <= ${now})`);
      const moved = await tx.run(sql`UPDATE reader_fanouts
      SET after_id = ${upTo ?? after}, queued_all = ${upTo === null}, queued = queued + ${Number(counted?.n ?? 0)}
      WHERE id = ${open.id} AND after_id = ${after} AND queued_all = ${false}`);
      if (moved !== 1) throw new ChunkTaken();
    })
    .catch((e) => {
      if (!(e instanceof ChunkTaken)) throw e;
    });
  return true;
}

class ChunkTaken extends Error {}

export interface ChannelProgress {
  channel: ReaderChannelName;
  queued: number;
  sent: number;
  failed: number;
  suppressed: number;
}

/** A post's progress by reader channel (each reader counted once per post, whichever message carried it). */
export async function readerProgress(db: Queryable, postId: string): Promise<ChannelProgress[]> {
  const rows = await db.all<Record<string, unknown>>(
    sql`SELECT channel, queued, sent, failed, suppressed FROM reader_fanouts WHERE post_id = ${postId} ORDER BY channel`,
  );
  return rows.map((r) => ({
    channel: r.channel as ReaderChannelName,
    queued: Number(r.queued),
    sent: Number(r.sent),
    failed: Number(r.failed),
    suppressed: Number(r.suppressed),
  }));
}

/** Messages due to readers now, by channel (for `lectern status`). */
export async function readersDue(db: Queryable, now: number): Promise<{ email: number; push: number }> {
  const count = async (table: "email_subscribers" | "push_subscriptions") =>
    Number(
      (await db.get<{ n: number }>(sql`SELECT count(*) AS n FROM ${sql.raw(table)} WHERE due_at <= ${now}`))?.n ?? 0,
    );
  return { email: await count("email_subscribers"), push: await count("push_subscriptions") };
}
