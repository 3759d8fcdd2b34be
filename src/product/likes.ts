import { Temporal } from "../shared/temporal.ts";
import { sql } from "../storage/sql.ts";
import type { AppData } from "./context.ts";

/*
 * Likes, when counted: a number per post, one per account. What is kept of
 * who liked is what undoing it needs (the Like's id and its actor), for 90
 * days, in the expiring key-value store; never shown anywhere.
 */

const TTL = Temporal.Duration.from({ days: 90 });

/** Counts a like of a post by an account, once; false when that account's like was counted already. */
export async function countLike(data: AppData, postId: string, actor: string, likeId: string): Promise<boolean> {
  const byActor = ["lectern", "like-by", actor, postId] as const;
  if ((await data.kv.get(byActor)) !== undefined) return false;
  await data.kv.set(byActor, likeId, { ttl: TTL });
  await data.kv.set(["lectern", "like", likeId], { postId, actor }, { ttl: TTL });
  await addLikes(data, postId, 1);
  return true;
}

/** Takes back a counted like, only when the one undoing it is the one who liked. */
export async function uncountLike(data: AppData, likeId: string, actor: string): Promise<boolean> {
  const key = ["lectern", "like", likeId] as const;
  const like = await data.kv.get<{ postId: string; actor: string }>(key);
  if (like === undefined || like.actor !== actor) return false;
  await data.kv.delete(key);
  await data.kv.delete(["lectern", "like-by", actor, like.postId]);
  await addLikes(data, like.postId, -1);
  return true;
}

async function addLikes(data: AppData, postId: string, delta: 1 | -1): Promise<void> {
  await data.db.run(
    sql`UPDATE posts SET likes = CASE WHEN likes + ${delta} < 0 THEN 0 ELSE likes + ${delta} END WHERE id = ${postId}`,
  );
}
