import type { Database, Queryable } from "../storage/database.ts";
import { sql } from "../storage/sql.ts";

const CREATED_AT = "actor_created_at";
const SITE_VERSION = "site_version";
const cache = new WeakMap<Database, number>();

/** When the actor first existed (milliseconds since the epoch): fixed at first start. */
export async function actorCreatedAt(db: Database): Promise<number> {
  const cached = cache.get(db);
  if (cached !== undefined) return cached;
  await db.run(
    sql`INSERT INTO instance (key, value) VALUES (${CREATED_AT}, ${String(Date.now())}) ON CONFLICT DO NOTHING`,
  );
  const value = Number(await getSetting(db, CREATED_AT));
  cache.set(db, value);
  return value;
}

/** A number that changes whenever the author changes anything public (for ETags and the response cache). */
export async function siteVersion(db: Queryable): Promise<number> {
  return Number((await getSetting(db, SITE_VERSION)) ?? 0);
}

const bumpListeners = new Set<() => void>();

/** Calls `fn` whenever this process changes a site version (other processes read it again within 100 ms). */
export function onSiteVersionBumped(fn: () => void): () => void {
  bumpListeners.add(fn);
  return () => bumpListeners.delete(fn);
}

export async function bumpSiteVersion(db: Queryable): Promise<void> {
  // Told before and after: a read racing with the change is not kept as current.
  for (const fn of bumpListeners) fn();
  await db.run(
    sql`INSERT INTO instance (key, value) VALUES (${SITE_VERSION}, '1')
        ON CONFLICT (key) DO UPDATE SET value = CAST(CAST(instance.value AS integer) + 1 AS text)`,
  );
  for (const fn of bumpListeners) fn();
}

export async function getSetting(db: Queryable, key: string): Promise<string | undefined> {
  return (await db.get<{ value: string }>(sql`SELECT value FROM instance WHERE key = ${key}`))?.value;
}

export async function setSetting(db: Queryable, key: string, value: string): Promise<void> {
  await db.run(
    sql`INSERT INTO instance (key, value) VALUES (${key}, ${value}) ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
  );
}
