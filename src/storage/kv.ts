import type { KvKey, KvStore, KvStoreListEntry, KvStoreSetOptions } from "@fedify/fedify";
import type { Database } from "./database.ts";
import { sql } from "./sql.ts";

/**
 * Fedify's {@link KvStore} on Lectern's database (SQLite or PostgreSQL). Keys
 * are stored as JSON arrays; a prefix listing matches on the JSON text of the
 * prefix without its closing bracket, which is exact because JSON escapes
 * every quote.
 */
export class DatabaseKvStore implements KvStore {
  readonly #db: Database;
  constructor(db: Database) {
    this.#db = db;
  }

  async get<T = unknown>(key: KvKey): Promise<T | undefined> {
    const row = await this.#db.get<{ value: string }>(
      sql`SELECT value FROM kv WHERE key = ${JSON.stringify(key)} AND (expires_at IS NULL OR expires_at > ${Date.now()})`,
    );
    return row === undefined ? undefined : (JSON.parse(row.value) as T);
  }

  async set(key: KvKey, value: unknown, options?: KvStoreSetOptions): Promise<void> {
    await this.#db.run(
      sql`INSERT INTO kv (key, value, expires_at) VALUES (${JSON.stringify(key)}, ${JSON.stringify(value)}, ${expiry(options)})
          ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at`,
    );
  }

  async delete(key: KvKey): Promise<void> {
    await this.#db.run(sql`DELETE FROM kv WHERE key = ${JSON.stringify(key)}`);
  }

  async cas(key: KvKey, expectedValue: unknown, newValue: unknown, options?: KvStoreSetOptions): Promise<boolean> {
    const k = JSON.stringify(key);
    return await this.#db.transaction(async (tx) => {
      const lock = tx.dialect === "postgres" ? sql` FOR UPDATE` : sql.empty;
      const row = await tx.get<{ value: string }>(
        sql`SELECT value FROM kv WHERE key = ${k} AND (expires_at IS NULL OR expires_at > ${Date.now()})${lock}`,
      );
      const current = row === undefined ? undefined : JSON.parse(row.value);
      if (!sameJson(current, expectedValue)) return false;
      if (newValue === undefined) await tx.run(sql`DELETE FROM kv WHERE key = ${k}`);
      else {
        await tx.run(
          sql`INSERT INTO kv (key, value, expires_at) VALUES (${k}, ${JSON.stringify(newValue)}, ${expiry(options)})
              ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at`,
        );
      }
      return true;
    });
  }

  async *list(prefix?: KvKey): AsyncIterable<KvStoreListEntry> {
    const now = Date.now();
    const live = sql`(expires_at IS NULL OR expires_at > ${now})`;
    let rows: { key: string; value: string }[];
    if (prefix === undefined || prefix.length === 0) {
      rows = await this.#db.all(sql`SELECT key, value FROM kv WHERE ${live} ORDER BY key`);
    } else {
      // '["a","b"' is the prefix of every longer key '["a","b",…]'; ',' < '-' bounds the range.
      const open = JSON.stringify(prefix).slice(0, -1);
      const c = this.#db.dialect === "postgres" ? sql.raw(' COLLATE "C"') : sql.empty;
      rows = await this.#db.all(
        sql`SELECT key, value FROM kv
            WHERE (key = ${JSON.stringify(prefix)} OR (key${c} >= ${`${open},`} AND key${c} < ${`${open}-`})) AND ${live}
            ORDER BY key${c}`,
      );
    }
    for (const row of rows) yield { key: JSON.parse(row.key) as KvKey, value: JSON.parse(row.value) };
  }

  /** Removes expired entries; run now and then. */
  async purgeExpired(): Promise<number> {
    return await this.#db.run(sql`DELETE FROM kv WHERE expires_at IS NOT NULL AND expires_at <= ${Date.now()}`);
  }
}

function expiry(options?: KvStoreSetOptions): number | null {
  if (options?.ttl == null) return null;
  return Date.now() + Math.round(options.ttl.total("millisecond"));
}

function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined) return false;
  return JSON.stringify(a) === JSON.stringify(b);
}
