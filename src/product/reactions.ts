import { Temporal } from "../shared/temporal.ts";
import { sql } from "../storage/sql.ts";
import type { AppData } from "./context.ts";

/*
 * Boosts and (when counted) likes of our posts: a number per post, one per
 * account. What is kept of who reacted is what undoing it needs (the
 * activity's id and its actor), for 90 days, in the expiring key-value
 * store; never shown anywhere.
 */

export type Reaction = "boost" | "like";

const TTL = Temporal.Duration.from({ days: 90 });
const COLUMN = { boost: "boosts", like: "likes" } as const;

/** Counts a reaction to a post by an account, once; false when that account's was counted already. */
export async function countReaction(
  data: AppData,
  kind: Reaction,
  postId: string,
  actor: string,
  activityId: string,
): Promise<boolean> {
  const byActor = ["lectern", `${kind}-by`, actor, postId] as const;
  if ((await data.kv.get(byActor)) !== undefined) return false;
  await data.kv.set(byActor, activityId, { ttl: TTL });
  await data.kv.set(["lectern", kind, activityId], { postId, actor }, { ttl: TTL });
  await add(data, kind, postId, 1);
  return true;
}

/** Takes back a counted reaction, only when the one undoing it is the one who reacted. */
export async function uncountReaction(
  data: AppData,
  kind: Reaction,
  activityId: string,
  actor: string,
): Promise<boolean> {
  const key = ["lectern", kind, activityId] as const;
  const found = await data.kv.get<{ postId: string; actor: string }>(key);
  if (found === undefined || found.actor !== actor) return false;
  await data.kv.delete(key);
  await data.kv.delete(["lectern", `${kind}-by`, actor, found.postId]);
  await add(data, kind, found.postId, -1);
  return true;
}

async function add(data: AppData, kind: Reaction, postId: string, delta: 1 | -1): Promise<void> {
  const column = sql.raw(COLUMN[kind]);
  await data.db.run(
    sql`UPDATE posts SET ${column} = CASE WHEN ${column} + ${delta} < 0 THEN 0 ELSE ${column} + ${delta} END
        WHERE id = ${postId}`,
  );
}
