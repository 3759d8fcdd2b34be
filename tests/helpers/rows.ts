import type { Database } from "../../src/storage/database.ts";
import { Sql } from "../../src/storage/sql.ts";

/** The first column of the first row of `text` (plain SQL with `?` placeholders), on either database. */
export async function scalar(db: Database, text: string, ...params: unknown[]): Promise<unknown> {
  const parts = text.split("?");
  const row = await db.get<Record<string, unknown>>(new Sql(parts, params));
  if (row === undefined) return undefined;
  const value = Object.values(row)[0];
  return typeof value === "bigint" ? Number(value) : value;
}

/** All values of the first column of `text`. */
export async function column(db: Database, text: string, ...params: unknown[]): Promise<unknown[]> {
  const rows = await db.all<Record<string, unknown>>(new Sql(text.split("?"), params));
  return rows.map((r) => Object.values(r)[0]);
}

/**
 * Rows in every table but the expiring caches (kv), the work queues (an
 * answer on its way out: Fedify's queue, the deliveries — a success deletes
 * its row — and the Accept and Reject activities) and the leases: what
 * "stored nothing" is checked against.
 */
export async function contentRows(db: Database): Promise<Record<string, number>> {
  const tables = (
    db.dialect === "postgres"
      ? await column(db, "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
      : await column(db, "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
  )
    .map(String)
    .filter((t) => !t.startsWith("__drizzle") && !["kv", "queue", "leases", "deliveries"].includes(t))
    .sort();
  const counts: Record<string, number> = {};
  const answers = "SELECT id FROM outgoing WHERE kind IN ('Accept', 'Reject')";
  for (const t of tables) {
    const where = t === "outgoing" ? ` WHERE id NOT IN (${answers})` : "";
    counts[t] = Number(await scalar(db, `SELECT count(*) FROM "${t}"${where}`));
  }
  return counts;
}
