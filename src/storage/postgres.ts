import { getLogger } from "@logtape/logtape";
import postgres from "postgres";
import { Problem, postgresUrl } from "../shared/config-parsers.ts";
import { type Database, DatabaseUnavailableError, isUnavailable, type Queryable } from "./database.ts";
import type { Sql } from "./sql.ts";

const logger = getLogger(["lectern", "database"]);

function bind(value: unknown): unknown {
  if (value === undefined) return null;
  if (value !== null && typeof value === "object" && !(value instanceof Uint8Array)) return JSON.stringify(value);
  return value;
}

type Client = postgres.Sql<Record<string, never>>;

let guarded = false;
/**
 * postgres.js 3.4.9 can write to a connection's socket from a timer after the
 * socket is gone when the server goes away mid-write (`Cannot read properties
 * of null (reading 'write')` in connection.js, outside any promise), which
 * would end the process. That one error is logged and ignored: the query it
 * belonged to fails on its own. Any other uncaught exception still ends the
 * process, as it would without this handler.
 */
function guardAgainstDriverRace(): void {
  if (guarded) return;
  guarded = true;
  process.on("uncaughtException", (error) => {
    if (
      error instanceof TypeError &&
      /reading 'write'/.test(error.message) &&
      /postgres[/\\]src[/\\]connection\.js/.test(error.stack ?? "")
    ) {
      logger.debug("Ignored a postgres.js write to a closed connection");
      return;
    }
    console.error(error);
    process.exit(1);
  });
}
type TxClient = postgres.TransactionSql<Record<string, never>>;

/**
 * PostgreSQL (≥ 15) through postgres.js: a pool per process, statements
 * prepared per connection, `bigint` and `numeric` read as numbers
 * (milliseconds and counts fit), LISTEN/NOTIFY for wake-ups across
 * processes. While the server is away every query fails with
 * {@link DatabaseUnavailableError}, logged once per outage.
 */
export class PostgresDatabase implements Database {
  readonly dialect = "postgres" as const;
  readonly sharedNotifications = true;
  readonly client: Client;
  #down = false;
  readonly #max: number;
  /** Queries and transactions running or waiting for a connection (the pool's use, for metrics). */
  #inUse = 0;

  constructor(url: string, options: { max?: number } = {}) {
    guardAgainstDriverRace();
    this.#max = options.max ?? 10;
    // The URL as the configuration read it: postgres.js takes an IPv6 host in brackets as a name to look up.
    const target = postgresUrl(url, false);
    if (target instanceof Problem) throw new Error(`not a PostgreSQL URL: ${target.text}`);
    // The rest of the URL (user, database, sslmode…) as postgres.js reads it, but the host and port as parsed
    // here: it splits a host on ":" (an IPv6 address) and looks "[::1]" up as a name.
    this.client = postgres(target.url, {
      // Lists are what postgres.js keeps internally (one entry per host); its types say a string.
      host: [target.host] as unknown as string,
      port: [target.port] as unknown as number,
      max: this.#max,
      onnotice: () => {},
      connect_timeout: 10,
      idle_timeout: 60,
      types: {
        bigint: { to: 20, from: [20, 1700], serialize: (x: number) => String(x), parse: (x: string) => Number(x) },
      },
    }) as unknown as Client;
  }

  #failed(error: unknown): never {
    if (isUnavailable(error)) {
      if (!this.#down) {
        this.#down = true;
        logger.warning("PostgreSQL is unreachable ({error}); retrying", { error: (error as Error).message });
      }
      throw new DatabaseUnavailableError(`the database is unreachable: ${(error as Error).message}`, { cause: error });
    }
    throw error;
  }

  #up(): void {
    if (this.#down) {
      this.#down = false;
      logger.warning("PostgreSQL is reachable again");
    }
  }

  /** Connections busy or asked for, and how many there may be. */
  pool(): { inUse: number; max: number } {
    return { inUse: this.#inUse, max: this.#max };
  }

  async #query<T>(client: Client | TxClient, query: Sql): Promise<T[] & { count: number }> {
    const { text, params } = query.render((n) => `$${n}`);
    const pooled = client === this.client;
    if (pooled) this.#inUse++;
    try {
      const rows = (await client.unsafe(text, params.map(bind) as never[], { prepare: true })) as unknown as T[] & {
        count: number;
      };
      this.#up();
      return rows;
    } catch (e) {
      return this.#failed(e);
    } finally {
      if (pooled) this.#inUse--;
    }
  }

  on(client: Client | TxClient): Queryable {
    return {
      dialect: "postgres",
      all: <T>(q: Sql) => this.#query<T>(client, q).then((r) => [...r]),
      get: <T>(q: Sql) => this.#query<T>(client, q).then((r) => r[0]),
      run: (q: Sql) => this.#query(client, q).then((r) => r.count),
      transaction: <T>(fn: (tx: Queryable) => Promise<T>) =>
        client === this.client ? this.transaction(fn) : fn(this.on(client)),
    };
  }

  all<T>(query: Sql): Promise<T[]> {
    return this.#query<T>(this.client, query).then((r) => [...r]);
  }
  get<T>(query: Sql): Promise<T | undefined> {
    return this.#query<T>(this.client, query).then((r) => r[0]);
  }
  run(query: Sql): Promise<number> {
    return this.#query(this.client, query).then((r) => r.count);
  }

  async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    this.#inUse++;
    try {
      return (await this.client.begin((tx) => fn(this.on(tx as unknown as TxClient)))) as T;
    } catch (e) {
      return this.#failed(e);
    } finally {
      this.#inUse--;
    }
  }

  async notify(channel: string): Promise<void> {
    try {
      await this.client.notify(channel, "");
    } catch (e) {
      this.#failed(e);
    }
  }

  async listen(channel: string, fn: () => void): Promise<() => Promise<void>> {
    const { unlisten } = await this.client.listen(channel, () => fn());
    return unlisten;
  }

  async close(): Promise<void> {
    await this.client.end({ timeout: 5 });
  }
}
