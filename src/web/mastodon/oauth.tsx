import type { BlockList } from "node:net";
import type { Context, Hono, MiddlewareHandler } from "hono";
import { getCookie } from "hono/cookie";
import { csrf } from "hono/csrf";
import { type Actor, audit } from "../../product/access/audit.ts";
import { getSession, sameToken } from "../../product/access/auth.ts";
import {
  allows,
  exchange,
  getApp,
  issueCode,
  OAuthError,
  OOB,
  registerApp,
  requestedScopes,
  revokeToken,
  SCOPES,
  type TokenInfo,
  tokenInfo,
} from "../../product/access/oauth.ts";
import { getProfile } from "../../product/profile.ts";
import type { Queryable } from "../../storage/database.ts";
import { allowed, needOf } from "../access.ts";
import type { WebDeps } from "../deps.ts";
import { clientAddress } from "../http.ts";
import { BackToApp, CodeToCopy, Consent } from "../views/consent.tsx";
import { Page } from "../views/layout.tsx";

/** A form or JSON body as a flat record of strings (arrays joined by spaces, as Mastodon reads them). */
export async function bodyOf(c: Context): Promise<Record<string, string | undefined>> {
  const type = c.req.header("content-type") ?? "";
  let raw: Record<string, unknown> = {};
  if (type.startsWith("application/json"))
    raw = ((await c.req.json().catch(() => ({}))) ?? {}) as Record<string, unknown>;
  else if (type.includes("form")) raw = (await c.req.parseBody({ all: true })) as Record<string, unknown>;
  else raw = Object.fromEntries(new URL(c.req.url).searchParams);
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(raw)) {
    const key = k.replace(/\[\]$/, "");
    if (typeof v === "string") out[key] = out[key] === undefined ? v : `${out[key]} ${v}`;
    else if (Array.isArray(v)) {
      // A list of strings (media_ids), or of objects (fields_attributes) kept as Mastodon's form names them.
      out[key] = v.filter((x) => typeof x === "string").join(" ");
      v.forEach((item, i) => {
        if (item !== null && typeof item === "object")
          for (const [k2, v2] of Object.entries(item)) if (typeof v2 === "string") out[`${key}[${i}][${k2}]`] = v2;
      });
    } else if (v !== null && typeof v === "object") {
      for (const [k2, v2] of Object.entries(v))
        if (v2 !== null && typeof v2 === "object")
          for (const [k3, v3] of Object.entries(v2)) if (typeof v3 === "string") out[`${key}[${k2}][${k3}]`] = v3;
    } else if (typeof v === "number" || typeof v === "boolean") out[key] = String(v);
  }
  return out;
}

/** Mastodon's error shape: `{"error": …}` (OAuth errors add `error_description`). */
export function apiError(c: Context, status: number, message: string, code?: string): Response {
  return c.json(code ? { error: code, error_description: message } : { error: message }, status as 400);
}

/**
 * The bearer token of an API request and whether it allows `scope` (and acts
 * for a staff account when `needsAccount`); otherwise the answer to send.
 * What the person's role allows was checked already, for every API route, by
 * {@link apiAccess}; scopes only narrow it.
 */
export async function authorizeRequest(
  c: Context,
  db: Queryable,
  scope: string,
  needsAccount: boolean,
  now: number,
): Promise<TokenInfo | Response> {
  const info = await bearerOf(c, db, now);
  if (info === undefined) return apiError(c, 401, "The access token is invalid");
  if (!allows(info.scopes, scope)) return apiError(c, 403, "This action is outside the authorized scopes");
  if (needsAccount && info.staffId === null) return apiError(c, 403, "This method requires an authenticated user");
  return info;
}

const TOKEN = "lectern.token";

/** The request's bearer token, looked up once per request. */
async function bearerOf(c: Context, db: Queryable, now: number): Promise<TokenInfo | undefined> {
  const known = c.get(TOKEN as never) as TokenInfo | null | undefined;
  if (known !== undefined) return known ?? undefined;
  const bearer = /^Bearer (.+)$/i.exec(c.req.header("authorization") ?? "")?.[1];
  const info = bearer === undefined ? undefined : await tokenInfo(db, bearer.trim(), now);
  c.set(TOKEN as never, (info ?? null) as never);
  return info;
}

/**
 * The API's half of the one authorization rule (web/access.ts): a route that
 * needs a person, or a permission, answers 401 without a valid token, and 403
 * when the token's person (their role now) may not do it.
 */
export function apiAccess(db: Queryable, now: () => number): MiddlewareHandler {
  return async (c, next) => {
    const need = needOf(c.req.method, c.req.path);
    if (need === "public" || c.req.method === "OPTIONS") return await next();
    const info = await bearerOf(c, db, now());
    if (info === undefined) return apiError(c, 401, "The access token is invalid");
    if (info.role === null) return apiError(c, 403, "This method requires an authenticated user");
    if (!allowed(info.role, need)) return apiError(c, 403, "This action is outside your role on this account");
    await next();
  };
}

/** Who acts through a token, for the audit log: the person, with the app named beside them. */
export function apiActor(c: Context, info: TokenInfo, trustedProxies: BlockList | null): Actor {
  return {
    staffId: info.staffId,
    name: `${info.username ?? "an app"} (via ${info.appName})`,
    address: clientAddress(c, trustedProxies),
  };
}

/**
 * OAuth 2 as Mastodon apps expect it: `POST /api/v1/apps`, the authorize page
 * (the desk's own sign-in first, second factor included, then a consent page
 * naming the app and its scopes), `POST /oauth/token` (code with PKCE, or
 * client credentials), `POST /oauth/revoke`, and the server metadata.
 */
export function oauthRoutes(app: Hono, deps: WebDeps): void {
  const { lectern, now } = deps;
  const { config, db, kv, data } = lectern;
  const cookieName = config.origin.protocol === "https:" ? "__Host-lectern_session" : "lectern_session";

  app.post("/api/v1/apps", async (c) => {
    const b = await bodyOf(c);
    try {
      const made = await registerApp(
        db,
        { name: b.client_name ?? "", redirectUris: b.redirect_uris ?? "", scopes: b.scopes, website: b.website },
        now(),
      );
      return c.json({
        id: made.clientId.slice(0, 16),
        name: made.name,
        website: made.website,
        scopes: made.scopes,
        redirect_uri: made.redirectUris.join("\n"),
        redirect_uris: made.redirectUris,
        client_id: made.clientId,
        client_secret: made.clientSecret,
        vapid_key: "",
      });
    } catch (e) {
      if (e instanceof OAuthError) return apiError(c, e.status, e.message);
      throw e;
    }
  });

  app.get("/.well-known/oauth-authorization-server", (c) =>
    c.json({
      issuer: config.origin.href,
      authorization_endpoint: new URL("/oauth/authorize", config.origin).href,
      token_endpoint: new URL("/oauth/token", config.origin).href,
      revocation_endpoint: new URL("/oauth/revoke", config.origin).href,
      app_registration_endpoint: new URL("/api/v1/apps", config.origin).href,
      scopes_supported: SCOPES,
      response_types_supported: ["code"],
      grant_types_supported: ["authorization_code", "client_credentials"],
      code_challenge_methods_supported: ["S256", "plain"],
      token_endpoint_auth_methods_supported: ["client_secret_basic", "client_secret_post"],
    }),
  );

  /** The request's authorization: its app and what it asks, or why not. */
  const request = async (q: Record<string, string | undefined>) => {
    const found = await getApp(db, q.client_id ?? "");
    if (found === undefined) throw new OAuthError("invalid_client", "Unknown app (client_id)", 400);
    const redirectUri = q.redirect_uri ?? "";
    if (!found.redirectUris.includes(redirectUri))
      throw new OAuthError("invalid_redirect_uri", "This redirect_uri was not registered by the app", 400);
    if ((q.response_type ?? "code") !== "code")
      throw new OAuthError("unsupported_response_type", "Only response_type=code is supported");
    const scopes = requestedScopes(q.scope ?? q.scopes, found.scopes);
    const method = q.code_challenge_method ?? (q.code_challenge ? "plain" : null);
    if (method !== null && method !== "S256" && method !== "plain")
      throw new OAuthError("invalid_request", "code_challenge_method must be S256 or plain");
    return { app: found, redirectUri, scopes, state: q.state ?? null, challenge: q.code_challenge ?? null, method };
  };
  const signedIn = async (c: Context) => {
    const session = await getSession(db, getCookie(c, cookieName), now());
    return session?.stage === "full" ? session : undefined;
  };
  const siteName = async () => (await getProfile(data)).name;

  app.get("/oauth/authorize", async (c) => {
    const q = Object.fromEntries(new URL(c.req.url).searchParams);
    let r: Awaited<ReturnType<typeof request>>;
    try {
      r = await request(q);
    } catch (e) {
      if (e instanceof OAuthError) return c.text(e.message, 400);
      throw e;
    }
    const session = await signedIn(c);
    if (session === undefined) {
      const back = `/oauth/authorize${new URL(c.req.url).search}`;
      return c.redirect(`/admin/login?next=${encodeURIComponent(back)}`, 303);
    }
    c.header("Cache-Control", "private, no-store");
    const name = await siteName();
    return c.html(
      <Page
        meta={{ title: `Allow ${r.app.name}?`, siteName: name, private: true }}
        chrome={{ home: "/", siteName: name }}
      >
        <Consent
          app={r.app}
          scopes={r.scopes}
          username={session.username}
          role={session.role}
          csrf={session.csrfToken}
          request={q}
        />
      </Page>,
    );
  });

  app.post("/oauth/authorize", csrf({ origin: config.origin.origin }), async (c) => {
    const session = await signedIn(c);
    if (session === undefined) return c.text("Sign in first", 401);
    const f = await bodyOf(c);
    if (!sameToken(f._csrf, session.csrfToken)) return c.text("This form has expired. Reload and try again.", 403);
    let r: Awaited<ReturnType<typeof request>>;
    try {
      r = await request(f);
    } catch (e) {
      if (e instanceof OAuthError) return c.text(e.message, 400);
      throw e;
    }
    // Back to the app by a page that moves on by itself: a redirect answering a form is held to the
    // form-action policy (`'self' https:`), which would stop apps' own schemes (ivory://, elk://…).
    const back = async (params: Record<string, string>) => {
      const url = new URL(r.redirectUri);
      for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
      if (r.state !== null) url.searchParams.set("state", r.state);
      c.header("Cache-Control", "private, no-store");
      const name = await siteName();
      return c.html(
        <Page
          meta={{ title: `Back to ${r.app.name}`, siteName: name, private: true, refreshTo: url.href }}
          chrome={{ home: "/", siteName: name }}
        >
          <BackToApp app={r.app.name} url={url.href} />
        </Page>,
      );
    };
    if (f.decision !== "allow")
      return r.redirectUri === OOB ? c.text("Denied.") : await back({ error: "access_denied" });
    const code = await issueCode(kv, {
      clientId: r.app.clientId,
      staffId: session.staffId,
      scopes: r.scopes,
      redirectUri: r.redirectUri,
      challenge: r.challenge,
      method: r.method,
    });
    await audit(
      db,
      { staffId: session.staffId, name: session.username, address: clientAddress(c, config.trustedProxies) },
      "app-authorize",
      `${r.app.name} (${r.scopes.join(" ")})`,
      now(),
    );
    if (r.redirectUri === OOB) return c.html(<CodeToCopy app={r.app.name} code={code} />);
    return await back({ code });
  });

  app.post("/oauth/token", async (c) => {
    const f = await bodyOf(c);
    // Client credentials may come as HTTP Basic too.
    const basic = /^Basic (.+)$/i.exec(c.req.header("authorization") ?? "");
    if (basic) {
      const [id, secret] = Buffer.from(basic[1], "base64").toString("utf8").split(":");
      f.client_id ??= decodeURIComponent(id ?? "");
      f.client_secret ??= decodeURIComponent(secret ?? "");
    }
    try {
      return c.json(await exchange(db, kv, f, now()));
    } catch (e) {
      if (e instanceof OAuthError) return apiError(c, e.status, e.message, e.code);
      throw e;
    }
  });

  app.post("/oauth/revoke", async (c) => {
    const f = await bodyOf(c);
    if (f.token) await revokeToken(db, f.token);
    return c.json({});
  });
}
