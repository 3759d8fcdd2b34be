import { getLogger } from "@logtape/logtape";
import { fetchDocument, fetchOptions } from "../shared/http-client.ts";
import { Temporal } from "../shared/temporal.ts";
import { sql } from "../storage/sql.ts";
import type { AppData } from "./context.ts";
import { followerLeft } from "./publish.ts";

const logger = getLogger(["lectern", "followers"]);

/**
 * Followers whose inbox answered 404 or 410 are not removed for it (a
 * misconfigured proxy would cost an audience); their actors are checked
 * instead, one by one, at most `limit` a run and each at most once a day. An
 * actor that answers 410 Gone, or is a Tombstone, is gone: that follower, and
 * only that one, is removed. Returns how many were removed.
 */
export async function removeGoneFollowers(data: AppData, limit = 30, now: number = Date.now()): Promise<number> {
  const candidates = await data.db.all<{ actor: string }>(
    sql`SELECT DISTINCT f.actor_iri AS actor FROM followers f
        JOIN deliveries d ON d.inbox = f.inbox OR d.inbox = f.shared_inbox
        WHERE d.last_status IN (404, 410) AND d.updated_at > ${now - 7 * 86_400_000}
        LIMIT 500`,
  );
  const options = fetchOptions(data.config, "application/activity+json");
  let checked = 0;
  let removed = 0;
  for (const { actor } of candidates) {
    if (checked >= limit) break;
    const key = ["lectern", "actor-checked", actor] as const;
    if ((await data.kv.get(key)) !== undefined) continue;
    await data.kv.set(key, now, { ttl: Temporal.Duration.from({ days: 1 }) });
    checked++;
    const answer = await fetchDocument(new URL(actor), options);
    const tombstone = (answer.body as { type?: unknown } | undefined)?.type === "Tombstone";
    if ((answer.status === 410 || tombstone) && (await followerLeft(data, actor))) {
      removed++;
      logger.info("Follower {actor} is gone (its actor answers {why}): removed", {
        actor,
        why: tombstone ? "a Tombstone" : "410",
      });
    }
  }
  return removed;
}
