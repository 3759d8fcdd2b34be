import { existsSync, readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import path from "node:path";
import { parse as parseToml } from "smol-toml";

/** Everything Lectern reads from its configuration, validated, read once at start. */
export interface Config {
  /** Public base URL, without a trailing slash in `origin.href` semantics: use `origin.origin`. */
  readonly origin: URL;
  readonly handle: string;
  readonly port: number;
  readonly host: string;
  readonly dataDir: string;
  readonly databasePath: string;
  /** PostgreSQL connection URL; null keeps everything in the SQLite file at `databasePath`. */
  readonly databaseUrl: string | null;
  /** What this process does: `all` (default), `web` (HTTP only, never delivers) or `worker` (delivery, queue, scheduler; no HTTP but health). */
  readonly role: "all" | "web" | "worker";
  readonly allowPrivateAddress: boolean;
  readonly language: string;
  /** IANA time zone the desk offers first for scheduled posts. */
  readonly timeZone: string;
  readonly logLevel: "debug" | "info" | "warning" | "error";
  readonly profile: {
    readonly name: string;
    readonly summary: string;
    readonly type: "Person" | "Service";
  };
  /** The Bridgy Fed account to follow to be bridged to Bluesky. */
  readonly bridgyFedAccount: string;
  /** Who may quote posts (Mastodon 4.4+ and FEP-044f servers ask first). */
  readonly quotes: "anyone" | "nobody";
  /** Require signed requests from unblocked servers for ActivityPub objects (not the actor or HTML). */
  readonly authorizedFetch: boolean;
  readonly media: {
    readonly maxImageBytes: number;
    readonly maxVideoBytes: number;
  };
  readonly delivery: {
    /** Delay before the first retry of a failed delivery, in milliseconds. */
    readonly retryInitialMs: number;
    /** Upper bound of one retry delay, in milliseconds. */
    readonly retryMaxMs: number;
    /** Attempts per inbox before giving up (the first try included). */
    readonly maxAttempts: number;
    /** Deliveries in flight at once (a request slower than 2 s stops counting, see DeliveryWorker). */
    readonly concurrency: number;
    /** Deliveries in flight to one server at once. */
    readonly perServer: number;
    readonly connectTimeoutMs: number;
    /** Whole request. */
    readonly timeoutMs: number;
    /** A server failing on this many distinct days with no success is paused until it answers a probe. */
    readonly pauseAfterDays: number;
    /** How often an idle queue looks for work queued by another process (the CLI). */
    readonly pollMs: number;
    /** Delivery processes on this machine for `all`: this one plus workers−1 children it supervises. */
    readonly workers: number;
  };
}

export class ConfigError extends Error {
  override name = "ConfigError";
}

type Kind = "string" | "int" | "number" | "bool";

interface Key {
  /** Dotted path in the TOML file. */
  file: string;
  env: string;
  kind: Kind;
  check?: (v: never) => string | undefined;
}

const KEYS = {
  origin: { file: "origin", env: "LECTERN_ORIGIN", kind: "string" },
  handle: {
    file: "handle",
    env: "LECTERN_HANDLE",
    kind: "string",
    check: (v: string) =>
      /^[A-Za-z0-9_]{1,30}$/.test(v) ? undefined : "must be 1 to 30 letters, digits or underscores",
  },
  port: {
    file: "port",
    env: "PORT",
    kind: "int",
    check: (v: number) => (v >= 0 && v <= 65535 ? undefined : "must be a port number from 0 to 65535"),
  },
  host: { file: "host", env: "HOST", kind: "string" },
  dataDir: { file: "data_dir", env: "LECTERN_DATA_DIR", kind: "string" },
  databaseUrl: {
    file: "database_url",
    env: "LECTERN_DATABASE_URL",
    kind: "string",
    check: (v: string) => (/^postgres(ql)?:\/\/./.test(v) ? undefined : "must be a postgres:// URL"),
  },
  role: {
    file: "role",
    env: "LECTERN_ROLE",
    kind: "string",
    check: (v: string) => (["all", "web", "worker"].includes(v) ? undefined : "must be one of all, web, worker"),
  },
  allowPrivateAddress: {
    file: "allow_private_address",
    env: "LECTERN_ALLOW_PRIVATE_ADDRESS",
    kind: "bool",
  },
  language: {
    file: "language",
    env: "LECTERN_LANGUAGE",
    kind: "string",
    check: (v: string) =>
      /^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/.test(v) ? undefined : 'must be a BCP 47 language tag such as "en" or "pt-BR"',
  },
  timeZone: {
    file: "time_zone",
    env: "LECTERN_TIME_ZONE",
    kind: "string",
    check: (v: string) => (isTimeZone(v) ? undefined : 'must be an IANA time zone such as "Europe/Paris" or "UTC"'),
  },
  logLevel: {
    file: "log_level",
    env: "LECTERN_LOG_LEVEL",
    kind: "string",
    check: (v: string) =>
      ["debug", "info", "warning", "error"].includes(v) ? undefined : "must be one of debug, info, warning, error",
  },
  name: {
    file: "profile.name",
    env: "LECTERN_NAME",
    kind: "string",
    check: (v: string) => (v.length >= 1 && v.length <= 100 ? undefined : "must be 1 to 100 characters"),
  },
  summary: {
    file: "profile.summary",
    env: "LECTERN_SUMMARY",
    kind: "string",
    check: (v: string) => (v.length <= 2000 ? undefined : "must be at most 2000 characters"),
  },
  actorType: {
    file: "profile.type",
    env: "LECTERN_ACTOR_TYPE",
    kind: "string",
    check: (v: string) => (v === "Person" || v === "Service" ? undefined : 'must be "Person" or "Service"'),
  },
  quotes: {
    file: "quotes",
    env: "LECTERN_QUOTES",
    kind: "string",
    check: (v: string) => (v === "anyone" || v === "nobody" ? undefined : 'must be "anyone" or "nobody"'),
  },
  authorizedFetch: { file: "authorized_fetch", env: "LECTERN_AUTHORIZED_FETCH", kind: "bool" },
  bridgyFedAccount: {
    file: "bridgy_fed_account",
    env: "LECTERN_BRIDGY_FED_ACCOUNT",
    kind: "string",
    check: (v: string) =>
      /^@?[^@\s]+@[^@\s]+$/.test(v) || /^https:\/\//.test(v) ? undefined : "must be @user@server or an https URL",
  },
  maxImageMb: {
    file: "media.max_image_megabytes",
    env: "LECTERN_MEDIA_MAX_IMAGE_MEGABYTES",
    kind: "number",
    check: (v: number) => (v > 0 && v <= 100 ? undefined : "must be more than 0 and at most 100"),
  },
  maxVideoMb: {
    file: "media.max_video_megabytes",
    env: "LECTERN_MEDIA_MAX_VIDEO_MEGABYTES",
    kind: "number",
    check: (v: number) => (v > 0 && v <= 2000 ? undefined : "must be more than 0 and at most 2000"),
  },
  retryInitial: {
    file: "delivery.retry_initial_seconds",
    env: "LECTERN_DELIVERY_RETRY_INITIAL_SECONDS",
    kind: "number",
    check: (v: number) => (v > 0 && v <= 86400 ? undefined : "must be more than 0 and at most 86400"),
  },
  retryMax: {
    file: "delivery.retry_max_seconds",
    env: "LECTERN_DELIVERY_RETRY_MAX_SECONDS",
    kind: "number",
    check: (v: number) => (v > 0 && v <= 7 * 86400 ? undefined : "must be more than 0 and at most 604800"),
  },
  maxAttempts: {
    file: "delivery.max_attempts",
    env: "LECTERN_DELIVERY_MAX_ATTEMPTS",
    kind: "int",
    check: (v: number) => (v >= 1 && v <= 100 ? undefined : "must be from 1 to 100"),
  },
  concurrency: {
    file: "delivery.concurrency",
    env: "LECTERN_DELIVERY_CONCURRENCY",
    kind: "int",
    check: (v: number) => (v >= 1 && v <= 1000 ? undefined : "must be from 1 to 1000"),
  },
  perServer: {
    file: "delivery.per_server",
    env: "LECTERN_DELIVERY_PER_SERVER",
    kind: "int",
    check: (v: number) => (v >= 1 && v <= 64 ? undefined : "must be from 1 to 64"),
  },
  connectTimeout: {
    file: "delivery.connect_timeout_seconds",
    env: "LECTERN_DELIVERY_CONNECT_TIMEOUT_SECONDS",
    kind: "number",
    check: (v: number) => (v > 0 && v <= 120 ? undefined : "must be more than 0 and at most 120"),
  },
  timeout: {
    file: "delivery.timeout_seconds",
    env: "LECTERN_DELIVERY_TIMEOUT_SECONDS",
    kind: "number",
    check: (v: number) => (v > 0 && v <= 600 ? undefined : "must be more than 0 and at most 600"),
  },
  pauseAfterDays: {
    file: "delivery.pause_after_days",
    env: "LECTERN_DELIVERY_PAUSE_AFTER_DAYS",
    kind: "int",
    check: (v: number) => (v >= 1 && v <= 60 ? undefined : "must be from 1 to 60"),
  },
  workers: {
    file: "delivery.workers",
    env: "LECTERN_DELIVERY_WORKERS",
    kind: "int",
    check: (v: number) => (v >= 1 && v <= 64 ? undefined : "must be from 1 to 64"),
  },
  pollMs: {
    file: "delivery.poll_milliseconds",
    env: "LECTERN_DELIVERY_POLL_MILLISECONDS",
    kind: "int",
    check: (v: number) => (v >= 10 && v <= 60000 ? undefined : "must be from 10 to 60000"),
  },
} satisfies Record<string, Key>;

type Values = { [K in keyof typeof KEYS]?: unknown };

const DEFAULTS = {
  handle: "desk",
  port: 8080,
  host: "127.0.0.1",
  dataDir: "data",
  allowPrivateAddress: false,
  language: "en",
  timeZone: "UTC",
  logLevel: "info",
  name: "Lectern",
  summary: "",
  actorType: "Person",
  quotes: "anyone",
  authorizedFetch: false,
  bridgyFedAccount: "@bsky.brid.gy@bsky.brid.gy",
  maxImageMb: 16,
  maxVideoMb: 200,
  retryInitial: 30,
  retryMax: 6 * 3600,
  maxAttempts: 16,
  concurrency: 128,
  perServer: 4,
  connectTimeout: 5,
  timeout: 15,
  pauseAfterDays: 3,
  pollMs: 250,
} as const;

export interface LoadConfigOptions {
  /** Environment to read; `process.env` by default. */
  env?: Record<string, string | undefined>;
  /** Directory relative paths are resolved against; the working directory by default. */
  cwd?: string;
}

/**
 * Reads the configuration: built-in defaults, then the TOML file named by
 * `LECTERN_CONFIG` (or `config/lectern.toml` when it exists), then environment
 * variables. Throws {@link ConfigError} naming the key and what is wrong.
 */
export function loadConfig(options: LoadConfigOptions = {}): Config {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const raw: Values = {};
  const where: Partial<Record<keyof typeof KEYS, string>> = {};

  const explicitFile = env.LECTERN_CONFIG;
  const file = explicitFile ? path.resolve(cwd, explicitFile) : path.resolve(cwd, "config/lectern.toml");
  if (explicitFile && !existsSync(file)) {
    throw new ConfigError(`LECTERN_CONFIG: no such file: ${file}`);
  }
  if (existsSync(file)) {
    let doc: Record<string, unknown>;
    try {
      doc = parseToml(readFileSync(file, "utf8")) as Record<string, unknown>;
    } catch (e) {
      throw new ConfigError(`${file}: not valid TOML: ${(e as Error).message}`);
    }
    const known = new Set<string>(Object.values(KEYS).map((k) => k.file));
    for (const dotted of flatten(doc)) {
      if (!known.has(dotted)) throw new ConfigError(`${file}: unknown key "${dotted}"`);
    }
    for (const [name, key] of Object.entries(KEYS) as [keyof typeof KEYS, Key][]) {
      const value = lookup(doc, key.file);
      if (value === undefined) continue;
      raw[name] = coerceFileValue(value, key.kind, `${file}: ${key.file}`);
      where[name] = `${file}: ${key.file}`;
    }
  }
  for (const [name, key] of Object.entries(KEYS) as [keyof typeof KEYS, Key][]) {
    const value = env[key.env];
    if (value === undefined || value === "") continue;
    raw[name] = coerceEnvValue(value, key.kind, key.env);
    where[name] = key.env;
  }
  for (const [name, key] of Object.entries(KEYS) as [keyof typeof KEYS, Key][]) {
    if (raw[name] === undefined || key.check === undefined) continue;
    const problem = (key.check as (v: unknown) => string | undefined)(raw[name]);
    if (problem) throw new ConfigError(`${where[name]}: ${problem}, got ${JSON.stringify(raw[name])}`);
  }

  const v = { ...DEFAULTS, ...stripUndefined(raw) } as typeof DEFAULTS & Record<string, unknown>;
  const port = v.port as number;
  const origin = parseOrigin(
    (raw.origin as string | undefined) ?? `http://localhost:${port}`,
    where.origin ?? "LECTERN_ORIGIN (default)",
  );
  const dataDir = path.resolve(cwd, v.dataDir as string);
  if ((v.retryMax as number) < (v.retryInitial as number)) {
    throw new ConfigError(
      `${where.retryMax ?? "delivery.retry_max_seconds"}: must not be less than delivery.retry_initial_seconds (${v.retryInitial})`,
    );
  }
  return {
    origin,
    handle: v.handle as string,
    port,
    host: v.host as string,
    dataDir,
    databasePath: path.join(dataDir, "lectern.sqlite"),
    databaseUrl: (v.databaseUrl as string | undefined) ?? null,
    role: (v.role as Config["role"] | undefined) ?? "all",
    allowPrivateAddress: v.allowPrivateAddress as boolean,
    language: v.language as string,
    timeZone: v.timeZone as string,
    logLevel: v.logLevel as Config["logLevel"],
    profile: {
      name: v.name as string,
      summary: v.summary as string,
      type: v.actorType as "Person" | "Service",
    },
    quotes: v.quotes as "anyone" | "nobody",
    authorizedFetch: v.authorizedFetch as boolean,
    bridgyFedAccount: v.bridgyFedAccount as string,
    media: {
      maxImageBytes: Math.round((v.maxImageMb as number) * 1024 * 1024),
      maxVideoBytes: Math.round((v.maxVideoMb as number) * 1024 * 1024),
    },
    delivery: {
      retryInitialMs: Math.round((v.retryInitial as number) * 1000),
      retryMaxMs: Math.round((v.retryMax as number) * 1000),
      maxAttempts: v.maxAttempts as number,
      concurrency: v.concurrency as number,
      perServer: v.perServer as number,
      connectTimeoutMs: Math.round((v.connectTimeout as number) * 1000),
      timeoutMs: Math.round((v.timeout as number) * 1000),
      pauseAfterDays: v.pauseAfterDays as number,
      pollMs: v.pollMs as number,
      workers: (v.workers as number | undefined) ?? Math.max(1, Math.min(8, availableParallelism())),
    },
  };
}

function parseOrigin(value: string, where: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(`${where}: not a URL, got ${JSON.stringify(value)}`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new ConfigError(`${where}: must be an http(s) URL, got ${JSON.stringify(value)}`);
  }
  if ((url.pathname !== "/" && url.pathname !== "") || url.search || url.hash) {
    throw new ConfigError(
      `${where}: must be a bare origin such as https://example.org (no path), got ${JSON.stringify(value)}`,
    );
  }
  return new URL(url.origin);
}

function coerceEnvValue(value: string, kind: Kind, where: string): unknown {
  switch (kind) {
    case "string":
      return value;
    case "bool":
      if (/^(1|true|yes|on)$/i.test(value)) return true;
      if (/^(0|false|no|off)$/i.test(value)) return false;
      throw new ConfigError(`${where}: must be true or false, got ${JSON.stringify(value)}`);
    case "int":
      if (!/^-?\d+$/.test(value))
        throw new ConfigError(`${where}: must be a whole number, got ${JSON.stringify(value)}`);
      return Number(value);
    case "number": {
      const n = Number(value);
      if (value.trim() === "" || !Number.isFinite(n)) {
        throw new ConfigError(`${where}: must be a number, got ${JSON.stringify(value)}`);
      }
      return n;
    }
  }
}

function coerceFileValue(value: unknown, kind: Kind, where: string): unknown {
  const ok =
    (kind === "string" && typeof value === "string") ||
    (kind === "bool" && typeof value === "boolean") ||
    (kind === "int" && (typeof value === "bigint" || (typeof value === "number" && Number.isInteger(value)))) ||
    (kind === "number" && (typeof value === "number" || typeof value === "bigint"));
  if (!ok) {
    const expected = { string: "a string", bool: "true or false", int: "a whole number", number: "a number" }[kind];
    throw new ConfigError(
      `${where}: must be ${expected}, got ${JSON.stringify(value, (_, x) => (typeof x === "bigint" ? Number(x) : x))}`,
    );
  }
  return typeof value === "bigint" ? Number(value) : value;
}

function flatten(doc: Record<string, unknown>, prefix = ""): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(doc)) {
    const dotted = prefix ? `${prefix}.${k}` : k;
    if (v !== null && typeof v === "object" && !Array.isArray(v) && !(v instanceof Date)) {
      out.push(...flatten(v as Record<string, unknown>, dotted));
    } else {
      out.push(dotted);
    }
  }
  return out;
}

function lookup(doc: Record<string, unknown>, dotted: string): unknown {
  let cur: unknown = doc;
  for (const part of dotted.split(".")) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat("en", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}
