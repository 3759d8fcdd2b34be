import type { Queryable } from "./database.ts";
import { sql } from "./sql.ts";

/**
 * Takes or renews the lease `name` for `owner` until `now + ttlMs`; true when
 * `owner` holds it afterwards. A lease held by someone else is taken only
 * once it has run out (its holder died or stalled). A worker's lease also
 * says how many deliveries it has in flight and recorded in the last minute.
 */
export async function acquireLease(
  db: Queryable,
  name: string,
  owner: string,
  ttlMs: number,
  now: number = Date.now(),
  pace: { inFlight: number; deliveredLastMinute: number } | null = null,
): Promise<boolean> {
  const changed = await db.run(
    sql`INSERT INTO leases (name, owner, expires_at, in_flight, delivered_last_minute)
        VALUES (${name}, ${owner}, ${now + ttlMs}, ${pace?.inFlight ?? null}, ${pace?.deliveredLastMinute ?? null})
        ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at,
          in_flight = excluded.in_flight, delivered_last_minute = excluded.delivered_last_minute
        WHERE leases.owner = excluded.owner OR leases.expires_at < ${now}`,
  );
  return changed > 0;
}

export async function releaseLease(db: Queryable, name: string, owner: string): Promise<void> {
  await db.run(sql`DELETE FROM leases WHERE name = ${name} AND owner = ${owner}`);
}

/** Live leases whose name starts with `prefix`, with their holders. */
export async function liveLeases(
  db: Queryable,
  prefix: string,
  now: number = Date.now(),
): Promise<{ name: string; owner: string }[]> {
  return await db.all(
    sql`SELECT name, owner FROM leases WHERE name LIKE ${`${prefix}%`} AND expires_at > ${now} ORDER BY name`,
  );
}
