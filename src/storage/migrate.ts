import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { LecternError } from "../shared/errors.ts";
import type { Database } from "./database.ts";
import { sql } from "./sql.ts";

/** The database is newer than this code (exit 78: it is the installation, not the input, that is wrong). */
export class SchemaTooNewError extends LecternError {
  override name = "SchemaTooNewError";
  constructor(message: string) {
    super(message, 503, 78);
  }
}

interface Migration {
  statements: string[];
  when: number;
  hash: string;
}

const shipped = new Map<Database["dialect"], Migration[]>();
/** The migrations this code ships for a dialect, read from drizzle/ once per process. */
function migrationsOf(dialect: Database["dialect"]): Migration[] {
  let list = shipped.get(dialect);
  if (list === undefined) {
    const folder = fileURLToPath(new URL(`../../drizzle/${dialect}`, import.meta.url));
    const journal = JSON.parse(readFileSync(`${folder}/meta/_journal.json`, "utf8")) as {
      entries: { tag: string; when: number }[];
    };
    list = journal.entries.map((e) => {
      const text = readFileSync(`${folder}/${e.tag}.sql`, "utf8");
      return {
        statements: text.split("--> statement-breakpoint").filter((t) => t.trim() !== ""),
        when: e.when,
        hash: createHash("sha256").update(text).digest("hex"),
      };
    });
    shipped.set(dialect, list);
  }
  return list;
}

/**
 * Applies the migrations drizzle-kit generated for this database's dialect
 * (drizzle/sqlite or drizzle/postgres), recording them in drizzle's own
 * `__drizzle_migrations` table exactly as drizzle's migrator does, so a
 * database migrated by earlier versions carries on. All in one transaction;
 * on PostgreSQL an advisory lock makes processes starting together take turns.
 */
export async function migrate(db: Database, options: { first?: number } = {}): Promise<void> {
  // `first`: only the first n migrations (upgrade tests start from an older schema this way).
  const migrations = migrationsOf(db.dialect).slice(0, options.first);
  const id = db.dialect === "postgres" ? "SERIAL" : "INTEGER";
  await db.run(
    sql.raw(
      `CREATE TABLE IF NOT EXISTS __drizzle_migrations (id ${id} PRIMARY KEY, hash text NOT NULL, created_at numeric)`,
    ),
  );
  await db.transaction(async (tx) => {
    if (tx.dialect === "postgres") await tx.run(sql`SELECT pg_advisory_xact_lock(${7_372_001})`);
    const last = await tx.get<{ created_at: number | string }>(
      sql`SELECT created_at FROM __drizzle_migrations ORDER BY created_at DESC LIMIT 1`,
    );
    const applied = last === undefined ? -1 : Number(last.created_at);
    const newest = migrations.at(-1)?.when ?? -1;
    // A database a newer version migrated: this code would read tables it does not know the shape of.
    if (applied > newest)
      throw new SchemaTooNewError(
        `this database was migrated by a newer version of Lectern (its schema is from ${new Date(applied).toISOString()}, this version knows up to ${new Date(newest).toISOString()}): run that version, or restore the database from before the upgrade`,
      );
    for (const m of migrations) {
      if (m.when <= applied) continue;
      for (const statement of m.statements) await tx.run(sql.raw(statement));
      await tx.run(sql`INSERT INTO __drizzle_migrations (hash, created_at) VALUES (${m.hash}, ${m.when})`);
    }
  });
}

/**
 * How the database's schema stands against the migrations this code ships:
 * how many are not applied yet, and how many applied ones it does not know
 * (a newer version migrated it).
 */
export async function schemaState(db: Database): Promise<{ pending: number; unknown: number }> {
  const migrations = migrationsOf(db.dialect);
  const known = new Set(migrations.map((m) => m.when));
  const applied = (await db.all<{ created_at: number | string }>(sql`SELECT created_at FROM __drizzle_migrations`)).map(
    (r) => Number(r.created_at),
  );
  const done = new Set(applied);
  return {
    pending: migrations.filter((m) => !done.has(m.when)).length,
    unknown: applied.filter((when) => !known.has(when)).length,
  };
}
