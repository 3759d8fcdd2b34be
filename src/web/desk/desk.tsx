import path from "node:path";
import type { Context, Hono, MiddlewareHandler } from "hono";
import { getCookie } from "hono/cookie";
import { csrf } from "hono/csrf";
import { HTTPException } from "hono/http-exception";
import type { Actor } from "../../product/access/audit.ts";
import { getSession, type Session, sameToken, touchSession } from "../../product/access/auth.ts";
import type { RelyingParty } from "../../product/access/factors.ts";
import { MAX_PINNED } from "../../product/posts.ts";
import { getProfile } from "../../product/profile.ts";
import { isTimeZone } from "../../shared/config-parsers.ts";
import { allowed, needOf } from "../access.ts";
import type { WebDeps } from "../deps.ts";
import { clientAddress } from "../http.ts";
import { type ParsedUpload, parseUpload, UploadError } from "../uploads.ts";
import { type Html, Page } from "../views/layout.tsx";
import { NotAllowed } from "../views/signin.tsx";

export type DeskEnv = { Variables: { session: Session; token: string } };

/** What every part of the desk works with: its routes under /admin, signed in, and how it answers. */
export interface Desk {
  readonly admin: Hono<DeskEnv>;
  readonly deps: WebDeps;
  render(c: Context, title: string, body: Html | Promise<Html>, session?: Session, status?: number): Promise<Response>;
  /** The notice a redirect asked for (`?notice=`), in words. */
  notice(c: Context): string | undefined;
  /** The error a redirect asked for (`?error=`), in words. */
  error(c: Context): string | undefined;
  /** Streams an upload to temporary files and checks the form's CSRF token before anything else. */
  readUpload(c: Context<DeskEnv>, maxFiles: number): Promise<ParsedUpload>;
  /** Who is acting in this request, for the audit log. */
  actor(c: Context<DeskEnv>): Actor;
  /** The session cookie's name. */
  readonly cookie: string;
}

const NOTICES: Record<string, string> = {
  published: "Published. It is on its way to every follower.",
  held: "Sent. It goes out when its undo window ends: until then, Undo takes it back without a trace.",
  undone: "Taken back: nothing of it was sent or shown.",
  awaiting: "Sent for approval: it goes out once the owner approves it.",
  "approved-post": "Approved: it goes out as any post does.",
  "declined-post": "Declined: nothing was sent; the editor sees your note.",
  scheduled: "Scheduled.",
  edited: "Saved. Followers' servers receive the edit.",
  deleted: "Deleted everywhere.",
  pinned: "Pinned to the profile.",
  unpinned: "Unpinned.",
  cancelled: "The scheduled post was cancelled.",
  profile: "Profile saved. Followers' servers receive the update.",
  removed: "Follower removed; their server was told.",
  approved: "Follower approved; their server was told.",
  blocked: "Blocked.",
  unblocked: "Unblocked.",
  "signed-in": "Signed in.",
  enrol: "The owner asks everyone to use a second factor: set up an authenticator app or a passkey to go on.",
  password: "Password changed. Your other sessions were signed out.",
  "edit-draft": "Saved as a draft: nothing was sent, the post reads as before.",
  "edited-awaiting": "Changes saved: the post still waits for your approval.",
  "edit-awaiting":
    "Saved as a draft for the owner: under the approval rule an editor's changes go out when the owner publishes them.",
  "edit-draft-discarded": "Draft discarded: the post is as published.",
  "password-removed": "Password removed: you sign in with your passkey alone. Your other sessions were signed out.",
  totp: "Authenticator app turned on. Your other sessions were signed out.",
  "totp-off": "Authenticator app turned off.",
  passkey: "Passkey added. Your other sessions were signed out.",
  "passkey-removed": "Passkey removed.",
  revoked: "Session ended.",
  "app-revoked": "The app can no longer use this account.",
  "staff-added": "Staff account added.",
  "staff-removed": "Staff account removed.",
  "staff-changed": "Saved.",
  "signed-out": "Signed out everywhere: every session and app of that account has ended.",
};

const ERRORS: Record<string, string> = {
  "pin-limit": `At most ${MAX_PINNED} posts can be pinned: unpin one first.`,
  "undo-late": "Too late to undo: that post is already out (or was taken back already). Delete it instead.",
  "send-late": "That post is no longer waiting: it is out already, or was taken back.",
  decided: "That post is no longer waiting for approval: someone decided already.",
};

/**
 * The desk's session: the middleware that asks for a full session on every
 * route but signing in (desk/signin.ts), for the owner's role on the owner's
 * pages, and for the session's CSRF token on every POST. Returns the desk the
 * route modules mount on.
 */
export function deskSession(app: Hono, deps: WebDeps): Desk {
  const { lectern, now } = deps;
  const { config, db, data } = lectern;
  const secure = config.origin.protocol === "https:";
  // __Host- cookies must be Secure: on plain http (local use) a plain name.
  const COOKIE = secure ? "__Host-lectern_session" : "lectern_session";
  const admin = app.basePath("/admin") as unknown as Hono<DeskEnv>;

  admin.use("*", async (c, next) => {
    await next();
    c.header("Cache-Control", "private, no-store");
    c.header("X-Robots-Tag", "noindex");
  });
  // Forms must come from our own pages (Origin checked by Hono), and carry the session's token (below).
  admin.use("*", csrf({ origin: config.origin.origin }));

  const render = async (c: Context, title: string, body: Html | Promise<Html>, session?: Session, status = 200) => {
    const siteName = (await getProfile(data)).name;
    const signedIn = session && session.stage !== "second-factor";
    const chrome = {
      home: "/",
      siteName,
      admin: signedIn
        ? {
            csrf: session.csrfToken,
            username: session.username,
            owner: session.role === "owner",
            full: session.stage === "full",
          }
        : undefined,
    };
    return c.html(
      <Page meta={{ title: `${title} · Lectern`, siteName, private: true }} chrome={chrome}>
        {await body}
      </Page>,
      status as 200,
    );
  };

  // Everything but signing in needs a full session; every POST needs the session's CSRF token too.
  const requireSession: MiddlewareHandler<DeskEnv> = async (c, next) => {
    const token = getCookie(c, COOKIE);
    const session = await getSession(db, token, now());
    const path = c.req.path;
    if (session === undefined || token === undefined || session.stage === "second-factor") {
      if (c.req.method === "GET") return c.redirect(session ? "/admin/login/verify" : "/admin/login", 303);
      return c.text("Sign in first", 401);
    }
    // The owner requires a second factor: until one is set up, only the security page opens.
    if (session.stage === "enrol" && !path.startsWith("/admin/security") && path !== "/admin/logout") {
      if (c.req.method === "GET") return c.redirect("/admin/security?notice=enrol", 303);
      return c.text("Set up a second factor first", 403);
    }
    // What their role allows: the one rule the API applies too (web/access.ts).
    if (!allowed(session.role, needOf(c.req.method, path))) {
      return render(c, "Not allowed", <NotAllowed />, session, 403);
    }
    if (c.req.method === "POST" && isMultipart(c)) {
      // Uploads stream to disk; their route checks the token from the parsed fields before using any file.
      if (!UPLOAD_ROUTES.some((r) => r.test(path))) return c.text("Uploads are not accepted here", 415);
    } else if (c.req.method === "POST" && (c.req.header("content-type") ?? "").startsWith("application/json")) {
      // The passkey ceremonies post JSON, with the token in a header.
      if (!sameToken(c.req.header("x-csrf-token"), session.csrfToken))
        return c.text("Reload the page and try again.", 403);
    } else if (c.req.method === "POST") {
      const form = await c.req.parseBody({ all: true });
      const sent = form._csrf;
      if (!sameToken(typeof sent === "string" ? sent : undefined, session.csrfToken)) {
        return c.text("This form has expired or did not come from this site. Reload the page and try again.", 403);
      }
    }
    c.set("session", session);
    c.set("token", token);
    await touchSession(db, token, now());
    await next();
  };
  admin.use("/", requireSession);
  admin.use("/*", async (c, next) => (c.req.path.startsWith("/admin/login") ? next() : requireSession(c, next)));

  const actor = (c: Context<DeskEnv>): Actor => {
    const session = c.get("session");
    return { staffId: session.staffId, name: session.username, address: clientAddress(c, config.trustedProxies) };
  };

  const readUpload = async (c: Context<DeskEnv>, maxFiles: number): Promise<ParsedUpload> => {
    let upload: ParsedUpload;
    try {
      upload = await parseUpload(c, path.join(config.dataDir, "tmp"), {
        maxFileBytes: Math.max(config.media.maxImageBytes, config.media.maxVideoBytes),
        maxFiles,
      });
    } catch (e) {
      if (e instanceof UploadError) throw new HTTPException(e.status, { message: e.message });
      throw e;
    }
    if (!sameToken(upload.field("_csrf"), c.get("session").csrfToken)) {
      await upload.cleanup();
      throw new HTTPException(403, {
        message: "This form has expired or did not come from this site. Reload the page and try again.",
      });
    }
    return upload;
  };
  return {
    admin,
    deps,
    render,
    notice: (c) => noticeOf(c),
    error: (c) => ERRORS[c.req.query("error") ?? ""],
    readUpload,
    actor,
    cookie: COOKIE,
  };
}

/** The notice a redirect asked for, in words; a scheduled post's names its time in its zone. */
function noticeOf(c: Context): string | undefined {
  const key = c.req.query("notice") ?? "";
  if (key === "scheduled") {
    const at = Number(c.req.query("at"));
    const zone = c.req.query("zone") ?? "";
    if (Number.isSafeInteger(at) && isTimeZone(zone)) {
      const when = new Intl.DateTimeFormat("en-GB", {
        weekday: "short",
        day: "numeric",
        month: "short",
        year: "numeric",
        hour: "2-digit",
        minute: "2-digit",
        timeZone: zone,
      }).format(new Date(at));
      return `Scheduled for ${when} (${zone}).`;
    }
  }
  return NOTICES[key];
}

/** POST routes that take multipart uploads (and check the CSRF token themselves). */
export const UPLOAD_ROUTES = [
  /^\/admin\/posts$/,
  /^\/admin\/posts\/[0-9a-f-]{36}$/,
  /^\/admin\/scheduled\/[0-9a-f-]{36}$/,
  /^\/admin\/profile$/,
  /^\/admin\/blocks\/import$/,
  /^\/api\/v[12]\/media$/,
  /^\/api\/v1\/accounts\/update_credentials$/,
];

/** Where passkeys belong: this site's host name and origin (never a request's Host). */
export function relyingParty(config: { origin: URL }): RelyingParty {
  return { id: config.origin.hostname, name: `Lectern (${config.origin.host})`, origin: config.origin.origin };
}

export function isMultipart(c: Context): boolean {
  return (c.req.header("content-type") ?? "").startsWith("multipart/form-data");
}

/** "0.5,-0.25" → [0.5, -0.25]; empty or malformed → undefined. */
export function parseFocus(text: string): [number, number] | undefined {
  const m = /^\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*$/.exec(text);
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}
