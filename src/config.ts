import { existsSync, readFileSync } from "node:fs";
import type { BlockList } from "node:net";
import { availableParallelism } from "node:os";
import path from "node:path";
import { parse as parseToml } from "smol-toml";
import { flag, oneOf, type Parser, Problem, positive, proxies, text, whole } from "./config-parsers.ts";

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
  /** Inbox activities that need work (not noise) accepted per second from one server (15 times that at once). */
  readonly inboxRatePerServer: number;
  /** Reverse proxies whose X-Forwarded-For is believed (addresses and CIDR ranges); null: none. */
  readonly trustedProxies: BlockList | null;
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

interface Setting<T> {
  /** Dotted path in the TOML file. */
  file: string;
  env: string;
  parse: Parser<T>;
}

const setting = <T>(file: string, env: string, parse: Parser<T>): Setting<T> => ({ file, env, parse });

const SETTINGS = {
  origin: setting("origin", "LECTERN_ORIGIN", text()),
  handle: setting(
    "handle",
    "LECTERN_HANDLE",
    text((v) => (/^[A-Za-z0-9_]{1,30}$/.test(v) ? undefined : "must be 1 to 30 letters, digits or underscores")),
  ),
  port: setting("port", "PORT", whole(0, 65535, "must be a port number from 0 to 65535")),
  host: setting("host", "HOST", text()),
  dataDir: setting("data_dir", "LECTERN_DATA_DIR", text()),
  databaseUrl: setting(
    "database_url",
    "LECTERN_DATABASE_URL",
    text((v) => (/^postgres(ql)?:\/\/./.test(v) ? undefined : "must be a postgres:// URL")),
  ),
  role: setting("role", "LECTERN_ROLE", oneOf(["all", "web", "worker"] as const, "must be one of all, web, worker")),
  allowPrivateAddress: setting("allow_private_address", "LECTERN_ALLOW_PRIVATE_ADDRESS", flag),
  language: setting(
    "language",
    "LECTERN_LANGUAGE",
    text((v) =>
      /^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/.test(v) ? undefined : 'must be a BCP 47 language tag such as "en" or "pt-BR"',
    ),
  ),
  timeZone: setting(
    "time_zone",
    "LECTERN_TIME_ZONE",
    text((v) => (isTimeZone(v) ? undefined : 'must be an IANA time zone such as "Europe/Paris" or "UTC"')),
  ),
  logLevel: setting(
    "log_level",
    "LECTERN_LOG_LEVEL",
    oneOf(["debug", "info", "warning", "error"] as const, "must be one of debug, info, warning, error"),
  ),
  name: setting(
    "profile.name",
    "LECTERN_NAME",
    text((v) => (v.length >= 1 && v.length <= 100 ? undefined : "must be 1 to 100 characters")),
  ),
  summary: setting(
    "profile.summary",
    "LECTERN_SUMMARY",
    text((v) => (v.length <= 2000 ? undefined : "must be at most 2000 characters")),
  ),
  actorType: setting(
    "profile.type",
    "LECTERN_ACTOR_TYPE",
    oneOf(["Person", "Service"] as const, 'must be "Person" or "Service"'),
  ),
  quotes: setting("quotes", "LECTERN_QUOTES", oneOf(["anyone", "nobody"] as const, 'must be "anyone" or "nobody"')),
  authorizedFetch: setting("authorized_fetch", "LECTERN_AUTHORIZED_FETCH", flag),
  inboxRatePerServer: setting("inbox_rate_per_server", "LECTERN_INBOX_RATE_PER_SERVER", positive(10_000)),
  trustedProxies: setting("trusted_proxies", "LECTERN_TRUSTED_PROXIES", proxies),
  bridgyFedAccount: setting(
    "bridgy_fed_account",
    "LECTERN_BRIDGY_FED_ACCOUNT",
    text((v) =>
      /^@?[^@\s]+@[^@\s]+$/.test(v) || /^https:\/\//.test(v) ? undefined : "must be @user@server or an https URL",
    ),
  ),
  maxImageMb: setting("media.max_image_megabytes", "LECTERN_MEDIA_MAX_IMAGE_MEGABYTES", positive(100)),
  maxVideoMb: setting("media.max_video_megabytes", "LECTERN_MEDIA_MAX_VIDEO_MEGABYTES", positive(2000)),
  retryInitial: setting("delivery.retry_initial_seconds", "LECTERN_DELIVERY_RETRY_INITIAL_SECONDS", positive(86400)),
  retryMax: setting("delivery.retry_max_seconds", "LECTERN_DELIVERY_RETRY_MAX_SECONDS", positive(7 * 86400)),
  maxAttempts: setting(
    "delivery.max_attempts",
    "LECTERN_DELIVERY_MAX_ATTEMPTS",
    whole(1, 100, "must be from 1 to 100"),
  ),
  concurrency: setting(
    "delivery.concurrency",
    "LECTERN_DELIVERY_CONCURRENCY",
    whole(1, 1000, "must be from 1 to 1000"),
  ),
  perServer: setting("delivery.per_server", "LECTERN_DELIVERY_PER_SERVER", whole(1, 64, "must be from 1 to 64")),
  connectTimeout: setting(
    "delivery.connect_timeout_seconds",
    "LECTERN_DELIVERY_CONNECT_TIMEOUT_SECONDS",
    positive(120),
  ),
  timeout: setting("delivery.timeout_seconds", "LECTERN_DELIVERY_TIMEOUT_SECONDS", positive(600)),
  pauseAfterDays: setting(
    "delivery.pause_after_days",
    "LECTERN_DELIVERY_PAUSE_AFTER_DAYS",
    whole(1, 60, "must be from 1 to 60"),
  ),
  workers: setting("delivery.workers", "LECTERN_DELIVERY_WORKERS", whole(1, 64, "must be from 1 to 64")),
  pollMs: setting(
    "delivery.poll_milliseconds",
    "LECTERN_DELIVERY_POLL_MILLISECONDS",
    whole(10, 60000, "must be from 10 to 60000"),
  ),
};

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
  const explicitFile = env.LECTERN_CONFIG;
  const file = explicitFile ? path.resolve(cwd, explicitFile) : path.resolve(cwd, "config/lectern.toml");
  if (explicitFile && !existsSync(file)) throw new ConfigError(`LECTERN_CONFIG: no such file: ${file}`);
  let doc: Record<string, unknown> | undefined;
  if (existsSync(file)) {
    try {
      doc = parseToml(readFileSync(file, "utf8")) as Record<string, unknown>;
    } catch (e) {
      throw new ConfigError(`${file}: not valid TOML: ${(e as Error).message}`);
    }
    const known = new Set(Object.values(SETTINGS).map((k) => k.file));
    for (const dotted of flatten(doc)) {
      if (!known.has(dotted)) throw new ConfigError(`${file}: unknown key "${dotted}"`);
    }
  }
  const where: Record<string, string> = {};
  /** A setting from the environment, else the file, else undefined (the default applies). */
  const read = <T>(name: keyof typeof SETTINGS, s: Setting<T>): T | undefined => {
    const fromEnv = env[s.env];
    const [value, at, isEnv] =
      fromEnv !== undefined && fromEnv !== ""
        ? [fromEnv, s.env, true]
        : [doc === undefined ? undefined : lookup(doc, s.file), `${file}: ${s.file}`, false];
    if (value === undefined) return undefined;
    where[name] = at;
    const parsed = s.parse(value, isEnv);
    if (parsed instanceof Problem) {
      const shown = JSON.stringify(value, (_, x) => (typeof x === "bigint" ? Number(x) : x));
      throw new ConfigError(`${at}: ${parsed.text}, got ${shown}`);
    }
    return parsed;
  };
  const S = SETTINGS;
  const port = read("port", S.port) ?? 8080;
  const originText = read("origin", S.origin);
  const origin = parseOrigin(originText ?? `http://localhost:${port}`, where.origin ?? "LECTERN_ORIGIN (default)");
  const dataDir = path.resolve(cwd, read("dataDir", S.dataDir) ?? "data");
  const retryInitial = read("retryInitial", S.retryInitial) ?? 30;
  const retryMax = read("retryMax", S.retryMax) ?? 6 * 3600;
  if (retryMax < retryInitial) {
    throw new ConfigError(
      `${where.retryMax ?? "delivery.retry_max_seconds"}: must not be less than delivery.retry_initial_seconds (${retryInitial})`,
    );
  }
  const seconds = (n: number) => Math.round(n * 1000);
  const megabytes = (n: number) => Math.round(n * 1024 * 1024);
  return {
    origin,
    handle: read("handle", S.handle) ?? "desk",
    port,
    host: read("host", S.host) ?? "127.0.0.1",
    dataDir,
    databasePath: path.join(dataDir, "lectern.sqlite"),
    databaseUrl: read("databaseUrl", S.databaseUrl) ?? null,
    role: read("role", S.role) ?? "all",
    allowPrivateAddress: read("allowPrivateAddress", S.allowPrivateAddress) ?? false,
    language: read("language", S.language) ?? "en",
    timeZone: read("timeZone", S.timeZone) ?? "UTC",
    logLevel: read("logLevel", S.logLevel) ?? "info",
    profile: {
      name: read("name", S.name) ?? "Lectern",
      summary: read("summary", S.summary) ?? "",
      type: read("actorType", S.actorType) ?? "Person",
    },
    trustedProxies: read("trustedProxies", S.trustedProxies) ?? null,
    inboxRatePerServer: read("inboxRatePerServer", S.inboxRatePerServer) ?? 20,
    bridgyFedAccount: read("bridgyFedAccount", S.bridgyFedAccount) ?? "@bsky.brid.gy@bsky.brid.gy",
    quotes: read("quotes", S.quotes) ?? "anyone",
    authorizedFetch: read("authorizedFetch", S.authorizedFetch) ?? false,
    media: {
      maxImageBytes: megabytes(read("maxImageMb", S.maxImageMb) ?? 16),
      maxVideoBytes: megabytes(read("maxVideoMb", S.maxVideoMb) ?? 200),
    },
    delivery: {
      retryInitialMs: seconds(retryInitial),
      retryMaxMs: seconds(retryMax),
      maxAttempts: read("maxAttempts", S.maxAttempts) ?? 16,
      concurrency: read("concurrency", S.concurrency) ?? 128,
      perServer: read("perServer", S.perServer) ?? 4,
      connectTimeoutMs: seconds(read("connectTimeout", S.connectTimeout) ?? 5),
      timeoutMs: seconds(read("timeout", S.timeout) ?? 15),
      pauseAfterDays: read("pauseAfterDays", S.pauseAfterDays) ?? 3,
      pollMs: read("pollMs", S.pollMs) ?? 250,
      workers: read("workers", S.workers) ?? Math.max(1, Math.min(8, availableParallelism())),
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

export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat("en", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}
