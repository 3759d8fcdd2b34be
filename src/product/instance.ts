import { eq, sql } from "drizzle-orm";
import type { Db } from "../storage/db.ts";
import { instance } from "../storage/schema.ts";

const CREATED_AT = "actor_created_at";
const SITE_VERSION = "site_version";
const cache = new WeakMap<Db, number>();

/** When the actor first existed (milliseconds since the epoch): fixed at first start. */
export function actorCreatedAt(db: Db): number {
  const cached = cache.get(db);
  if (cached !== undefined) return cached;
  db.insert(instance)
    .values({ key: CREATED_AT, value: String(Date.now()) })
    .onConflictDoNothing()
    .run();
  const value = Number(db.select().from(instance).where(eq(instance.key, CREATED_AT)).get()?.value);
  cache.set(db, value);
  return value;
}

/** A number that changes whenever the author changes anything public (for ETags). */
export function siteVersion(db: Db): number {
  return Number(db.select().from(instance).where(eq(instance.key, SITE_VERSION)).get()?.value ?? 0);
}

export function bumpSiteVersion(db: Db): void {
  db.insert(instance)
    .values({ key: SITE_VERSION, value: "1" })
    .onConflictDoUpdate({ target: instance.key, set: { value: sql`cast(${instance.value} as integer) + 1` } })
    .run();
}

export function getSetting(db: Db, key: string): string | undefined {
  return db.select().from(instance).where(eq(instance.key, key)).get()?.value;
}

export function setSetting(db: Db, key: string, value: string): void {
  db.insert(instance).values({ key, value }).onConflictDoUpdate({ target: instance.key, set: { value } }).run();
}
