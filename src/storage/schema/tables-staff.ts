import { index, number, serial, table, text, uniqueIndex } from "./define.ts";

/*
 * Staff accounts, their second factors, the audit log, the apps they allowed and
 * sign-in attempts: defined once for SQLite and PostgreSQL (define.ts; built by
 * sqlite.ts and postgres.ts).
 */

/* Staff accounts, their second factors and the audit log (sqlite). */

/**
 * The people who write as the account: an owner (everything: staff, keys,
 * settings) or editors (posts). Each with their own password (an scrypt
 * hash) and second factors.
 */
export const staff = table(
  "staff",
  {
    id: serial("id"),
    /** Lower-case letters, digits, dots, dashes, underscores. */
    username: text("username").notNull(),
    passwordHash: text("password_hash").notNull(),
    role: text("role").notNull(),
    /** TOTP secret (base32) once confirmed; the pending one while being set up. */
    totpSecret: text("totp_secret"),
    totpPendingSecret: text("totp_pending_secret"),
    /** The last TOTP time step used: a code works once. */
    totpLastStep: number("totp_last_step"),
    createdAt: number("created_at").notNull(),
  },
  (t) => [uniqueIndex("staff_username").on(t.username)],
);

/** Passkeys (WebAuthn credentials) of staff accounts. */
export const passkeys = table(
  "passkeys",
  {
    /** The credential id, base64url. */
    id: text("id").primaryKey(),
    staffId: number("staff_id").notNull(),
    /** COSE public key, base64url. */
    publicKey: text("public_key").notNull(),
    counter: number("counter").notNull(),
    /** JSON array of transports, as the browser gave them. */
    transports: text("transports"),
    name: text("name").notNull(),
    createdAt: number("created_at").notNull(),
    lastUsedAt: number("last_used_at"),
  },
  (t) => [index("passkeys_staff").on(t.staffId)],
);

/** One-time recovery codes (SHA-256 of each; they are random, 50 bits). */
export const recoveryCodes = table(
  "recovery_codes",
  {
    codeHash: text("code_hash").primaryKey(),
    staffId: number("staff_id").notNull(),
    usedAt: number("used_at"),
  },
  (t) => [index("recovery_codes_staff").on(t.staffId)],
);

/**
 * Who did what, from where: written once, never changed (the database
 * refuses UPDATE and DELETE on it).
 */
export const auditLog = table(
  "audit_log",
  {
    id: serial("id"),
    at: number("at").notNull(),
    staffId: number("staff_id"),
    /** The username at the time, or "command line". */
    actor: text("actor").notNull(),
    action: text("action").notNull(),
    subject: text("subject"),
    address: text("address"),
  },
  (t) => [index("audit_log_at").on(t.at)],
);

/** The unfinished post of each staff account, kept by the desk as it is typed. */
export const drafts = table("drafts", {
  staffId: number("staff_id").primaryKey(),
  text: text("text").notNull(),
  summary: text("summary").notNull().default(""),
  updatedAt: number("updated_at").notNull(),
});

/** Apps registered through the Mastodon API (`POST /api/v1/apps`); only a hash of the secret is kept. */
export const oauthApps = table("oauth_apps", {
  clientId: text("client_id").primaryKey(),
  secretHash: text("secret_hash").notNull(),
  name: text("name").notNull(),
  website: text("website"),
  /** Space-separated, as registered. */
  redirectUris: text("redirect_uris").notNull(),
  scopes: text("scopes").notNull(),
  createdAt: number("created_at").notNull(),
});

/** Access tokens (hashes) an app holds for a staff account, or for itself (client credentials: no account). */
export const oauthTokens = table(
  "oauth_tokens",
  {
    tokenHash: text("token_hash").primaryKey(),
    clientId: text("client_id").notNull(),
    staffId: number("staff_id"),
    scopes: text("scopes").notNull(),
    createdAt: number("created_at").notNull(),
    lastUsedAt: number("last_used_at"),
  },
  (t) => [index("oauth_tokens_staff").on(t.staffId)],
);

/**
 * Sign-in attempts counted where every process sees them: per address (each
 * further attempt after a few waits twice as long) and per account (a budget
 * of checks a minute for addresses that have failed lately). Rows untouched
 * for an hour are forgotten.
 */
export const signInThrottle = table(
  "sign_in_throttle",
  {
    /** `address:…`, `account:…`, `code-address:…` or `code-account:…`. */
    key: text("key").primaryKey(),
    count: number("count").notNull(),
    /** The start of the account's budget window. */
    since: number("since").notNull(),
    /** The address's present wait, doubled at each further attempt. */
    waitMs: number("wait_ms").notNull(),
    /** The address's next attempt is not checked before this time. */
    nextAt: number("next_at").notNull(),
    lastAt: number("last_at").notNull(),
  },
  (t) => [index("sign_in_throttle_last").on(t.lastAt)],
);
