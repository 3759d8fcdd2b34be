import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import type { BlockList } from "node:net";
import { availableParallelism } from "node:os";
import path from "node:path";
import { parse as parseToml } from "smol-toml";
import { type EmailSettings, readEmail } from "./config-email.ts";
import { Problem } from "./config-parsers.ts";
import { SETTINGS, type Setting } from "./config-settings.ts";

/** Everything Lectern reads from its configuration, validated, read once at start. */
export interface Config {
  /** Public base URL, without a trailing slash in `origin.href` semantics: use `origin.origin`. */
  readonly origin: URL;
  readonly handle: string;
  readonly port: number;
  readonly host: string;
  readonly dataDir: string;
  readonly databasePath: string;
  /** The key that seals the secrets kept in the database (the actor's private keys, TOTP secrets). */
  readonly secretKeyFile: string;
  /** PostgreSQL connection URL; null keeps everything in the SQLite file at `databasePath`. */
  readonly databaseUrl: string | null;
  /** What this process does: `all` (default), `web` (HTTP only, never delivers) or `worker` (delivery, queue, scheduler; no HTTP but health). */
  readonly role: "all" | "web" | "worker";
  readonly allowPrivateAddress: boolean;
  readonly language: string;
  /** IANA time zone the desk offers first for scheduled posts. */
  readonly timeZone: string;
  readonly logLevel: "debug" | "info" | "warning" | "error";
  /** Console lines as text, or one JSON object a line (LogTape's JSON Lines) for a log collector. */
  readonly logFormat: "text" | "json";
  /** One line per HTTP request (method, route, status, time, request id), at info. */
  readonly logRequests: boolean;
  /** How long each post waits, undoable, before anything of it leaves or shows (0: none). */
  readonly undoMs: number;
  /** Prometheus metrics on a separate listener; null: off. With a token, `/metrics` wants it as a Bearer. */
  readonly metrics: {
    readonly listen: { readonly host: string; readonly port: number };
    readonly token: string | null;
  } | null;
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
  /** Likes: counted per post (GoToSocial's LikeRequest accepted), or refused. */
  readonly likes: "counted" | "refused";
  /** Who may feature the account in a collection (Mastodon 4.6's `canFeature`). */
  readonly features: "anyone" | "followers" | "nobody";
  /** The author's own websites (`attributionDomains`: links to them credit this account). */
  readonly attributionDomains: readonly string[];
  /** Require signed requests from unblocked servers for ActivityPub objects (not the actor or HTML). */
  readonly authorizedFetch: boolean;
  readonly media: {
    readonly maxImageBytes: number;
    readonly maxVideoBytes: number;
    /** Pixels a picture (each frame of an animation) may have; checked from its header, before decoding. */
    readonly maxImagePixels: number;
    /** Longest video, in seconds. */
    readonly maxVideoSeconds: number;
    /** Where media bytes live: the data directory (`disk`) or an S3-compatible bucket. */
    readonly store: "disk" | "s3";
    /** Base URL media links point at (a CDN in front of the bucket); null: this server's /media/. */
    readonly publicUrl: URL | null;
    readonly s3: S3Settings | null;
  };
  /** How shared caches (a CDN, Varnish, nginx) and browsers may keep public responses. */
  readonly cache: {
    /** Seconds a browser keeps a public page or document without asking again (0: it revalidates each view, a 304). */
    readonly maxAge: number;
    /** Seconds a shared cache keeps it (purged sooner when the author changes it). */
    readonly sharedMaxAge: number;
    readonly staleWhileRevalidate: number;
    readonly staleIfError: number;
    /** Where changed URLs are announced; null: no purging (caches expire by time). */
    readonly purgeUrl: URL | null;
    /** `purge`: one HTTP PURGE per URL (Varnish, nginx); `json`: one POST of {"urls": [...]} per change. */
    readonly purgeStyle: "purge" | "json";
    /** Sent as `Authorization: Bearer …` with each purge. */
    readonly purgeToken: string | null;
  };
  /** Processes serving HTTP in the one-command start (the `all` role), sharing its port. */
  readonly webProcesses: number;
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
  /** Posts by email to readers without an account (see readers/); null: off, and the form hidden. */
  readonly email: EmailSettings | null;
  /** Web Push to readers' browsers ("Notify me"). */
  readonly push: { readonly enabled: boolean; readonly contact: string };
}

export interface S3Settings {
  /** S3-compatible endpoint (MinIO, R2, Spaces…); null: AWS's for the region. */
  readonly endpoint: string | null;
  readonly bucket: string;
  readonly region: string;
  readonly accessKeyId: string | null;
  readonly secretAccessKey: string | null;
  /** Path-style addressing (`endpoint/bucket/key`), which most non-AWS stores want. */
  readonly pathStyle: boolean;
}

export class ConfigError extends Error {
  override name = "ConfigError";
}

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
  if (env.LECTERN_CONFIG === "")
    throw new ConfigError("LECTERN_CONFIG: is set but empty (remove it, or name the file)");
  let doc: Record<string, unknown> | undefined;
  if (existsSync(file)) {
    if (!statSync(file).isFile())
      throw new ConfigError(`${explicitFile ? "LECTERN_CONFIG" : file}: not a file: ${file}`);
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (e) {
      throw new ConfigError(`${explicitFile ? "LECTERN_CONFIG" : file}: cannot read ${file}: ${(e as Error).message}`);
    }
    try {
      doc = parseToml(text) as Record<string, unknown>;
    } catch (e) {
      throw new ConfigError(`${file}: not valid TOML: ${(e as Error).message}`);
    }
    const known = new Set(Object.values(SETTINGS).map((k) => k.file));
    for (const dotted of flatten(doc)) {
      if (!known.has(dotted)) throw new ConfigError(`${file}: unknown key "${dotted}"`);
    }
  }
  // A misspelt variable would silently leave its setting at the default (LECTERN_DATABSE_URL: SQLite).
  const knownEnv = new Set([...Object.values(SETTINGS).map((k) => k.env), ...OTHER_VARIABLES]);
  for (const name of Object.keys(env)) {
    if (name.startsWith("LECTERN_") && !knownEnv.has(name) && !/^LECTERN_(TEST|BENCH)_/.test(name))
      throw new ConfigError(`${name}: not a setting Lectern knows (see config/lectern.example.toml)`);
  }
  const where: Record<string, string> = {};
  /** A setting from the environment, else the file, else undefined (the default applies). */
  const read = <T>(name: keyof typeof SETTINGS, s: Setting<T>): T | undefined => {
    const fromEnv = env[s.env];
    if (fromEnv === "" && !s.emptyIsUnset)
      throw new ConfigError(`${s.env}: is set but empty (remove it to use the default)`);
    const [value, at, isEnv] =
      fromEnv !== undefined && fromEnv !== ""
        ? [fromEnv, s.env, true]
        : [doc === undefined ? undefined : lookup(doc, s.file), `${file}: ${s.file}`, false];
    if (value === undefined) return undefined;
    where[name] = at;
    const parsed = s.parse(value, isEnv);
    if (parsed instanceof Problem) {
      // A secret (or a URL that may carry a password) is never printed back.
      const shown = /SECRET|TOKEN|SMTP_URL/.test(s.env)
        ? "(value not shown)"
        : JSON.stringify(value, (_, x) => (typeof x === "bigint" ? Number(x) : x));
      throw new ConfigError(`${at}: ${parsed.text}, got ${shown}`);
    }
    return parsed;
  };
  const S = SETTINGS;
  const port = read("port", S.port) ?? 8080;
  const originText = read("origin", S.origin);
  const origin = parseOrigin(originText ?? `http://localhost:${port}`, where.origin ?? "LECTERN_ORIGIN (default)");
  const dataDir = path.resolve(cwd, read("dataDir", S.dataDir) ?? "data");
  checkWritable(dataDir, where.dataDir ?? "LECTERN_DATA_DIR (default)");
  const retryInitial = read("retryInitial", S.retryInitial) ?? 30;
  const retryMax = read("retryMax", S.retryMax) ?? 6 * 3600;
  if (retryMax < retryInitial) {
    throw new ConfigError(
      `${where.retryMax ?? "delivery.retry_max_seconds"}: must not be less than delivery.retry_initial_seconds (${retryInitial})`,
    );
  }
  const database = read("databaseUrl", S.databaseUrl);
  const role = read("role", S.role) ?? "all";
  // Web and worker processes of their own share a PostgreSQL database. On the SQLite file, the `all` role
  // starts them itself (the processes it supervises carry LECTERN_SUPERVISED).
  if (role !== "all" && database === undefined && env.LECTERN_SUPERVISED !== "1")
    throw new ConfigError(
      `${where.role}: "${role}" needs PostgreSQL (database_url, LECTERN_DATABASE_URL); with the SQLite file use "all", which runs web and delivery processes itself (web.processes, delivery.workers)`,
    );
  const store = read("mediaStore", S.mediaStore) ?? "disk";
  const bucket = read("s3Bucket", S.s3Bucket);
  if (store === "s3" && bucket === undefined)
    throw new ConfigError(`${where.mediaStore}: "s3" needs media.s3.bucket (LECTERN_S3_BUCKET)`);
  // Read (and checked) whether or not a bucket is set: a wrong value is named either way.
  const s3 = {
    endpoint: read("s3Endpoint", S.s3Endpoint)?.href.replace(/\/$/, "") ?? null,
    region: read("s3Region", S.s3Region) ?? "us-east-1",
    accessKeyId: read("s3AccessKeyId", S.s3AccessKeyId) ?? null,
    secretAccessKey: read("s3SecretAccessKey", S.s3SecretAccessKey) ?? null,
    pathStyle: read("s3PathStyle", S.s3PathStyle) ?? true,
  };
  const cores = Math.max(1, Math.min(8, availableParallelism()));
  const seconds = (n: number) => Math.round(n * 1000);
  const megabytes = (n: number) => Math.round(n * 1024 * 1024);
  return {
    origin,
    handle: read("handle", S.handle) ?? "desk",
    port,
    host: read("host", S.host) ?? "127.0.0.1",
    dataDir,
    databasePath: path.join(dataDir, "lectern.sqlite"),
    secretKeyFile: path.resolve(cwd, read("secretKeyFile", S.secretKeyFile) ?? path.join(dataDir, "secret.key")),
    databaseUrl: database?.url ?? null,
    role,
    allowPrivateAddress: read("allowPrivateAddress", S.allowPrivateAddress) ?? false,
    language: read("language", S.language) ?? "en",
    timeZone: read("timeZone", S.timeZone) ?? "UTC",
    logLevel: read("logLevel", S.logLevel) ?? "info",
    logFormat: read("logFormat", S.logFormat) ?? "text",
    logRequests: read("logRequests", S.logRequests) ?? true,
    undoMs: (read("undoSeconds", S.undoSeconds) ?? 0) * 1000,
    metrics: ((listen) =>
      listen === undefined ? null : { listen, token: read("metricsToken", S.metricsToken) ?? null })(
      read("metricsListen", S.metricsListen),
    ),
    profile: {
      name: read("name", S.name) ?? "Lectern",
      summary: read("summary", S.summary) ?? "",
      type: read("actorType", S.actorType) ?? "Person",
    },
    trustedProxies: read("trustedProxies", S.trustedProxies) ?? null,
    inboxRatePerServer: read("inboxRatePerServer", S.inboxRatePerServer) ?? 20,
    bridgyFedAccount: read("bridgyFedAccount", S.bridgyFedAccount) ?? "@bsky.brid.gy@bsky.brid.gy",
    quotes: read("quotes", S.quotes) ?? "anyone",
    likes: read("likes", S.likes) ?? "counted",
    features: read("features", S.features) ?? "anyone",
    attributionDomains: read("attributionDomains", S.attributionDomains) ?? [],
    authorizedFetch: read("authorizedFetch", S.authorizedFetch) ?? false,
    media: {
      maxImageBytes: megabytes(read("maxImageMb", S.maxImageMb) ?? 16),
      maxVideoBytes: megabytes(read("maxVideoMb", S.maxVideoMb) ?? 200),
      maxImagePixels: Math.round((read("maxImageMegapixels", S.maxImageMegapixels) ?? 50) * 1_000_000),
      maxVideoSeconds: read("maxVideoSeconds", S.maxVideoSeconds) ?? 3600,
      store,
      publicUrl: read("mediaPublicUrl", S.mediaPublicUrl) ?? null,
      s3: bucket === undefined ? null : { ...s3, bucket },
    },
    cache: {
      maxAge: read("cacheMaxAge", S.cacheMaxAge) ?? 0,
      sharedMaxAge: read("cacheSharedMaxAge", S.cacheSharedMaxAge) ?? 300,
      staleWhileRevalidate: read("cacheStaleWhileRevalidate", S.cacheStaleWhileRevalidate) ?? 60,
      staleIfError: read("cacheStaleIfError", S.cacheStaleIfError) ?? 86400,
      purgeUrl: read("purgeUrl", S.purgeUrl) ?? null,
      purgeStyle: read("purgeStyle", S.purgeStyle) ?? "purge",
      purgeToken: read("purgeToken", S.purgeToken) ?? null,
    },
    webProcesses: read("webProcesses", S.webProcesses) ?? cores,
    delivery: {
      retryInitialMs: seconds(retryInitial),
      retryMaxMs: seconds(retryMax),
      maxAttempts: read("maxAttempts", S.maxAttempts) ?? 16,
      concurrency: read("concurrency", S.concurrency) ?? 512,
      perServer: read("perServer", S.perServer) ?? 4,
      connectTimeoutMs: seconds(read("connectTimeout", S.connectTimeout) ?? 5),
      timeoutMs: seconds(read("timeout", S.timeout) ?? 15),
      pauseAfterDays: read("pauseAfterDays", S.pauseAfterDays) ?? 3,
      pollMs: read("pollMs", S.pollMs) ?? 250,
      workers: read("workers", S.workers) ?? cores,
    },
    email: readEmail(read, where, origin, cwd, (message) => {
      throw new ConfigError(message);
    }),
    push: {
      enabled: read("push", S.push) ?? true,
      // Push services want an https: or mailto: contact (RFC 8292); an http origin (a local start) gets a mailto:.
      contact:
        read("pushContact", S.pushContact) ??
        (origin.protocol === "https:"
          ? origin.origin
          : `mailto:${read("handle", S.handle) ?? "desk"}@${origin.hostname}`),
    },
  };
}

/**
 * The data directory must be a directory this process can write (the
 * database, keys, uploads in progress): made when missing, then tried.
 */
function checkWritable(dir: string, where: string): void {
  const probe = path.join(dir, `.write-check-${process.pid}`);
  try {
    makeDirectory(dir);
    writeFileSync(probe, "");
    rmSync(probe);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? "";
    throw new ConfigError(`${where}: cannot write in ${dir} (${code || (e as Error).message})`);
  }
}

/**
 * mkdir -p, one level at a time from the nearest existing folder: Node's
 * recursive mkdir never returns under /proc (it retries the parent for ever).
 */
function makeDirectory(dir: string): void {
  const missing: string[] = [];
  let at = dir;
  while (!existsSync(at)) {
    missing.unshift(at);
    const parent = path.dirname(at);
    if (parent === at) break;
    at = parent;
  }
  for (const d of missing) mkdirSync(d);
  if (!statSync(dir).isDirectory()) throw Object.assign(new Error(`${dir} is not a directory`), { code: "ENOTDIR" });
}

/** Variables that are not settings: the file to read, and the mark of a supervised process. */
const OTHER_VARIABLES = ["LECTERN_CONFIG", "LECTERN_SUPERVISED"];

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
  if (url.username || url.password)
    throw new ConfigError(`${where}: must not carry a user name or password, got ${JSON.stringify(value)}`);
  if (url.hostname === "") throw new ConfigError(`${where}: must name a host, got ${JSON.stringify(value)}`);
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
