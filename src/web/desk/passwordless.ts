import { randomBytes } from "node:crypto";
import type { Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { audit } from "../../product/access/audit.ts";
import { discoverableAuthentication, verifyDiscoverable } from "../../product/access/factors.ts";
import { getStaff } from "../../product/access/staff.ts";
import { Temporal } from "../../shared/temporal.ts";
import { clientAddress } from "../http.ts";
import { type Desk, relyingParty } from "./desk.tsx";

const CHALLENGE_COOKIE = "lectern_passkey";

/**
 * Signing in with a passkey alone (no username, no password): the browser
 * offers this site's discoverable passkeys; one the device verified (a PIN or
 * a biometric) is two factors in one and opens a full session. The challenge
 * waits five minutes in the key-value store under a random name held in an
 * HttpOnly, SameSite=Strict cookie; both requests must be JSON from the desk's
 * own origin (there is no session yet to carry a CSRF token).
 */
export function passwordlessRoutes(
  desk: Desk,
  startSession: (c: Context, staffId: number, stage: "full") => Promise<void>,
): void {
  const { admin, deps } = desk;
  const { lectern, now } = deps;
  const { config, db, kv } = lectern;
  const secure = config.origin.protocol === "https:";
  // A JSON body cannot be sent across sites without a CORS preflight, which is never granted here; what a
  // browser says of where the request comes from (Origin, Sec-Fetch-Site) must be this site when it says it.
  const sameOrigin = (c: Context) => {
    const origin = c.req.header("origin");
    const site = c.req.header("sec-fetch-site");
    return (
      (c.req.header("content-type") ?? "").startsWith("application/json") &&
      (origin === undefined || origin === config.origin.origin) &&
      (site === undefined || site === "same-origin")
    );
  };
  const key = (nonce: string) => ["lectern", "passkey-login", nonce] as const;

  admin.post("/login/passkey/start", async (c) => {
    if (!sameOrigin(c)) return c.json({ error: "Reload the page." }, 403);
    const options = await discoverableAuthentication(relyingParty(config));
    const nonce = randomBytes(24).toString("base64url");
    await kv.set(key(nonce), options.challenge, { ttl: Temporal.Duration.from({ minutes: 5 }) });
    setCookie(c, CHALLENGE_COOKIE, nonce, {
      httpOnly: true,
      sameSite: "Strict",
      secure,
      path: "/admin/login",
      maxAge: 300,
    });
    return c.json(options);
  });

  admin.post("/login/passkey/finish", async (c) => {
    if (!sameOrigin(c)) return c.json({ error: "Reload the page." }, 403);
    const nonce = getCookie(c, CHALLENGE_COOKIE) ?? "";
    deleteCookie(c, CHALLENGE_COOKIE, { path: "/admin/login", secure });
    const challenge = /^[A-Za-z0-9_-]{32}$/.test(nonce) ? await kv.get<string>(key(nonce)) : undefined;
    if (challenge !== undefined) await kv.delete(key(nonce)); // one answer per challenge
    const body = (await c.req.json().catch(() => null)) as { response?: unknown } | null;
    const address = clientAddress(c, config.trustedProxies);
    const staffId =
      challenge === undefined || body?.response === undefined
        ? null
        : await verifyDiscoverable(db, body.response, challenge, relyingParty(config), now());
    const staff = staffId === null ? undefined : await getStaff(db, staffId);
    if (staff === undefined) {
      await audit(db, { staffId: null, name: "someone", address }, "sign-in-failed", "passkey", now());
      return c.json({ error: "That passkey was not accepted here. Sign in with your password instead." }, 401);
    }
    await startSession(c, staff.id, "full");
    await audit(db, { staffId: staff.id, name: staff.username, address }, "sign-in", "with a passkey alone", now());
    return c.json({ redirect: "/admin?notice=signed-in" });
  });
}
