import type { Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { type Actor, audit } from "../../product/access/audit.ts";
import {
  createSession,
  endSession,
  getSession,
  type Session,
  sameToken,
  setChallenge,
} from "../../product/access/auth.ts";
import { passkeyAuthentication, useRecoveryCode, verifyPasskey, verifyTotp } from "../../product/access/factors.ts";
import { checkCredentials, getStaff, hasSecondFactor, secondFactorRequired } from "../../product/access/staff.ts";
import { attemptSource } from "../../product/access/throttle.ts";
import { clientAddress, readFormWithin } from "../http.ts";
import { LoginPage, VerifyPage } from "../views/signin.tsx";
import { type Desk, type DeskEnv, relyingParty } from "./desk.tsx";
import { passwordlessRoutes } from "./passwordless.ts";

/**
 * Signing in: a username and password (throttled per address, slowed per
 * account), then — when the account has one — a second factor: a code from
 * an authenticator app, a recovery code, or a passkey. The half-done sign-in
 * is a short session of its own (ten minutes); the full session gets a new
 * token. When the owner requires a second factor and the account has none,
 * the session opens only the security page until one is set up.
 */
/** How long a sign-in form may take to arrive (a few hundred bytes). */
const SIGN_IN_BODY_MS = 10_000;

export function signInRoutes(desk: Desk): void {
  const { admin, deps, render, cookie: COOKIE } = desk;
  const { lectern, now, throttle, slots } = deps;
  const { config, db } = lectern;
  const secure = config.origin.protocol === "https:";
  const seen = (c: Context) => ({
    address: clientAddress(c, config.trustedProxies),
    userAgent: c.req.header("user-agent") ?? "",
  });
  const startSession = async (c: Context, staffId: number, stage: Session["stage"]) => {
    const { token } = await createSession(db, staffId, stage, seen(c), now());
    setCookie(c, COOKIE, token, { httpOnly: true, sameSite: "Lax", secure, path: "/", maxAge: 30 * 86_400 });
  };
  const who = (c: Context, staffId: number | null, name: string): Actor => ({
    staffId,
    name,
    address: clientAddress(c, config.trustedProxies),
  });

  /**
   * Where to go after signing in: only this site's OAuth consent page may be asked for (no open redirect),
   * as a path without control characters (it becomes a Location header).
   */
  const nextOf = (c: Context, given?: unknown): string | undefined => {
    const next = typeof given === "string" ? given : c.req.query("next");
    // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing them is the point
    return next?.startsWith("/oauth/authorize?") && !/[\u0000-\u001f\u007f\\]/.test(next) ? next : undefined;
  };
  const done = (c: Context, next: string | undefined) => c.redirect(next ?? "/admin?notice=signed-in", 303);

  admin.get("/login", (c) => render(c, "Sign in", <LoginPage next={nextOf(c)} />));
  passwordlessRoutes(desk, startSession);

  const tooMany = (wait: number) =>
    wait >= 60_000 ? `${Math.ceil(wait / 60_000)} minutes` : `${Math.ceil(wait / 1000)} seconds`;

  admin.post("/login", async (c) => {
    // The whole (small) form first, within seconds: nothing below is held while a body trickles in.
    const form = await readFormWithin(c, SIGN_IN_BODY_MS);
    const next = nextOf(c, form.next);
    const username = (form.username ?? "").trim().toLowerCase().slice(0, 40);
    const password = form.password ?? "";
    const source = attemptSource(clientAddress(c, config.trustedProxies));
    const turn = await throttle.begin("password", source, username, now());
    if (!turn.allowed) {
      c.header("Retry-After", String(Math.ceil(turn.retryAfterMs / 1000)));
      const why =
        turn.reason === "address"
          ? `Too many wrong passwords from here. Try again in ${tooMany(turn.retryAfterMs)}.`
          : `Too many wrong passwords were tried on this account. Try again in ${tooMany(turn.retryAfterMs)}.`;
      return render(c, "Sign in", <LoginPage error={why} username={username} next={next} />, undefined, 429);
    }
    const checked = await slots.run(() => checkCredentials(db, username, password));
    if (checked === undefined) {
      c.header("Retry-After", "2");
      return render(
        c,
        "Sign in",
        <LoginPage error="Busy checking passwords; try again in a moment." username={username} next={next} />,
        undefined,
        503,
      );
    }
    const staff = checked.value;
    await throttle.result("password", source, staff !== undefined);
    if (staff === undefined) {
      await audit(db, who(c, null, username || "(no username)"), "sign-in-failed", null, now());
      return render(
        c,
        "Sign in",
        <LoginPage error="That username or password is not right." username={username} next={next} />,
        undefined,
        401,
      );
    }
    if (hasSecondFactor(staff)) {
      await startSession(c, staff.id, "second-factor");
      return c.redirect(next ? `/admin/login/verify?next=${encodeURIComponent(next)}` : "/admin/login/verify", 303);
    }
    await audit(db, who(c, staff.id, staff.username), "sign-in", null, now());
    if (await secondFactorRequired(db)) {
      await startSession(c, staff.id, "enrol");
      return c.redirect("/admin/security?notice=enrol", 303);
    }
    await startSession(c, staff.id, "full");
    return done(c, next);
  });

  /** The half-done sign-in of this request, if any. */
  const pending = async (c: Context) => {
    const token = getCookie(c, COOKIE);
    const session = await getSession(db, token, now());
    return session?.stage === "second-factor" && token !== undefined ? { session, token } : undefined;
  };
  const verifyView = async (c: Context, session: Session, error?: string, status = 200) => {
    const staff = await getStaff(db, session.staffId);
    return render(
      c,
      "Second step",
      <VerifyPage
        csrf={session.csrfToken}
        totp={staff?.totp ?? false}
        passkeys={(staff?.passkeys ?? 0) > 0}
        username={session.username}
        error={error}
        next={nextOf(c)}
      />,
      undefined,
      status,
    );
  };
  /** The second factor was right: the half-done session ends, a full one (a new token) starts. */
  const complete = async (c: Context, p: { session: Session; token: string }, how: string) => {
    await endSession(db, p.token);
    await audit(db, who(c, p.session.staffId, p.session.username), "sign-in", how, now());
    await startSession(c, p.session.staffId, "full");
  };

  admin.get("/login/verify", async (c) => {
    const p = await pending(c);
    if (p === undefined) return c.redirect("/admin/login", 303);
    return verifyView(c, p.session);
  });

  admin.post("/login/verify", async (c) => {
    const p = await pending(c);
    if (p === undefined) return c.redirect("/admin/login", 303);
    const form = await readFormWithin(c, SIGN_IN_BODY_MS);
    if (!sameToken(form._csrf, p.session.csrfToken))
      return c.text("This form has expired. Reload the page and try again.", 403);
    // Codes are guessable in a million tries: counted like passwords, per address and account, under keys of
    // their own (a person whose password was right is not held back by password guessers).
    const source = attemptSource(clientAddress(c, config.trustedProxies));
    const turn = await throttle.begin("code", source, p.session.username, now());
    if (!turn.allowed) {
      c.header("Retry-After", String(Math.ceil(turn.retryAfterMs / 1000)));
      return verifyView(c, p.session, `Too many wrong codes. Try again in ${tooMany(turn.retryAfterMs)}.`, 429);
    }
    let right = false;
    let how = "";
    const code = form.code ?? "";
    const recovery = form.recovery ?? "";
    if (code.trim() !== "") {
      right = await verifyTotp(db, lectern.secrets, p.session.staffId, code, now());
      how = "with an authenticator app";
    } else if (recovery.trim() !== "") {
      right = await useRecoveryCode(db, p.session.staffId, recovery, now());
      how = "with a recovery code";
    }
    await throttle.result("code", source, right);
    if (!right) {
      await audit(db, who(c, p.session.staffId, p.session.username), "second-factor-failed", null, now());
      return verifyView(c, p.session, "That code is not right (or was used already).", 401);
    }
    await complete(c, p, how);
    return done(c, nextOf(c, form.next));
  });

  admin.post("/login/passkey/options", async (c) => {
    const p = await pending(c);
    if (p === undefined) return c.json({ error: "Sign in again." }, 401);
    if (!sameToken(c.req.header("x-csrf-token"), p.session.csrfToken))
      return c.json({ error: "Reload the page." }, 403);
    const options = await passkeyAuthentication(db, p.session.staffId, relyingParty(config));
    await setChallenge(db, p.token, options.challenge);
    return c.json(options);
  });

  admin.post("/login/passkey", async (c) => {
    const p = await pending(c);
    if (p === undefined) return c.json({ error: "Sign in again." }, 401);
    if (!sameToken(c.req.header("x-csrf-token"), p.session.csrfToken))
      return c.json({ error: "Reload the page." }, 403);
    const body = (await c.req.json().catch(() => null)) as { response?: unknown } | null;
    const challenge = p.session.challenge;
    await setChallenge(db, p.token, null); // one answer per challenge
    const right =
      challenge !== null &&
      body?.response !== undefined &&
      (await verifyPasskey(db, p.session.staffId, body.response, challenge, relyingParty(config), now()));
    if (!right) {
      await audit(db, who(c, p.session.staffId, p.session.username), "second-factor-failed", "passkey", now());
      return c.json({ error: "That passkey was not accepted." }, 401);
    }
    await complete(c, p, "with a passkey");
    return c.json({
      redirect:
        nextOf(c, new URL(c.req.header("referer") ?? "http://x/").searchParams.get("next") ?? undefined) ??
        "/admin?notice=signed-in",
    });
  });

  // Under the session middleware (a full or enrolling session, its CSRF token checked).
  admin.post("/logout", async (c) => {
    const session = (c as unknown as Context<DeskEnv>).get("session");
    await audit(db, who(c, session.staffId, session.username), "sign-out", null, now());
    await endSession(db, getCookie(c, COOKIE));
    deleteCookie(c, COOKIE, { path: "/", secure });
    return c.redirect("/", 303);
  });
}
