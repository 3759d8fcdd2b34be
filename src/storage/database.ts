import { UnavailableError } from "../shared/errors.ts";
import type { Sql } from "./sql.ts";

export type Dialect = "sqlite" | "postgres";

/** A row as the database returns it: column names as written in the query. */
export type Row = Record<string, unknown>;

/** What runs queries: the database itself, or a transaction on it. */
export interface Queryable {
  readonly dialect: Dialect;
  all<T = Row>(query: Sql): Promise<T[]>;
  get<T = Row>(query: Sql): Promise<T | undefined>;
  /** Runs a statement; returns how many rows it changed. */
  run(query: Sql): Promise<number>;
  /**
   * Runs `fn` in one transaction (inside one already, simply runs it). On
   * SQLite it takes the write lock at once (`BEGIN IMMEDIATE`); `durable`
   * makes the commit survive a power loss (what the author submits).
   */
  transaction<T>(fn: (tx: Queryable) => Promise<T>, options?: { durable?: boolean }): Promise<T>;
}

/**
 * Lectern's database: SQLite (one file, the default) or PostgreSQL (any
 * number of processes and machines). Query code is shared; what differs
 * (claims, wake-ups) asks `dialect`.
 */
export interface Database extends Queryable {
  /** Wakes listeners of `channel` in every process (PostgreSQL NOTIFY; in-process only on SQLite). */
  notify(channel: string): Promise<void>;
  /** Calls `fn` when `channel` is notified; returns a function that stops listening. */
  listen(channel: string, fn: () => void): Promise<() => Promise<void>>;
  /** Whether other processes' notifications arrive (PostgreSQL); SQLite processes must poll for them. */
  readonly sharedNotifications: boolean;
  close(): Promise<void>;
}

/**
 * The database cannot be reached (PostgreSQL down or restarting): the web
 * answers 503 with Retry-After, workers back off; nothing is lost.
 */
export class DatabaseUnavailableError extends UnavailableError {
  override name = "DatabaseUnavailableError";
}

/** Parses a JSON column (text on both databases). */
export function json<T>(value: unknown, fallback: T): T {
  if (value === null || value === undefined) return fallback;
  if (typeof value !== "string") return value as T;
  return JSON.parse(value) as T;
}

/** A boolean column: 0/1 on SQLite, true/false on PostgreSQL. */
export function bool(value: unknown): boolean {
  return value === true || value === 1 || value === "1" || value === "t";
}

/** A number column that may be null (bigint and numeric come back as numbers, see postgres.ts). */
export function num(value: unknown): number | null {
  return value === null || value === undefined ? null : Number(value);
}

/** Wake-up channels: a post was stored (turn it into deliveries); deliveries were queued (send them). */
export const CHANNELS = {
  posts: "lectern_posts",
  deliveries: "lectern_deliveries",
  purges: "lectern_purges",
} as const;

/** Errors that mean "the server is away", not "this query is wrong". */
const UNAVAILABLE_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ETIMEDOUT",
  "EPIPE",
  "CONNECTION_CLOSED",
  "CONNECTION_ENDED",
  "CONNECTION_DESTROYED",
  "CONNECT_TIMEOUT",
  "57P01", // admin_shutdown
  "57P02", // crash_shutdown
  "57P03", // cannot_connect_now (starting up)
  "08000",
  "08001",
  "08003",
  "08006",
]);

/** Whether an error means the database is away (not that a query is wrong). */
export function isUnavailable(error: unknown): boolean {
  const code = (error as { code?: string } | null)?.code;
  return (
    error instanceof DatabaseUnavailableError ||
    (typeof code === "string" && UNAVAILABLE_CODES.has(code)) ||
    (error instanceof AggregateError && error.errors.some(isUnavailable))
  );
}
