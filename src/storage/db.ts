import { mkdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { type BetterSQLite3Database, drizzle } from "drizzle-orm/better-sqlite3";
import { migrate } from "drizzle-orm/better-sqlite3/migrator";
import * as schema from "./schema.ts";

export type Db = BetterSQLite3Database<typeof schema> & { $client: Database.Database };

const MIGRATIONS = fileURLToPath(new URL("../../drizzle", import.meta.url));

/**
 * Opens (creating if needed) the SQLite database and brings its schema up to date.
 * WAL lets the server and the CLI use the file at the same time.
 */
export function openDatabase(file: string): Db {
  mkdirSync(path.dirname(file), { recursive: true });
  const sqlite = new Database(file);
  sqlite.pragma("journal_mode = WAL");
  sqlite.pragma("busy_timeout = 5000");
  sqlite.pragma("foreign_keys = ON");
  // In WAL mode NORMAL survives process crashes, and a power loss only drops the
  // newest commits (a suffix), which keeps the queue at-least-once. What the
  // author submits is written with `durably` instead.
  sqlite.pragma("synchronous = NORMAL");
  const db = drizzle(sqlite, { schema }) as Db;
  migrate(db, { migrationsFolder: MIGRATIONS });
  return db;
}

/**
 * Runs `fn` in a transaction that is on disk (fsynced) when it returns: for
 * what the author submits, stored before the response even across a power loss.
 */
export function durably<T>(db: Db, fn: () => T): T {
  const c = db.$client;
  c.pragma("synchronous = FULL");
  try {
    return c.transaction(fn).immediate();
  } finally {
    c.pragma("synchronous = NORMAL");
  }
}
