import type { Config } from "../shared/config.ts";
import type { Database } from "./database.ts";
import { migrate } from "./migrate.ts";

/**
 * Opens the configured database (SQLite file by default, PostgreSQL when
 * `database_url` is set) and brings its schema up to date. PostgreSQL's
 * driver is loaded only when used.
 */
export async function openDatabase(config: Pick<Config, "databaseUrl" | "databasePath">): Promise<Database> {
  let db: Database;
  if (config.databaseUrl !== null) {
    const { PostgresDatabase } = await import("./postgres.ts");
    db = new PostgresDatabase(config.databaseUrl);
  } else {
    const { SqliteDatabase } = await import("./sqlite.ts");
    db = new SqliteDatabase(config.databasePath);
  }
  try {
    await migrate(db);
  } catch (e) {
    await db.close().catch(() => {});
    throw e;
  }
  return db;
}
