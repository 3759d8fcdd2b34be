import type { KvKey, KvStore, KvStoreListEntry, KvStoreSetOptions } from "@fedify/fedify";
import type { Db } from "./db.ts";

/**
 * Fedify's {@link KvStore} on the SQLite database. Keys are stored as JSON
 * arrays; a prefix listing matches on the JSON text of the prefix without its
 * closing bracket, which is exact because JSON escapes every quote.
 */
export class SqliteKvStore implements KvStore {
  readonly #get;
  readonly #set;
  readonly #delete;
  readonly #list;
  readonly #listAll;
  readonly #purge;
  readonly #db;

  constructor(db: Db) {
    const c = db.$client;
    this.#db = c;
    this.#get = c.prepare<[string, number], { value: string }>(
      "SELECT value FROM kv WHERE key = ? AND (expires_at IS NULL OR expires_at > ?)",
    );
    this.#set = c.prepare<[string, string, number | null]>(
      "INSERT INTO kv (key, value, expires_at) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at",
    );
    this.#delete = c.prepare<[string]>("DELETE FROM kv WHERE key = ?");
    this.#list = c.prepare<[string, string, string, number], { key: string; value: string }>(
      "SELECT key, value FROM kv WHERE (key = ? OR (key >= ? AND key < ?)) AND (expires_at IS NULL OR expires_at > ?) ORDER BY key",
    );
    this.#listAll = c.prepare<[number], { key: string; value: string }>(
      "SELECT key, value FROM kv WHERE expires_at IS NULL OR expires_at > ? ORDER BY key",
    );
    this.#purge = c.prepare<[number]>("DELETE FROM kv WHERE expires_at IS NOT NULL AND expires_at <= ?");
  }

  get<T = unknown>(key: KvKey): Promise<T | undefined> {
    const row = this.#get.get(JSON.stringify(key), Date.now());
    return Promise.resolve(row === undefined ? undefined : (JSON.parse(row.value) as T));
  }

  set(key: KvKey, value: unknown, options?: KvStoreSetOptions): Promise<void> {
    this.#set.run(JSON.stringify(key), JSON.stringify(value), expiry(options));
    return Promise.resolve();
  }

  delete(key: KvKey): Promise<void> {
    this.#delete.run(JSON.stringify(key));
    return Promise.resolve();
  }

  cas(key: KvKey, expectedValue: unknown, newValue: unknown, options?: KvStoreSetOptions): Promise<boolean> {
    const k = JSON.stringify(key);
    const swap = this.#db.transaction(() => {
      const row = this.#get.get(k, Date.now());
      const current = row === undefined ? undefined : JSON.parse(row.value);
      if (!deepEqual(current, expectedValue)) return false;
      if (newValue === undefined) this.#delete.run(k);
      else this.#set.run(k, JSON.stringify(newValue), expiry(options));
      return true;
    });
    return Promise.resolve(swap.immediate());
  }

  async *list(prefix?: KvKey): AsyncIterable<KvStoreListEntry> {
    const now = Date.now();
    let rows: { key: string; value: string }[];
    if (prefix === undefined || prefix.length === 0) {
      rows = this.#listAll.all(now);
    } else {
      // '["a","b"' is the prefix of every longer key '["a","b",…]'; ',' < '-' bounds the range.
      const open = JSON.stringify(prefix).slice(0, -1);
      rows = this.#list.all(JSON.stringify(prefix), `${open},`, `${open}-`, now);
    }
    for (const row of rows) {
      yield { key: JSON.parse(row.key) as KvKey, value: JSON.parse(row.value) };
    }
  }

  /** Removes expired entries; run now and then. */
  purgeExpired(): number {
    return this.#purge.run(Date.now()).changes;
  }
}

function expiry(options?: KvStoreSetOptions): number | null {
  if (options?.ttl == null) return null;
  return Date.now() + options.ttl.total("millisecond");
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined) return false;
  return JSON.stringify(a) === JSON.stringify(b);
}
