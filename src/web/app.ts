import type { IncomingMessage, ServerResponse } from "node:http";
import { getRequestListener } from "@hono/node-server";
import { getLogger } from "@logtape/logtape";
import { type Context, Hono, type Next } from "hono";
import { bodyLimit } from "hono/body-limit";
import { compress } from "hono/compress";
import { cors } from "hono/cors";
import { HTTPException } from "hono/http-exception";
import { secureHeaders } from "hono/secure-headers";
import { onOwnActivity, verifiedSigner } from "../federation/features.ts";
import { finishResponse } from "../federation/json.ts";
import { triageInbox } from "../federation/triage.ts";
import type { Lectern } from "../lectern.ts";
import { CheckSlots, SignInThrottle } from "../product/access/throttle.ts";
import { getProfile } from "../product/profile.ts";
import { LecternError, UnavailableError } from "../shared/errors.ts";
import { RateLimiter } from "../shared/rate-limit.ts";
import { isUnavailable } from "../storage/database.ts";
import { adminRoutes, UPLOAD_ROUTES } from "./admin.ts";
import { authorizationRoutes } from "./authorizations.ts";
import type { WebDeps } from "./deps.ts";
import { healthRoutes } from "./health.ts";
import { mastodonAccounts } from "./mastodon/accounts.ts";
import { mastodonApi } from "./mastodon/api.ts";
import { oauthRoutes } from "./mastodon/oauth.tsx";
import { mastodonTimelines } from "./mastodon/timelines.ts";
import { mediaRoutes } from "./media.ts";
import { observedListener } from "./observed.ts";
import { publicRoutes } from "./public.tsx";
import { readerRoutes } from "./readers.tsx";
import { ResponseCache } from "./response-cache.ts";
import { SiteVersion } from "./site-version.ts";
import { NotFoundPage } from "./views/public.tsx";

const logger = getLogger(["lectern", "web"]);

/** Largest inbox POST accepted; real activities are a few kilobytes. */
export const MAX_INBOX_BODY = 256 * 1024;
/** Largest form the desk accepts (text only; uploads have their own limit). */
export const MAX_FORM_BODY = 256 * 1024;

export interface AppOptions {
  now?: () => number;
}

export interface Web {
  readonly app: Hono;
  /** node:http's listener: cache hits answered on the socket, the rest by the app. */
  readonly listener: (req: IncomingMessage, res: ServerResponse) => void;
  close(): void;
}

export function createApp(lectern: Lectern, options: AppOptions = {}): Hono {
  return createWeb(lectern, options).app;
}

/** The HTTP face of a Lectern: the Hono app, and the Node listener that serves it with its response cache. */
export function createWeb(lectern: Lectern, options: AppOptions = {}): Web {
  const { federation, data, config } = lectern;
  // By default 20 activities a second per server that need work, 300 at once: a large server's real
  // traffic to one account fits; a flood from one server waits its turn and cannot crowd out the others.
  const inboxLimit = new RateLimiter(config.inboxRatePerServer, config.inboxRatePerServer * 15);
  const deps: WebDeps = {
    lectern,
    now: options.now ?? Date.now,
    throttle: new SignInThrottle(lectern.db),
    slots: new CheckSlots(),
  };
  const app = new Hono();

  // First: a hit is answered with the stored response, security headers included.
  const version = new SiteVersion(lectern.db);
  const actorPath = data.urls.actor().pathname;
  const cache = new ResponseCache(version, {
    policy: config.cache,
    authorizedFetch: config.authorizedFetch,
    negotiated: (path) => path === actorPath || data.urls.parsePost(new URL(path, data.urls.origin)) !== null,
  });
  app.use(cache.middleware());
  // The desk is private and uncached: compressed as it goes.
  app.use("/admin/*", compress());

  app.use(
    secureHeaders({
      contentSecurityPolicy: {
        defaultSrc: ["'self'"],
        // blob: the desk's thumbnails of a picture or video just added, before it is uploaded.
        imgSrc: ["'self'", "data:", "blob:", "https:"],
        mediaSrc: ["'self'", "blob:", "https:"],
        styleSrc: ["'self'"],
        scriptSrc: ["'self'"],
        formAction: ["'self'", "https:"],
        frameAncestors: ["'none'"],
        baseUri: ["'none'"],
        objectSrc: ["'none'"],
      },
      crossOriginResourcePolicy: "cross-origin",
      crossOriginEmbedderPolicy: false,
      referrerPolicy: "strict-origin-when-cross-origin",
    }),
  );

  const limit = bodyLimit({
    maxSize: Math.max(MAX_INBOX_BODY, MAX_FORM_BODY),
    // The unread rest of the body makes the connection unusable: tell the client not to reuse it.
    onError: (c) => c.text(`Request body larger than ${MAX_INBOX_BODY} bytes`, 413, { Connection: "close" }),
  });
  // Uploads stream to disk with their own per-file limits (see uploads.ts).
  // Every method with a body (the API edits with PUT and PATCH too).
  app.on(["POST", "PUT", "PATCH", "DELETE"], "*", (c, next) =>
    (c.req.header("content-type") ?? "").startsWith("multipart/form-data") &&
    UPLOAD_ROUTES.some((r) => r.test(c.req.path))
      ? next()
      : limit(c, next),
  );

  // Inbox POSTs are sorted first: most of the fediverse's chatter is answered 202 without any work.
  const inbox = async (c: Context, next: Next) => {
    // Unsigned is refused outright; whether a signature is good is checked (at a cost) only for what we act on.
    if (!c.req.header("signature") && !c.req.header("signature-input"))
      return c.text("This inbox requires signed requests", 401);
    const bytes = new Uint8Array(await c.req.arrayBuffer());
    const verdict = await triageInbox(data, new TextDecoder().decode(bytes));
    if (verdict.action === "drop") return c.body(null, 202);
    if (verdict.action === "refuse") return c.text(verdict.reason, verdict.status);
    // What needs work (a signature check, a fetch, an answer) is limited per server; senders retry a 429.
    const wait = inboxLimit.take(verdict.server);
    if (wait > 0)
      return c.text("Too many activities from your server; slow down", 429, {
        "Retry-After": String(Math.ceil(wait / 1000)),
      });
    if (verdict.action === "own") {
      // Verified as Fedify would, against the configured origin (what the sender signed).
      const url = new URL(c.req.path, config.origin);
      const signed = new Request(url, { method: "POST", headers: c.req.raw.headers, body: bytes });
      const refused = await verifiedSigner(lectern.context(), signed, verdict.actor);
      if (refused !== null) return c.text(refused, 401);
      await onOwnActivity(lectern.context(), verdict.activity);
      return c.body(null, 202);
    }
    // Fedify verifies the signature over the same bytes (the Digest must match).
    c.req.raw = new Request(c.req.raw.url, { method: "POST", headers: c.req.raw.headers, body: bytes });
    await next();
  };
  const inboxPaths = new Set(data.urls.inboxPaths());
  for (const path of inboxPaths) app.post(path, inbox);

  // ActivityPub first; what Fedify does not serve (or a browser asks for) falls through to the routes below.
  app.use(async (c, next) => {
    // Fedify serves reads, and POSTs to the inboxes (whose bytes the triage above has read already).
    // Every other body (a form, an upload) goes to its route untouched, to be read once, as a stream.
    const read = c.req.method === "GET" || c.req.method === "HEAD";
    const inboxPost = c.req.method === "POST" && inboxPaths.has(c.req.path);
    if (!read && !inboxPost) return await next();
    let notFound = false;
    let notAcceptable = false;
    // Fedify builds links (collection pages, ids) from the request URL: it must see the configured
    // origin, whatever Host header or scheme the request arrived with (a TLS proxy, a forged Host).
    const url = new URL(c.req.raw.url);
    const request =
      url.origin === config.origin.origin
        ? c.req.raw
        : new Request(new URL(`${url.pathname}${url.search}`, config.origin), {
            method: c.req.method,
            headers: c.req.raw.headers,
            body: read ? undefined : await c.req.arrayBuffer(),
          });
    const response = await federation.fetch(request, {
      contextData: data,
      onNotFound: () => {
        notFound = true;
        return new Response("Not found", { status: 404 });
      },
      onNotAcceptable: () => {
        notAcceptable = true;
        return new Response("Not acceptable", {
          status: 406,
          headers: { "Content-Type": "text/plain", Vary: "Accept" },
        });
      },
    });
    if (!notFound && !notAcceptable) return c.req.method === "GET" ? await finishResponse(response, data) : response;
    await next();
    if (notAcceptable && c.res.status === 404) return response;
    if (notAcceptable) c.res.headers.append("Vary", "Accept");
  });

  // Web apps (Elk, Phanpy…) call the API from other origins, with bearer tokens, never cookies.
  for (const p of ["/api/*", "/oauth/token", "/oauth/revoke", "/.well-known/oauth-authorization-server"])
    app.use(
      p,
      cors({
        origin: "*",
        allowHeaders: ["Authorization", "Content-Type", "Idempotency-Key"],
        exposeHeaders: ["Link"],
      }),
    );
  // Readers' routes first: one of them is in the Mastodon API's path (email subscriptions), open to anyone.
  readerRoutes(app, deps);
  authorizationRoutes(app, deps);
  oauthRoutes(app, deps);
  mastodonAccounts(app, deps);
  mastodonTimelines(app, deps);
  mastodonApi(app, deps);
  adminRoutes(app, deps);
  mediaRoutes(app, deps);
  publicRoutes(app, deps);

  app.get("/health", (c) => c.json({ ok: true }));
  // Search engines may read the public pages; the desk, the sign-in and the API are nobody's to index.
  app.get("/robots.txt", (c) =>
    c.text("User-agent: *\nDisallow: /admin\nDisallow: /oauth/\nDisallow: /api/\n", 200, {
      "Cache-Control": "public, max-age=86400",
    }),
  );
  healthRoutes(app, lectern);
  // Browsers get a page in the site's dress; servers and scripts a line of text.
  app.notFound(async (c) =>
    /text\/html/.test(c.req.header("accept") ?? "")
      ? c.html(NotFoundPage({ siteName: (await getProfile(data)).name, home: data.urls.desk().pathname }), 404)
      : c.text("Not found", 404),
  );
  app.onError((error, c) => {
    // Refusals raised by middleware (CSRF 403, body limit 413) keep their status.
    if (error instanceof HTTPException) return error.getResponse();
    if (isUnreadableBody(error)) {
      // A form or upload that cannot be parsed (no boundary, cut short): the client's mistake.
      return c.text("The request body could not be read as a form.", 400, { Connection: "close" });
    }
    if (error instanceof LecternError && !(error instanceof UnavailableError)) {
      // A client's mistake, with a message meant for it: never a 5xx.
      return c.text(error.message, error.status as 400);
    }
    if (error instanceof UnavailableError || isUnavailable(error)) {
      // PostgreSQL is restarting, the media store is away: logged once where it happens; clients come back shortly.
      const said = error instanceof UnavailableError && !isUnavailable(error) ? error.message : "";
      return c.text(said || "Temporarily unavailable; try again shortly.", 503, { "Retry-After": "5" });
    }
    if (c.req.method === "POST" && inboxPaths.has(c.req.path)) {
      // What Fedify cannot process in an inbox is the sender's JSON-LD (an unreachable @context, a
      // shape it cannot read): a 400 with the reason; Mastodon and others do not retry a 4xx.
      logger.warning("Refused an activity that could not be processed: {error}", { error });
      return c.text(`The activity could not be processed: ${error.message.slice(0, 300)}`, 400);
    }
    logger.error("{method} {path} failed: {error}", { method: c.req.method, path: c.req.path, error });
    return c.text("Something went wrong on our side.", 500);
  });
  const fallback = getRequestListener(app.fetch);
  return {
    app,
    listener: observedListener((req, res) => {
      if (!cache.serveNode(req, res)) void fallback(req, res);
    }, config),
    close: () => version.close(),
  };
}

/** Errors Hono, undici and busboy raise for a body that is not the form it claims to be. */
function isUnreadableBody(error: unknown): boolean {
  const message = error instanceof Error ? error.message : "";
  return (
    (error instanceof TypeError && /form ?data|parse body|boundary|multipart|unexpected end of form/i.test(message)) ||
    /^(Multipart: )?Boundary not found|Unexpected end of form|Malformed part header/i.test(message)
  );
}
