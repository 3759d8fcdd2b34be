import type { Context } from "hono";
import QRCode from "qrcode";
import { audit } from "../../product/access/audit.ts";
import {
  completeEnrolment,
  InvalidPasswordError,
  listSessions,
  revokeSession,
  setChallenge,
  tokenHash,
} from "../../product/access/auth.ts";
import {
  beginTotp,
  confirmTotp,
  disableTotp,
  FactorError,
  finishPasskeyRegistration,
  listPasskeys,
  newRecoveryCodes,
  passkeyRegistration,
  pendingTotp,
  removePasskey,
  totpUri,
} from "../../product/access/factors.ts";
import { listAuthorizations, revokeApp } from "../../product/access/oauth.ts";
import {
  checkOwnPassword,
  getStaff,
  removeStaffPassword,
  type Staff,
  StaffError,
  setStaffPassword,
} from "../../product/access/staff.ts";
import { SecurityPage, type SecurityView } from "../views/security.tsx";
import { type Desk, type DeskEnv, relyingParty } from "./desk.tsx";

/** How long after a passkey sign-in a person without a password may change their security. */
const FRESH_SIGN_IN_MS = 10 * 60_000;

/**
 * The signed-in person's own security: password, authenticator app (TOTP)
 * with recovery codes, passkeys, and where they are signed in. Every change
 * asks for the current password (a passkey is added from a session that
 * just signed in) and signs the account's other sessions out.
 */
export function securityRoutes(desk: Desk): void {
  const { admin, deps, render, notice } = desk;
  const { lectern, now } = deps;
  const { config, db } = lectern;
  const issuer = `Lectern (${config.origin.host})`;

  const me = async (c: Context<DeskEnv>): Promise<Staff> => (await getStaff(db, c.get("session").staffId)) as Staff;
  const view = async (c: Context<DeskEnv>, extra: Partial<SecurityView> = {}, status = 200) => {
    const session = c.get("session");
    const staff = await me(c);
    const setup = extra.pendingTotp ?? (await pendingSetup(staff));
    // The URI as a QR code too, drawn here as SVG (no image service ever learns the secret).
    const pending = setup && {
      ...setup,
      qr: await QRCode.toString(setup.uri, { type: "svg", errorCorrectionLevel: "M", margin: 2 }),
    };
    return render(
      c,
      "Security",
      <SecurityPage
        csrf={session.csrfToken}
        staff={staff}
        notice={notice(c)}
        passkeys={await listPasskeys(db, staff.id)}
        sessions={await listSessions(db, staff.id, c.get("token"), now())}
        apps={await listAuthorizations(db, staff.id)}
        {...extra}
        pendingTotp={staff.totp ? undefined : pending}
      />,
      session,
      status,
    );
  };
  const pendingSetup = async (staff: Staff) => {
    if (staff.totp) return undefined;
    const secret = await pendingTotp(db, lectern.secrets, staff.id);
    if (secret === null) return undefined;
    return { secret, uri: totpUri(issuer, staff.username, secret) };
  };
  const form = async (c: Context<DeskEnv>) => (await c.req.parseBody()) as Record<string, string | File>;
  const text = (f: Record<string, string | File>, k: string) => (typeof f[k] === "string" ? (f[k] as string) : "");
  /**
   * The person confirms a change: with their current password, or, when they sign in with a passkey alone,
   * by having signed in with it in the last ten minutes (a stolen old session cannot change anything).
   */
  const confirmedBy = async (c: Context<DeskEnv>, current: string): Promise<boolean> => {
    const session = c.get("session");
    if ((await me(c)).hasPassword) return await checkOwnPassword(db, session.staffId, current);
    return now() - session.createdAt <= FRESH_SIGN_IN_MS;
  };
  const confirmed = (c: Context<DeskEnv>, f: Record<string, string | File>) => confirmedBy(c, text(f, "current"));
  const refusal = async (c: Context<DeskEnv>) =>
    (await me(c)).hasPassword
      ? "Your current password is not right."
      : "Sign in again with your passkey to change this: changes are open for ten minutes after signing in.";
  const wrong = async (c: Context<DeskEnv>) => view(c, { error: await refusal(c) }, 403);
  /** Once a factor exists, a session that had to enrol becomes a full one. */
  const promote = async (c: Context<DeskEnv>) => {
    if (c.get("session").stage === "enrol") await completeEnrolment(db, c.get("token"));
  };

  admin.get("/security", (c) => view(c));

  admin.post("/security/password", async (c) => {
    const f = await form(c);
    if (!(await confirmed(c, f))) return wrong(c);
    try {
      await setStaffPassword(db, c.get("session").staffId, text(f, "password"), tokenHash(c.get("token")));
    } catch (e) {
      if (e instanceof InvalidPasswordError) return view(c, { error: e.message }, 422);
      throw e;
    }
    await audit(db, desk.actor(c), "password", null, now());
    return c.redirect("/admin/security?notice=password", 303);
  });

  admin.post("/security/password/remove", async (c) => {
    const f = await form(c);
    if (!(await confirmed(c, f))) return wrong(c);
    try {
      await removeStaffPassword(db, c.get("session").staffId, tokenHash(c.get("token")));
    } catch (e) {
      if (e instanceof StaffError) return view(c, { error: `Your password stays: ${e.message}.` }, 422);
      throw e;
    }
    await audit(db, desk.actor(c), "password-remove", null, now());
    return c.redirect("/admin/security?notice=password-removed", 303);
  });

  // The setup answers a form: a reload (or the back button) asks for it again, and gets the page it came from.
  for (const step of ["/security/totp", "/security/totp/confirm", "/security/password"])
    admin.get(step, (c) => c.redirect("/admin/security", 303));

  admin.post("/security/totp", async (c) => {
    const f = await form(c);
    if (!(await confirmed(c, f))) return wrong(c);
    const pending = await beginTotp(db, lectern.secrets, await me(c), issuer);
    return view(c, { pendingTotp: pending });
  });

  admin.post("/security/totp/confirm", async (c) => {
    const f = await form(c);
    let codes: string[];
    try {
      codes = await confirmTotp(
        db,
        lectern.secrets,
        c.get("session").staffId,
        text(f, "code"),
        tokenHash(c.get("token")),
        now(),
      );
    } catch (e) {
      if (e instanceof FactorError) return view(c, { error: e.message }, 422);
      throw e;
    }
    await promote(c);
    await audit(db, desk.actor(c), "totp-on", null, now());
    c.set("session", { ...c.get("session"), stage: "full" });
    return view(c, {
      recoveryCodes: codes,
      notice: "Authenticator app turned on. Your other sessions were signed out.",
    });
  });

  admin.post("/security/totp/off", async (c) => {
    const f = await form(c);
    if (!(await confirmed(c, f))) return wrong(c);
    await disableTotp(db, c.get("session").staffId, tokenHash(c.get("token")));
    await audit(db, desk.actor(c), "totp-off", null, now());
    return c.redirect("/admin/security?notice=totp-off", 303);
  });

  admin.post("/security/recovery-codes", async (c) => {
    const f = await form(c);
    if (!(await confirmed(c, f))) return wrong(c);
    const codes = await newRecoveryCodes(db, c.get("session").staffId);
    await audit(db, desk.actor(c), "recovery-codes", null, now());
    return view(c, { recoveryCodes: codes });
  });

  admin.post("/security/passkeys/options", async (c) => {
    const body = (await c.req.json().catch(() => null)) as { current?: unknown } | null;
    const current = typeof body?.current === "string" ? body.current : "";
    if (!(await confirmedBy(c, current)))
      return c.json(
        { error: (await me(c)).hasPassword ? "Enter your current password first." : await refusal(c) },
        403,
      );
    const options = await passkeyRegistration(db, await me(c), relyingParty(config));
    await setChallenge(db, c.get("token"), options.challenge);
    return c.json(options);
  });

  admin.post("/security/passkeys", async (c) => {
    const session = c.get("session");
    const body = (await c.req.json().catch(() => null)) as { response?: unknown; name?: unknown } | null;
    const challenge = session.challenge;
    await setChallenge(db, c.get("token"), null);
    if (challenge === null || body?.response === undefined) return c.json({ error: "Start again." }, 400);
    try {
      const key = await finishPasskeyRegistration(
        db,
        session.staffId,
        body.response,
        challenge,
        relyingParty(config),
        typeof body.name === "string" ? body.name : "",
        tokenHash(c.get("token")),
        now(),
      );
      await promote(c);
      await audit(db, desk.actor(c), "passkey-add", key.name, now());
    } catch (e) {
      if (e instanceof FactorError) return c.json({ error: e.message }, 400);
      throw e;
    }
    return c.json({ redirect: "/admin/security?notice=passkey" });
  });

  admin.post("/security/passkeys/remove", async (c) => {
    const f = await form(c);
    if (!(await confirmed(c, f))) return wrong(c);
    const id = text(f, "id");
    const keys = await listPasskeys(db, c.get("session").staffId);
    try {
      if (await removePasskey(db, c.get("session").staffId, id, tokenHash(c.get("token"))))
        await audit(db, desk.actor(c), "passkey-remove", keys.find((k) => k.id === id)?.name ?? null, now());
    } catch (e) {
      if (e instanceof FactorError) return view(c, { error: `The passkey stays: ${e.message}.` }, 422);
      throw e;
    }
    return c.redirect("/admin/security?notice=passkey-removed", 303);
  });

  admin.post("/security/apps/revoke", async (c) => {
    const f = await form(c);
    const apps = await listAuthorizations(db, c.get("session").staffId);
    const app = apps.find((a) => a.clientId === text(f, "app"));
    if (app !== undefined && (await revokeApp(db, c.get("session").staffId, app.clientId)))
      await audit(db, desk.actor(c), "app-revoke", app.name, now());
    return c.redirect("/admin/security?notice=app-revoked", 303);
  });

  admin.post("/security/sessions/revoke", async (c) => {
    const f = await form(c);
    if (await revokeSession(db, c.get("session").staffId, text(f, "session"))) {
      await audit(db, desk.actor(c), "session-revoke", null, now());
    }
    return c.redirect("/admin/security?notice=revoked", 303);
  });
}
