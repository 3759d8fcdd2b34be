import type { Db } from "../../src/storage/db.ts";

/**
 * Rows in every table but the expiring caches (kv) and the work queue (an
 * answer on its way out): what "stored nothing" is checked against.
 */
export function contentRows(db: Db): Record<string, number> {
  const c = db.$client;
  const tables = c
    .prepare(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '__drizzle%' AND name NOT IN ('kv', 'queue')",
    )
    .pluck()
    .all() as string[];
  return Object.fromEntries(tables.map((t) => [t, c.prepare(`SELECT count(*) FROM "${t}"`).pluck().get() as number]));
}
