import { mkdirSync, statSync } from "node:fs";
import path from "node:path";
import BetterSqlite3 from "better-sqlite3";
import type { Database, Queryable } from "./database.ts";
import { partitionOf } from "./partition.ts";
import type { Sql } from "./sql.ts";

const STATEMENT_CACHE = 500;

type Statement = BetterSqlite3.Statement<unknown[], unknown>;

/**
 * Shared by every connection of this process: while one runs a transaction,
 * the others' queries wait. better-sqlite3 blocks the thread while it waits
 * for a lock, so two connections in one process (tests) must not wait on
 * each other inside SQLite.
 */
let busy: Promise<void> | null = null;

function settle<T>(fn: () => T): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (e) {
    return Promise.reject(e);
  }
}

function bind(value: unknown): unknown {
  if (value === undefined) return null;
  if (typeof value === "boolean") return value ? 1 : 0;
  if (value !== null && typeof value === "object" && !(value instanceof Uint8Array)) return JSON.stringify(value);
  return value;
}

/**
 * The embedded default: one SQLite file in WAL mode (the server and the CLI
 * use it at the same time). better-sqlite3 is synchronous, so a query costs
 * no round trip; statements are prepared once and kept. A transaction holds
 * the connection: other queries of this process wait for it to end (the
 * async code inside must only run queries, not wait on the network).
 */
export class SqliteDatabase implements Database {
  readonly dialect = "sqlite" as const;
  readonly sharedNotifications = false;
  readonly client: BetterSqlite3.Database;
  readonly #statements = new Map<string, Statement>();
  readonly #listeners = new Map<string, Set<() => void>>();

  constructor(file: string) {
    mkdirSync(path.dirname(file), { recursive: true });
    if (statSync(path.dirname(file)).isDirectory() === false)
      throw new Error(`${path.dirname(file)} is not a directory`);
    this.client = new BetterSqlite3(file);
    this.client.pragma("journal_mode = WAL");
    this.client.pragma("busy_timeout = 5000");
    this.client.pragma("foreign_keys = ON");
    // In WAL mode NORMAL survives process crashes, and a power loss only drops the
    // newest commits (a suffix), which keeps the queues at-least-once. What the
    // author submits is committed with `durable` instead.
    this.client.pragma("synchronous = NORMAL");
    this.client.function("lectern_partition", { deterministic: true }, (host, n) =>
      partitionOf(String(host), Number(n)),
    );
  }

  statement(text: string): Statement {
    let s = this.#statements.get(text);
    if (s === undefined) {
      s = this.client.prepare(text);
      if (this.#statements.size >= STATEMENT_CACHE) {
        this.#statements.delete(this.#statements.keys().next().value as string);
      }
      this.#statements.set(text, s);
    }
    return s;
  }

  #prepare(query: Sql): { s: Statement; params: unknown[] } {
    const { text, params } = query.render(() => "?");
    return { s: this.statement(text), params: params.map(bind) };
  }

  /** Runs now, whatever transaction is open: for the transaction's own queries. */
  allNow<T>(query: Sql): T[] {
    const { s, params } = this.#prepare(query);
    return (s.reader ? s.all(...params) : runThen(s, params, [])) as T[];
  }
  getNow<T>(query: Sql): T | undefined {
    const { s, params } = this.#prepare(query);
    return (s.reader ? s.get(...params) : runThen(s, params, undefined)) as T | undefined;
  }
  runNow(query: Sql): number {
    const { s, params } = this.#prepare(query);
    if (s.reader) return s.all(...params).length;
    return s.run(...params).changes;
  }

  async #idle(): Promise<void> {
    while (busy !== null) await busy;
  }

  all<T>(query: Sql): Promise<T[]> {
    if (busy !== null) return this.#idle().then(() => this.allNow<T>(query));
    return settle(() => this.allNow<T>(query));
  }
  get<T>(query: Sql): Promise<T | undefined> {
    if (busy !== null) return this.#idle().then(() => this.getNow<T>(query));
    return settle(() => this.getNow<T>(query));
  }
  run(query: Sql): Promise<number> {
    if (busy !== null) return this.#idle().then(() => this.runNow(query));
    return settle(() => this.runNow(query));
  }

  async transaction<T>(fn: (tx: Queryable) => Promise<T>, options: { durable?: boolean } = {}): Promise<T> {
    // Checked and taken with no await in between: two waiters never both get it.
    while (busy !== null) await busy;
    let release = () => {};
    busy = new Promise<void>((resolve) => {
      release = resolve;
    });
    const tx = new SqliteTransaction(this);
    if (options.durable) this.client.pragma("synchronous = FULL");
    try {
      this.client.exec("BEGIN IMMEDIATE");
      try {
        const result = await fn(tx);
        this.client.exec("COMMIT");
        return result;
      } catch (e) {
        if (this.client.inTransaction) this.client.exec("ROLLBACK");
        throw e;
      }
    } finally {
      if (options.durable) this.client.pragma("synchronous = NORMAL");
      busy = null;
      release();
    }
  }

  notify(channel: string): Promise<void> {
    for (const fn of this.#listeners.get(channel) ?? []) fn();
    return Promise.resolve();
  }

  listen(channel: string, fn: () => void): Promise<() => Promise<void>> {
    let set = this.#listeners.get(channel);
    if (set === undefined) {
      set = new Set();
      this.#listeners.set(channel, set);
    }
    set.add(fn);
    return Promise.resolve(() => {
      set.delete(fn);
      return Promise.resolve();
    });
  }

  close(): Promise<void> {
    if (this.client.open) this.client.close();
    return Promise.resolve();
  }
}

class SqliteTransaction implements Queryable {
  readonly dialect = "sqlite" as const;
  readonly #db: SqliteDatabase;
  constructor(db: SqliteDatabase) {
    this.#db = db;
  }
  all<T>(query: Sql): Promise<T[]> {
    return settle(() => this.#db.allNow<T>(query));
  }
  get<T>(query: Sql): Promise<T | undefined> {
    return settle(() => this.#db.getNow<T>(query));
  }
  run(query: Sql): Promise<number> {
    return settle(() => this.#db.runNow(query));
  }
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    return fn(this);
  }
}

/** Runs a statement that returns no rows, and answers `value` (for all()/get() on an INSERT without RETURNING). */
function runThen<T>(s: Statement, params: unknown[], value: T): T {
  s.run(...params);
  return value;
}
