import { sql } from "../storage/sql.ts";
import { type Authorization, revokeAuthorizations } from "./authorizations.ts";
import type { AppData } from "./context.ts";
import { getFollower } from "./followers.ts";

/* The likes and featuring rules (configuration) applied to what was granted under them. */

/** Whether the featuring rule lets this account feature ours now. */
export async function mayFeature(data: AppData, actorIri: string): Promise<boolean> {
  if (data.config.features === "nobody") return false;
  if (data.config.features === "anyone") return true;
  return (await getFollower(data.db, actorIri))?.status === "accepted";
}

/**
 * At start: when the likes or featuring rule changed since the last start,
 * what the new rule no longer allows is revoked, and each holder is told
 * (Delete of the authorization). Returns how many were revoked.
 */
export async function reviewRules(data: AppData, now: number = Date.now()): Promise<number> {
  const key = ["lectern", "interaction-rules"] as const;
  const rules = { likes: data.config.likes, features: data.config.features };
  const before = await data.kv.get<typeof rules>(key);
  await data.kv.set(key, rules);
  if (before === undefined) return 0;
  const revoked: Authorization[] = [];
  if (before.likes === "counted" && rules.likes !== "counted")
    revoked.push(...(await revokeAuthorizations(data.db, "like", now)));
  if (before.features !== rules.features && rules.features !== "anyone") {
    const stay = new Set<string>();
    for (const a of await data.db.all<{ actorIri: string }>(
      sql`SELECT DISTINCT actor_iri AS "actorIri" FROM authorizations WHERE kind = 'feature' AND revoked_at IS NULL`,
    ))
      if (await mayFeature(data, a.actorIri)) stay.add(a.actorIri);
    revoked.push(...(await revokeAuthorizations(data.db, "feature", now, (a) => !stay.has(a.actorIri))));
  }
  for (const a of revoked) await data.outbox.authorizationRevoked(a);
  return revoked.length;
}
