import { index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

/* Staff accounts, their second factors and the audit log (sqlite). */

/**
 * The people who write as the account: an owner (everything: staff, keys,
 * settings) or editors (posts). Each with their own password (an scrypt
 * hash) and second factors.
 */
export const staff = sqliteTable(
  "staff",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    /** Lower-case letters, digits, dots, dashes, underscores. */
    username: text("username").notNull(),
    passwordHash: text("password_hash").notNull(),
    role: text("role").notNull(),
    /** TOTP secret (base32) once confirmed; the pending one while being set up. */
    totpSecret: text("totp_secret"),
    totpPendingSecret: text("totp_pending_secret"),
    /** The last TOTP time step used: a code works once. */
    totpLastStep: integer("totp_last_step"),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [uniqueIndex("staff_username").on(t.username)],
);

/** Passkeys (WebAuthn credentials) of staff accounts. */
export const passkeys = sqliteTable(
  "passkeys",
  {
    /** The credential id, base64url. */
    id: text("id").primaryKey(),
    staffId: integer("staff_id").notNull(),
    /** COSE public key, base64url. */
    publicKey: text("public_key").notNull(),
    counter: integer("counter").notNull(),
    /** JSON array of transports, as the browser gave them. */
    transports: text("transports"),
    name: text("name").notNull(),
    createdAt: integer("created_at").notNull(),
    lastUsedAt: integer("last_used_at"),
  },
  (t) => [index("passkeys_staff").on(t.staffId)],
);

/** One-time recovery codes (SHA-256 of each; they are random, 50 bits). */
export const recoveryCodes = sqliteTable(
  "recovery_codes",
  {
    codeHash: text("code_hash").primaryKey(),
    staffId: integer("staff_id").notNull(),
    usedAt: integer("used_at"),
  },
  (t) => [index("recovery_codes_staff").on(t.staffId)],
);

/**
 * Who did what, from where: written once, never changed (the database
 * refuses UPDATE and DELETE on it).
 */
export const auditLog = sqliteTable(
  "audit_log",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    at: integer("at").notNull(),
    staffId: integer("staff_id"),
    /** The username at the time, or "command line". */
    actor: text("actor").notNull(),
    action: text("action").notNull(),
    subject: text("subject"),
    address: text("address"),
  },
  (t) => [index("audit_log_at").on(t.at)],
);

/** The unfinished post of each staff account, kept by the desk as it is typed. */
export const drafts = sqliteTable("drafts", {
  staffId: integer("staff_id").primaryKey(),
  text: text("text").notNull(),
  summary: text("summary").notNull().default(""),
  updatedAt: integer("updated_at").notNull(),
});

/** Apps registered through the Mastodon API (`POST /api/v1/apps`); only a hash of the secret is kept. */
export const oauthApps = sqliteTable("oauth_apps", {
  clientId: text("client_id").primaryKey(),
  secretHash: text("secret_hash").notNull(),
  name: text("name").notNull(),
  website: text("website"),
  /** Space-separated, as registered. */
  redirectUris: text("redirect_uris").notNull(),
  scopes: text("scopes").notNull(),
  createdAt: integer("created_at").notNull(),
});

/** Access tokens (hashes) an app holds for a staff account, or for itself (client credentials: no account). */
export const oauthTokens = sqliteTable(
  "oauth_tokens",
  {
    tokenHash: text("token_hash").primaryKey(),
    clientId: text("client_id").notNull(),
    staffId: integer("staff_id"),
    scopes: text("scopes").notNull(),
    createdAt: integer("created_at").notNull(),
    lastUsedAt: integer("last_used_at"),
  },
  (t) => [index("oauth_tokens_staff").on(t.staffId)],
);

/**
 * Sign-in attempts counted where every process sees them: per address (each
 * further attempt after a few waits twice as long) and per account (a budget
 * of checks a minute for addresses that have failed lately). Rows untouched
 * for an hour are forgotten.
 */
export const signInThrottle = sqliteTable(
  "sign_in_throttle",
  {
    /** `address:…`, `account:…`, `code-address:…` or `code-account:…`. */
    key: text("key").primaryKey(),
    count: integer("count").notNull(),
    /** The start of the account's budget window. */
    since: integer("since").notNull(),
    /** The address's present wait, doubled at each further attempt. */
    waitMs: integer("wait_ms").notNull(),
    /** The address's next attempt is not checked before this time. */
    nextAt: integer("next_at").notNull(),
    lastAt: integer("last_at").notNull(),
  },
  (t) => [index("sign_in_throttle_last").on(t.lastAt)],
);
