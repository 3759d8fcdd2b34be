import type { Context } from "@fedify/fedify";
import { trace } from "@opentelemetry/api";
import type { AppData } from "../product/context.ts";
import { type Post, postsWhere } from "../product/posts.ts";
import { contextFrom, telemetryState } from "../shared/metrics.ts";
import { LECTERN_VERSION } from "../shared/version.ts";
import type { Queryable } from "../storage/database.ts";
import { sql } from "../storage/sql.ts";
import { wakeDeliveries } from "./fanout.ts";

/*
 * Publishing, as the workers carry it out: a post is stored by whoever wrote
 * it (the desk, the CLI, an app, the scheduler) with nothing sent; a worker
 * claims it and hands `postPublished` to every channel, in the transaction
 * that claims it. However many workers run, a post is published once; a
 * crash in between leaves it for the next round.
 */

/** Marks a post as handed to the channels, if nobody did yet: true for the one caller that gets to do it. */
export async function claimPublished(db: Queryable, id: string, now: number = Date.now()): Promise<boolean> {
  return (await db.run(sql`UPDATE posts SET queued_at = ${now} WHERE id = ${id} AND queued_at IS NULL`)) === 1;
}

/** Posts stored but not yet handed to the channels (new ones, or the process died in between). */
export async function postsAwaitingPublication(db: Queryable, limit = 100): Promise<Post[]> {
  return await postsWhere(db, sql`queued_at IS NULL AND deleted_at IS NULL`, limit);
}

/** Hands every post awaiting publication to the channels; returns how many went. */
export async function publishNewPosts(ctx: Context<AppData>): Promise<number> {
  const { db, outbox } = ctx.data;
  let published = 0;
  for (const post of await postsAwaitingPublication(db)) {
    const claim = async () => {
      const write = await outbox.postPublished(post);
      return await db.transaction(async (tx) => {
        if (!(await claimPublished(tx, post.id))) return false;
        await write(tx);
        return true;
      });
    };
    // Traces on: the fan-out is a child of the request that published the post, wherever that ran.
    const done = telemetryState.tracing ? await traced(db, post.id, claim) : await claim();
    if (done) published++;
  }
  if (published > 0) await wakeDeliveries(db);
  return published;
}

async function traced<T>(db: Queryable, postId: string, fn: () => Promise<T>): Promise<T> {
  const row = await db.get<{ t: string | null }>(sql`SELECT trace_parent AS t FROM posts WHERE id = ${postId}`);
  const tracer = trace.getTracer("lectern", LECTERN_VERSION);
  return await tracer.startActiveSpan(
    "lectern.publish",
    { attributes: { "lectern.post_id": postId } },
    contextFrom(row?.t),
    async (span) => {
      try {
        return await fn();
      } finally {
        span.end();
      }
    },
  );
}
