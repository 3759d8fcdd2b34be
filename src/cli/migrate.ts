import type { Config } from "../shared/config.ts";
import { migrate, schemaState } from "../storage/migrate.ts";
import { connectDatabase } from "../storage/open.ts";
import { sql } from "../storage/sql.ts";

/**
 * `lectern migrate`: brings the database's schema up to date as an explicit
 * step (an upgrade of a web + worker deployment runs it once, before
 * restarting the processes on the new version; see the README). A database
 * a newer version migrated is refused, naming both versions (exit 78).
 */
export async function migrateCommand(config: Config): Promise<number> {
  const db = await connectDatabase(config);
  try {
    // A new database has no bookkeeping table yet: everything is pending.
    const before = await schemaState(db).catch(() => ({ pending: -1 }));
    await migrate(db);
    const after = await schemaState(db);
    if (before.pending === -1)
      before.pending = after.pending === 0 ? (await db.all(sql`SELECT 1 FROM __drizzle_migrations`)).length : 0;
    console.log(
      before.pending === 0
        ? "The schema is current; nothing to apply."
        : `Applied ${before.pending} migrations; the schema is current (${after.pending} pending).`,
    );
    return 0;
  } finally {
    await db.close();
  }
}
