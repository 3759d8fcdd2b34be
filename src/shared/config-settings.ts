import {
  domains,
  flag,
  hostPort,
  httpUrl,
  isTimeZone,
  mailbox,
  oneOf,
  type Parser,
  positive,
  postgresUrl,
  proxies,
  smtpUrl,
  text,
  whole,
} from "./config-parsers.ts";

/*
 * Every setting Lectern reads: its key in the TOML file, its environment
 * variable, and how its value is checked. config.ts turns them into a Config.
 */

export interface Setting<T> {
  /** Dotted path in the TOML file. */
  file: string;
  env: string;
  parse: Parser<T>;
  /** An empty value in the environment means "not set" (settings that are off or empty by default). */
  emptyIsUnset?: boolean;
}

const setting = <T>(file: string, env: string, parse: Parser<T>): Setting<T> => ({ file, env, parse });
/** A setting whose empty value in the environment is the same as leaving it out. */
const optional = <T>(file: string, env: string, parse: Parser<T>): Setting<T> => ({
  file,
  env,
  parse,
  emptyIsUnset: true,
});

export const SETTINGS = {
  origin: setting("origin", "LECTERN_ORIGIN", text()),
  handle: setting(
    "handle",
    "LECTERN_HANDLE",
    text((v) => (/^[A-Za-z0-9_]{1,30}$/.test(v) ? undefined : "must be 1 to 30 letters, digits or underscores")),
  ),
  port: setting("port", "PORT", whole(1, 65535, "must be a port number from 1 to 65535")),
  host: setting("host", "HOST", text()),
  dataDir: setting("data_dir", "LECTERN_DATA_DIR", text()),
  secretKeyFile: setting("secret_key_file", "LECTERN_SECRET_KEY_FILE", text()),
  databaseUrl: optional("database_url", "LECTERN_DATABASE_URL", postgresUrl),
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
  logFormat: setting("log_format", "LECTERN_LOG_FORMAT", oneOf(["text", "json"] as const, 'must be "text" or "json"')),
  logRequests: setting("log_requests", "LECTERN_LOG_REQUESTS", flag),
  undoSeconds: setting("publish.undo_seconds", "LECTERN_UNDO_SECONDS", whole(0, 600, "must be 0 (off) to 600 seconds")),
  metricsListen: optional("metrics.listen", "LECTERN_METRICS_LISTEN", hostPort),
  metricsToken: optional(
    "metrics.token",
    "LECTERN_METRICS_TOKEN",
    text((v) => (v.length >= 16 ? undefined : "must be at least 16 characters")),
  ),
  name: setting(
    "profile.name",
    "LECTERN_NAME",
    text((v) => (v.length >= 1 && v.length <= 100 ? undefined : "must be 1 to 100 characters")),
  ),
  summary: optional(
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
  likes: setting("likes", "LECTERN_LIKES", oneOf(["counted", "refused"] as const, 'must be "counted" or "refused"')),
  features: setting(
    "features",
    "LECTERN_FEATURES",
    oneOf(["anyone", "followers", "nobody"] as const, 'must be "anyone", "followers" or "nobody"'),
  ),
  attributionDomains: optional("attribution_domains", "LECTERN_ATTRIBUTION_DOMAINS", domains),
  authorizedFetch: setting("authorized_fetch", "LECTERN_AUTHORIZED_FETCH", flag),
  inboxRatePerServer: setting("inbox_rate_per_server", "LECTERN_INBOX_RATE_PER_SERVER", positive(10_000)),
  trustedProxies: optional("trusted_proxies", "LECTERN_TRUSTED_PROXIES", proxies),
  bridgyFedAccount: setting(
    "bridgy_fed_account",
    "LECTERN_BRIDGY_FED_ACCOUNT",
    text((v) =>
      /^@?[^@\s]+@[^@\s]+$/.test(v) || /^https:\/\//.test(v) ? undefined : "must be @user@server or an https URL",
    ),
  ),
  maxImageMb: setting("media.max_image_megabytes", "LECTERN_MEDIA_MAX_IMAGE_MEGABYTES", positive(100)),
  maxVideoMb: setting("media.max_video_megabytes", "LECTERN_MEDIA_MAX_VIDEO_MEGABYTES", positive(2000)),
  maxImageMegapixels: setting("media.max_image_megapixels", "LECTERN_MEDIA_MAX_IMAGE_MEGAPIXELS", positive(500)),
  maxVideoSeconds: setting("media.max_video_seconds", "LECTERN_MEDIA_MAX_VIDEO_SECONDS", whole(1, 86_400)),
  mediaStore: setting("media.store", "LECTERN_MEDIA_STORE", oneOf(["disk", "s3"] as const, 'must be "disk" or "s3"')),
  mediaPublicUrl: optional("media.public_url", "LECTERN_MEDIA_PUBLIC_URL", httpUrl()),
  s3Endpoint: optional("media.s3.endpoint", "LECTERN_S3_ENDPOINT", httpUrl()),
  s3Bucket: setting(
    "media.s3.bucket",
    "LECTERN_S3_BUCKET",
    text((v) => (/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(v) ? undefined : "must be an S3 bucket name")),
  ),
  s3Region: setting("media.s3.region", "LECTERN_S3_REGION", text()),
  s3AccessKeyId: optional("media.s3.access_key_id", "LECTERN_S3_ACCESS_KEY_ID", text()),
  s3SecretAccessKey: optional("media.s3.secret_access_key", "LECTERN_S3_SECRET_ACCESS_KEY", text()),
  s3PathStyle: setting("media.s3.path_style", "LECTERN_S3_PATH_STYLE", flag),
  cacheMaxAge: setting("cache.max_age", "LECTERN_CACHE_MAX_AGE", whole(0, 31536000)),
  cacheSharedMaxAge: setting("cache.shared_max_age", "LECTERN_CACHE_SHARED_MAX_AGE", whole(0, 31536000)),
  cacheStaleWhileRevalidate: setting(
    "cache.stale_while_revalidate",
    "LECTERN_CACHE_STALE_WHILE_REVALIDATE",
    whole(0, 31536000),
  ),
  cacheStaleIfError: setting("cache.stale_if_error", "LECTERN_CACHE_STALE_IF_ERROR", whole(0, 31536000)),
  purgeUrl: optional("cache.purge_url", "LECTERN_CACHE_PURGE_URL", httpUrl()),
  purgeStyle: setting(
    "cache.purge_style",
    "LECTERN_CACHE_PURGE_STYLE",
    oneOf(["purge", "json"] as const, 'must be "purge" or "json"'),
  ),
  purgeToken: optional("cache.purge_token", "LECTERN_CACHE_PURGE_TOKEN", text()),
  webProcesses: setting("web.processes", "LECTERN_WEB_PROCESSES", whole(1, 64)),
  retryInitial: setting("delivery.retry_initial_seconds", "LECTERN_DELIVERY_RETRY_INITIAL_SECONDS", positive(86400)),
  retryMax: setting("delivery.retry_max_seconds", "LECTERN_DELIVERY_RETRY_MAX_SECONDS", positive(7 * 86400)),
  maxAttempts: setting("delivery.max_attempts", "LECTERN_DELIVERY_MAX_ATTEMPTS", whole(1, 100)),
  concurrency: setting("delivery.concurrency", "LECTERN_DELIVERY_CONCURRENCY", whole(1, 10000)),
  perServer: setting("delivery.per_server", "LECTERN_DELIVERY_PER_SERVER", whole(1, 64)),
  connectTimeout: setting(
    "delivery.connect_timeout_seconds",
    "LECTERN_DELIVERY_CONNECT_TIMEOUT_SECONDS",
    positive(120),
  ),
  timeout: setting("delivery.timeout_seconds", "LECTERN_DELIVERY_TIMEOUT_SECONDS", positive(600)),
  pauseAfterDays: setting("delivery.pause_after_days", "LECTERN_DELIVERY_PAUSE_AFTER_DAYS", whole(1, 60)),
  workers: setting("delivery.workers", "LECTERN_DELIVERY_WORKERS", whole(1, 64)),
  pollMs: setting("delivery.poll_milliseconds", "LECTERN_DELIVERY_POLL_MILLISECONDS", whole(10, 60000)),
  emailSmtpUrl: optional("email.smtp_url", "LECTERN_EMAIL_SMTP_URL", smtpUrl),
  emailFrom: optional("email.from", "LECTERN_EMAIL_FROM", mailbox),
  emailReplyTo: optional("email.reply_to", "LECTERN_EMAIL_REPLY_TO", mailbox),
  emailDkimSelector: optional(
    "email.dkim_selector",
    "LECTERN_EMAIL_DKIM_SELECTOR",
    text((v) => (/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/.test(v) ? undefined : 'must be a DNS label such as "lectern"')),
  ),
  emailDkimKeyFile: optional("email.dkim_key_file", "LECTERN_EMAIL_DKIM_KEY_FILE", text()),
  emailBatchMinutes: setting("email.batch_minutes", "LECTERN_EMAIL_BATCH_MINUTES", whole(0, 1440)),
  emailMaxConnections: setting("email.max_connections", "LECTERN_EMAIL_MAX_CONNECTIONS", whole(1, 100)),
  emailPerDomain: setting("email.per_domain", "LECTERN_EMAIL_PER_DOMAIN", whole(1, 1000)),
  emailWebhookSecret: optional(
    "email.webhook_secret",
    "LECTERN_EMAIL_WEBHOOK_SECRET",
    text((v) => (v.length >= 16 ? undefined : "must be at least 16 characters")),
  ),
  push: setting("push.enabled", "LECTERN_PUSH", flag),
  pushContact: optional(
    "push.contact",
    "LECTERN_PUSH_CONTACT",
    text((v) =>
      /^(mailto:[^\s@]+@[^\s@]+|https:\/\/\S+)$/.test(v) ? undefined : "must be a mailto: address or an https URL",
    ),
  ),
};
