import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { KvStore } from "@fedify/fedify";
import { LecternError } from "../../shared/errors.ts";
import { Temporal } from "../../shared/temporal.ts";
import type { Database, Queryable } from "../../storage/database.ts";
import { sql } from "../../storage/sql.ts";
import type { Role } from "./auth.ts";

/*
 * OAuth 2 as Mastodon does it, for the apps staff already use: apps register
 * themselves, a staff member signs in to the desk and allows one (the code
 * flow, PKCE when the app sends a challenge), the app gets a token that acts
 * as that staff member within its scopes. Only hashes of secrets and tokens
 * are stored.
 */

/** Scopes Lectern grants: Mastodon's top-level ones (granular forms such as `write:statuses` are accepted too). */
export const SCOPES = ["read", "write", "profile", "follow", "push"] as const;
/** Redirect for apps without one: the code is shown to copy. */
export const OOB = "urn:ietf:wg:oauth:2.0:oob";

/** An OAuth error as RFC 6749 names it (`error`), with a description and its HTTP status. */
export class OAuthError extends LecternError {
  override name = "OAuthError";
  readonly code: string;
  constructor(code: string, message: string, status = 400) {
    super(message, status, 65);
    this.code = code;
  }
}

const hash = (secret: string) => createHash("sha256").update(secret).digest("hex");
const token = () => randomBytes(32).toString("base64url");

export interface OAuthApp {
  clientId: string;
  name: string;
  website: string | null;
  redirectUris: string[];
  scopes: string[];
}

/** Reads a scope string as Mastodon does (space-separated); unknown scopes are refused. */
export function parseScopes(text: string | undefined, fallback = "read"): string[] {
  const scopes = (text?.trim() || fallback).split(/[\s+]+/).filter(Boolean);
  for (const s of scopes) {
    const top = s.split(":")[0];
    if (!(SCOPES as readonly string[]).includes(top)) throw new OAuthError("invalid_scope", `unknown scope: ${s}`);
  }
  return [...new Set(scopes)];
}

/** Whether `granted` covers `needed` (`write` covers `write:statuses`). */
export function allows(granted: readonly string[], needed: string): boolean {
  return granted.includes(needed) || granted.includes(needed.split(":")[0]);
}

/**
 * The scopes an app asks for at the authorize page, refused (`invalid_scope`,
 * as Doorkeeper answers) when one is outside what it registered.
 */
export function requestedScopes(text: string | undefined, registered: readonly string[]): string[] {
  const scopes = parseScopes(text, registered.join(" "));
  const beyond = scopes.filter((s) => !allows(registered, s));
  if (beyond.length > 0)
    throw new OAuthError("invalid_scope", `The app did not register these scopes: ${beyond.join(" ")}`);
  return scopes;
}

/** Ends every token that acts for a person (their password, factors or role changed, or they were removed). */
export async function revokeTokensOf(db: Queryable, staffId: number): Promise<number> {
  return await db.run(sql`DELETE FROM oauth_tokens WHERE staff_id = ${staffId}`);
}

export async function registerApp(
  db: Queryable,
  input: { name: string; redirectUris: string; scopes?: string; website?: string | null },
  now: number = Date.now(),
): Promise<OAuthApp & { clientSecret: string }> {
  const name = input.name.trim().slice(0, 100);
  if (name === "") throw new OAuthError("invalid_client_metadata", "client_name is required", 422);
  const redirectUris = input.redirectUris.split(/\s+/).filter(Boolean);
  if (redirectUris.length === 0) throw new OAuthError("invalid_redirect_uri", "redirect_uris is required", 422);
  for (const uri of redirectUris) {
    if (uri === OOB) continue;
    try {
      const u = new URL(uri);
      if (u.protocol === "javascript:" || u.protocol === "data:") throw new Error("scheme");
    } catch {
      throw new OAuthError("invalid_redirect_uri", `not a redirect URI: ${uri}`, 422);
    }
  }
  const scopes = parseScopes(input.scopes);
  const clientId = token();
  const clientSecret = token();
  await db.run(
    sql`INSERT INTO oauth_apps (client_id, secret_hash, name, website, redirect_uris, scopes, created_at)
        VALUES (${clientId}, ${hash(clientSecret)}, ${name}, ${input.website?.slice(0, 300) ?? null},
          ${redirectUris.join(" ")}, ${scopes.join(" ")}, ${now})`,
  );
  return { clientId, clientSecret, name, website: input.website ?? null, redirectUris, scopes };
}

export async function getApp(db: Queryable, clientId: string): Promise<OAuthApp | undefined> {
  if (clientId.length > 100) return undefined;
  const row = await db.get<{ name: string; website: string | null; uris: string; scopes: string }>(
    sql`SELECT name, website, redirect_uris AS uris, scopes FROM oauth_apps WHERE client_id = ${clientId}`,
  );
  return row === undefined
    ? undefined
    : {
        clientId,
        name: row.name,
        website: row.website,
        redirectUris: row.uris.split(" "),
        scopes: row.scopes.split(" "),
      };
}

async function checkClient(db: Queryable, clientId: string, secret: string | undefined): Promise<OAuthApp> {
  const row = await db.get<{ h: string }>(sql`SELECT secret_hash AS h FROM oauth_apps WHERE client_id = ${clientId}`);
  const given = Buffer.from(hash(secret ?? ""));
  if (row === undefined || !timingSafeEqual(given, Buffer.from(row.h)))
    throw new OAuthError("invalid_client", "Client authentication failed", 401);
  return (await getApp(db, clientId)) as OAuthApp;
}

interface Grant {
  clientId: string;
  staffId: number;
  scopes: string[];
  redirectUri: string;
  challenge: string | null;
  method: string | null;
}

/** After the staff member allowed the app: a one-time code (ten minutes) for the app to exchange. */
export async function issueCode(kv: KvStore, grant: Grant): Promise<string> {
  const code = token();
  await kv.set(["lectern", "oauth-code", hash(code)], grant, { ttl: Temporal.Duration.from({ minutes: 10 }) });
  return code;
}

/** A new access token for an app (acting for `staffId`, or for itself); only its hash is kept. */
async function storeToken(
  db: Queryable,
  clientId: string,
  staffId: number | null,
  scopes: string[],
  now: number,
): Promise<string> {
  const access = token();
  await db.run(
    sql`INSERT INTO oauth_tokens (token_hash, client_id, staff_id, scopes, created_at)
        VALUES (${hash(access)}, ${clientId}, ${staffId}, ${scopes.join(" ")}, ${now})`,
  );
  return access;
}

export interface TokenAnswer {
  access_token: string;
  token_type: "Bearer";
  scope: string;
  created_at: number;
}

/** `POST /oauth/token`: a code (with its PKCE verifier when the app sent a challenge) or client credentials. */
export async function exchange(
  db: Database,
  kv: KvStore,
  form: Record<string, string | undefined>,
  now: number = Date.now(),
): Promise<TokenAnswer> {
  const app = await checkClient(db, form.client_id ?? "", form.client_secret);
  let staffId: number | null = null;
  let scopes: string[];
  if (form.grant_type === "authorization_code") {
    const key = ["lectern", "oauth-code", hash(form.code ?? "")] as const;
    const grant = await kv.get<Grant>(key);
    await kv.delete(key); // once
    if (grant === undefined || grant.clientId !== app.clientId || grant.redirectUri !== form.redirect_uri)
      throw new OAuthError("invalid_grant", "The authorization code is not valid (or was used already)");
    if (grant.challenge !== null) {
      const verifier = form.code_verifier ?? "";
      const computed = grant.method === "S256" ? createHash("sha256").update(verifier).digest("base64url") : verifier;
      if (computed !== grant.challenge) throw new OAuthError("invalid_grant", "The PKCE code_verifier does not match");
    }
    staffId = grant.staffId;
    scopes = grant.scopes;
  } else if (form.grant_type === "client_credentials") {
    scopes = parseScopes(form.scope).filter((s) => app.scopes.some((a) => allows([a], s)));
  } else {
    throw new OAuthError("unsupported_grant_type", "grant_type must be authorization_code or client_credentials");
  }
  const access = await storeToken(db, app.clientId, staffId, scopes, now);
  return { access_token: access, token_type: "Bearer", scope: scopes.join(" "), created_at: Math.floor(now / 1000) };
}

export interface TokenInfo {
  clientId: string;
  appName: string;
  /** The person the token acts for; null for an app acting for itself (client credentials). */
  staffId: number | null;
  /** Their username and role now (a token follows its person: a new role applies at once). */
  username: string | null;
  role: Role | null;
  scopes: string[];
}

/**
 * What a bearer token may do, or undefined for an unknown or revoked one, or
 * one whose person is gone (tokens end with their person even if a row were
 * left behind).
 */
export async function tokenInfo(
  db: Queryable,
  bearer: string,
  now: number = Date.now(),
): Promise<TokenInfo | undefined> {
  if (bearer.length > 200) return undefined;
  const row = await db.get<{
    c: string;
    s: number | null;
    scopes: string;
    name: string;
    used: number | null;
    username: string | null;
    role: Role | null;
  }>(
    sql`SELECT t.client_id AS c, t.staff_id AS s, t.scopes, a.name, t.last_used_at AS used, st.username, st.role
        FROM oauth_tokens t JOIN oauth_apps a ON a.client_id = t.client_id
          LEFT JOIN staff st ON st.id = t.staff_id
        WHERE t.token_hash = ${hash(bearer)} AND (t.staff_id IS NULL OR st.id IS NOT NULL)`,
  );
  if (row === undefined) return undefined;
  if (row.used === null || Number(row.used) < now - 60_000)
    await db.run(sql`UPDATE oauth_tokens SET last_used_at = ${now} WHERE token_hash = ${hash(bearer)}`);
  return {
    clientId: row.c,
    appName: row.name,
    staffId: row.s === null ? null : Number(row.s),
    username: row.username,
    role: row.role,
    scopes: row.scopes.split(" "),
  };
}

export async function revokeToken(db: Queryable, bearer: string): Promise<void> {
  await db.run(sql`DELETE FROM oauth_tokens WHERE token_hash = ${hash(bearer)}`);
}

export interface Authorization {
  clientId: string;
  name: string;
  website: string | null;
  scopes: string;
  createdAt: number;
  lastUsedAt: number | null;
}

/** The apps a staff account has allowed (one row per app, its latest token). */
export async function listAuthorizations(db: Queryable, staffId: number): Promise<Authorization[]> {
  const rows = await db.all<{ c: string; n: string; w: string | null; s: string; at: number; used: number | null }>(
    sql`SELECT t.client_id AS c, a.name AS n, a.website AS w, max(t.scopes) AS s, max(t.created_at) AS at,
          max(t.last_used_at) AS used
        FROM oauth_tokens t JOIN oauth_apps a ON a.client_id = t.client_id
        WHERE t.staff_id = ${staffId} GROUP BY t.client_id, a.name, a.website ORDER BY max(t.created_at) DESC`,
  );
  return rows.map((r) => ({
    clientId: r.c,
    name: r.n,
    website: r.w,
    scopes: r.s,
    createdAt: Number(r.at),
    lastUsedAt: r.used === null ? null : Number(r.used),
  }));
}

/** Ends every token an app holds for this account; true when there was one. */
export async function revokeApp(db: Queryable, staffId: number, clientId: string): Promise<boolean> {
  return (await db.run(sql`DELETE FROM oauth_tokens WHERE staff_id = ${staffId} AND client_id = ${clientId}`)) > 0;
}

/** A token for a script (the CLI): an app of its own, allowed at once for this account. */
export async function tokenForScript(
  db: Queryable,
  staffId: number,
  name: string,
  scopes: string,
  now: number = Date.now(),
): Promise<string> {
  const app = await registerApp(db, { name, redirectUris: OOB, scopes }, now);
  return await storeToken(db, app.clientId, staffId, app.scopes, now);
}
