import type { Config } from "../shared/config.ts";
import type { Database } from "./database.ts";
import { migrate } from "./migrate.ts";

/**
 * Opens the configured database (SQLite file by default, PostgreSQL when
 * `database_url` is set) and brings its schema up to date. PostgreSQL's
 * driver is loaded only when used.
 */
export async function openDatabase(config: Pick<Config, "databaseUrl" | "databasePath">): Promise<Database> {
  const db = await connectDatabase(config);
  try {
    await migrate(db);
  } catch (e) {
    await db.close().catch(() => {});
    throw e;
  }
  return db;
}

/** The configured database, as it is (no migration): `lectern migrate` reports what it applies. */
export async function connectDatabase(config: Pick<Config, "databaseUrl" | "databasePath">): Promise<Database> {
  if (config.databaseUrl !== null) {
    const { PostgresDatabase } = await import("./postgres.ts");
    return new PostgresDatabase(config.databaseUrl);
  }
  const { SqliteDatabase } = await import("./sqlite.ts");
  return new SqliteDatabase(config.databasePath);
}
