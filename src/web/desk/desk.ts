import path from "node:path";
import type { Context, Hono, MiddlewareHandler } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { csrf } from "hono/csrf";
import { HTTPException } from "hono/http-exception";
import { checkPassword, createSession, endSession, getSession, type Session, sameToken } from "../../product/auth.ts";
import { MAX_PINNED } from "../../product/posts.ts";
import { getProfile } from "../../product/profile.ts";
import type { WebDeps } from "../deps.ts";
import { clientAddress } from "../http.ts";
import { type ParsedUpload, parseUpload, UploadError } from "../uploads.ts";
import { loginPage } from "../views/admin.ts";
import { type Html, page } from "../views/layout.ts";

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
}

const NOTICES: Record<string, string> = {
  published: "Published. It is on its way to every follower.",
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
  "signed-in": "Welcome back.",
};

const ERRORS: Record<string, string> = {
  "pin-limit": `At most ${MAX_PINNED} posts can be pinned: unpin one first.`,
};

/**
 * The desk's session: sign-in (throttled), sign-out, and the middleware that
 * asks for a session on every other route and for the session's CSRF token on
 * every POST. Returns the desk the route modules mount on.
 */
export function deskSession(app: Hono, deps: WebDeps): Desk {
  const { lectern, now, throttle } = deps;
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
    return c.html(
      page(
        { title: `${title} · Lectern`, siteName, private: true },
        { home: "/", siteName, admin: session ? { csrf: session.csrfToken } : undefined },
        await body,
      ),
      status as 200,
    );
  };

  admin.get("/login", (c) => render(c, "Sign in", loginPage()));

  admin.post("/login", async (c) => {
    const client = clientAddress(c, config.trustedProxies);
    const wait = throttle.begin(client, now());
    if (wait > 0) {
      c.header("Retry-After", String(Math.ceil(wait / 1000)));
      return render(
        c,
        "Sign in",
        loginPage(`Too many wrong passwords. Try again in ${Math.ceil(wait / 1000)} seconds.`),
        undefined,
        429,
      );
    }
    let right = false;
    try {
      const form = await c.req.parseBody();
      const password = typeof form.password === "string" ? form.password : "";
      right = await checkPassword(db, password);
    } finally {
      throttle.done(client, right);
    }
    if (!right) return render(c, "Sign in", loginPage("That password is not right."), undefined, 401);
    const { token } = await createSession(db, now());
    setCookie(c, COOKIE, token, { httpOnly: true, sameSite: "Lax", secure, path: "/", maxAge: 30 * 86_400 });
    return c.redirect("/admin?notice=signed-in", 303);
  });

  // Everything else needs a session; every POST needs the session's CSRF token too.
  const requireSession: MiddlewareHandler<DeskEnv> = async (c, next) => {
    const token = getCookie(c, COOKIE);
    const session = await getSession(db, token, now());
    if (session === undefined || token === undefined) {
      if (c.req.method === "GET") return c.redirect("/admin/login", 303);
      return c.text("Sign in first", 401);
    }
    if (c.req.method === "POST" && isMultipart(c)) {
      // Uploads stream to disk; their route checks the token from the parsed fields before using any file.
      if (!UPLOAD_ROUTES.some((r) => r.test(c.req.path))) return c.text("Uploads are not accepted here", 415);
    } else if (c.req.method === "POST") {
      const form = await c.req.parseBody({ all: true });
      const sent = form._csrf;
      if (!sameToken(typeof sent === "string" ? sent : undefined, session.csrfToken)) {
        return c.text("This form has expired or did not come from this site. Reload the page and try again.", 403);
      }
    }
    c.set("session", session);
    c.set("token", token);
    await next();
  };
  admin.use("/", requireSession);
  admin.use("/*", async (c, next) => (c.req.path === "/admin/login" ? next() : requireSession(c, next)));

  admin.post("/logout", async (c) => {
    await endSession(db, c.get("token"));
    deleteCookie(c, COOKIE, { path: "/", secure });
    return c.redirect("/", 303);
  });

  const readUpload = async (c: Context<DeskEnv>, maxFiles: number): Promise<ParsedUpload> => {
    let upload: ParsedUpload;
    try {
      upload = await parseUpload(c.req.raw, path.join(config.dataDir, "tmp"), {
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
    notice: (c) => NOTICES[c.req.query("notice") ?? ""],
    error: (c) => ERRORS[c.req.query("error") ?? ""],
    readUpload,
  };
}

/** POST routes that take multipart uploads (and check the CSRF token themselves). */
export const UPLOAD_ROUTES = [
  /^\/admin\/posts$/,
  /^\/admin\/posts\/[0-9a-f-]{36}$/,
  /^\/admin\/scheduled\/[0-9a-f-]{36}$/,
  /^\/admin\/profile$/,
];

export function isMultipart(c: Context): boolean {
  return (c.req.header("content-type") ?? "").startsWith("multipart/form-data");
}

/** "0.5,-0.25" → [0.5, -0.25]; empty or malformed → undefined. */
export function parseFocus(text: string): [number, number] | undefined {
  const m = /^\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*$/.exec(text);
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}
