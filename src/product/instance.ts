import { eq } from "drizzle-orm";
import type { Db } from "../storage/db.ts";
import { instance } from "../storage/schema.ts";

const CREATED_AT = "actor_created_at";
const cache = new WeakMap<Db, number>();

/** When the actor first existed (milliseconds since the epoch): fixed at first start. */
export function actorCreatedAt(db: Db): number {
  const cached = cache.get(db);
  if (cached !== undefined) return cached;
  db.insert(instance).values({ key: CREATED_AT, value: String(Date.now()) }).onConflictDoNothing().run();
  const value = Number(db.select().from(instance).where(eq(instance.key, CREATED_AT)).get()?.value);
  cache.set(db, value);
  return value;
}
