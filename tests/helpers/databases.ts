import { randomBytes } from "node:crypto";
import postgres from "postgres";
import { inject } from "vitest";

/** The databases the storage, federation and delivery suites run on. */
export const DIALECTS = ["sqlite", "postgres"] as const;
export type TestDialect = (typeof DIALECTS)[number];

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
