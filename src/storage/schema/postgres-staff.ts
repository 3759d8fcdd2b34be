import { bigint, bigserial, index, pgTable, text, uniqueIndex } from "drizzle-orm/pg-core";

/* Staff accounts, their second factors and the audit log (postgres). */

/**
 * The people who write as the account: an owner (everything: staff, keys,
 * settings) or editors (posts). Each with their own password (an scrypt
 * hash) and second factors.
 */
export const staff = pgTable(
  "staff",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    /** Lower-case letters, digits, dots, dashes, underscores. */
    username: text("username").notNull(),
    passwordHash: text("password_hash").notNull(),
    role: text("role").notNull(),
    /** TOTP secret (base32) once confirmed; the pending one while being set up. */
    totpSecret: text("totp_secret"),
    totpPendingSecret: text("totp_pending_secret"),
    /** The last TOTP time step used: a code works once. */
    totpLastStep: bigint("totp_last_step", { mode: "number" }),
    createdAt: bigint("created_at", { mode: "number" }).notNull(),
  },
  (t) => [uniqueIndex("staff_username").on(t.username)],
);

/** Passkeys (WebAuthn credentials) of staff accounts. */
export const passkeys = pgTable(
  "passkeys",
  {
    /** The credential id, base64url. */
    id: text("id").primaryKey(),
    staffId: bigint("staff_id", { mode: "number" }).notNull(),
    /** COSE public key, base64url. */
    publicKey: text("public_key").notNull(),
    counter: bigint("counter", { mode: "number" }).notNull(),
    /** JSON array of transports, as the browser gave them. */
    transports: text("transports"),
    name: text("name").notNull(),
    createdAt: bigint("created_at", { mode: "number" }).notNull(),
    lastUsedAt: bigint("last_used_at", { mode: "number" }),
  },
  (t) => [index("passkeys_staff").on(t.staffId)],
);

/** One-time recovery codes (SHA-256 of each; they are random, 50 bits). */
export const recoveryCodes = pgTable(
  "recovery_codes",
  {
    codeHash: text("code_hash").primaryKey(),
    staffId: bigint("staff_id", { mode: "number" }).notNull(),
    usedAt: bigint("used_at", { mode: "number" }),
  },
  (t) => [index("recovery_codes_staff").on(t.staffId)],
);

/**
 * Who did what, from where: written once, never changed (the database
 * refuses UPDATE and DELETE on it).
 */
export const auditLog = pgTable(
  "audit_log",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    at: bigint("at", { mode: "number" }).notNull(),
    staffId: bigint("staff_id", { mode: "number" }),
    /** The username at the time, or "command line". */
    actor: text("actor").notNull(),
    action: text("action").notNull(),
    subject: text("subject"),
    address: text("address"),
  },
  (t) => [index("audit_log_at").on(t.at)],
);

/** The unfinished post of each staff account, kept by the desk as it is typed. */
export const drafts = pgTable("drafts", {
  staffId: bigint("staff_id", { mode: "number" }).primaryKey(),
  text: text("text").notNull(),
  summary: text("summary").notNull().default(""),
  updatedAt: bigint("updated_at", { mode: "number" }).notNull(),
});

/** Apps registered through the Mastodon API (`POST /api/v1/apps`); only a hash of the secret is kept. */
export const oauthApps = pgTable("oauth_apps", {
  clientId: text("client_id").primaryKey(),
  secretHash: text("secret_hash").notNull(),
  name: text("name").notNull(),
  website: text("website"),
  /** Space-separated, as registered. */
  redirectUris: text("redirect_uris").notNull(),
  scopes: text("scopes").notNull(),
  createdAt: bigint("created_at", { mode: "number" }).notNull(),
});

/** Access tokens (hashes) an app holds for a staff account, or for itself (client credentials: no account). */
export const oauthTokens = pgTable(
  "oauth_tokens",
  {
    tokenHash: text("token_hash").primaryKey(),
    clientId: text("client_id").notNull(),
    staffId: bigint("staff_id", { mode: "number" }),
    scopes: text("scopes").notNull(),
    createdAt: bigint("created_at", { mode: "number" }).notNull(),
    lastUsedAt: bigint("last_used_at", { mode: "number" }),
  },
  (t) => [index("oauth_tokens_staff").on(t.staffId)],
);

/**
 * Sign-in attempts counted where every process sees them: per address (each
 * further attempt after a few waits twice as long) and per account (a budget
 * of checks a minute for addresses that have failed lately). Rows untouched
 * for an hour are forgotten.
 */
export const signInThrottle = pgTable(
  "sign_in_throttle",
  {
    /** `address:…`, `account:…`, `code-address:…` or `code-account:…`. */
    key: text("key").primaryKey(),
    count: bigint("count", { mode: "number" }).notNull(),
    /** The start of the account's budget window. */
    since: bigint("since", { mode: "number" }).notNull(),
    /** The address's present wait, doubled at each further attempt. */
    waitMs: bigint("wait_ms", { mode: "number" }).notNull(),
    /** The address's next attempt is not checked before this time. */
    nextAt: bigint("next_at", { mode: "number" }).notNull(),
    lastAt: bigint("last_at", { mode: "number" }).notNull(),
  },
  (t) => [index("sign_in_throttle_last").on(t.lastAt)],
);
