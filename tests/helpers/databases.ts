import { randomBytes } from "node:crypto";
import path from "node:path";
import postgres from "postgres";
import { inject } from "vitest";
import type { Database } from "../../src/storage/database.ts";
import { openDatabase } from "../../src/storage/open.ts";
import { tempDir } from "./lectern.ts";

/** The databases the storage, federation and delivery suites run on. */
export const DIALECTS = ["sqlite", "postgres"] as const;
export type TestDialect = (typeof DIALECTS)[number];

/**
 * Whether a crash scenario (processes started as `npm start` starts them, then killed) runs on this
 * database: on PostgreSQL always (several processes and machines are its case), on SQLite too in
 * `npm run test:slow` (LECTERN_TEST_SLOW=1), which runs every scenario on both: the suite stays near
 * five minutes on two cores.
 */
export function crashScenarioOn(dialect: TestDialect): boolean {
  return dialect === "postgres" || process.env.LECTERN_TEST_SLOW === "1";
}

/** A new, empty PostgreSQL database on the test run's server; its URL. */
export async function testDatabaseUrl(): Promise<string> {
  const admin = inject("postgresUrl");
  const name = `lectern_${randomBytes(6).toString("hex")}`;
  const sql = postgres(admin, { max: 1, onnotice: () => {} });
  try {
    await sql.unsafe(`CREATE DATABASE ${name}`);
  } finally {
    await sql.end();
  }
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return url.href;
}

/** What a test Lectern needs in its environment to run on `dialect`. */
export async function databaseEnv(dialect: TestDialect): Promise<Record<string, string>> {
  return dialect === "postgres" ? { LECTERN_DATABASE_URL: await testDatabaseUrl() } : {};
}

/**
 * A new, empty, migrated database on `dialect` (a SQLite file in a temporary
 * directory, or a new PostgreSQL database); `cleanups` gets its closing and removal.
 */
export async function freshDatabase(dialect: TestDialect, cleanups: (() => unknown)[]): Promise<Database> {
  const tmp = tempDir();
  cleanups.push(tmp.remove);
  const db = await openDatabase({
    databasePath: path.join(tmp.dir, "lectern.sqlite"),
    databaseUrl: dialect === "postgres" ? await testDatabaseUrl() : null,
  });
  cleanups.unshift(() => db.close());
  return db;
}
