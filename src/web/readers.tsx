import { timingSafeEqual } from "node:crypto";
import type { Context, Hono } from "hono";
import { getProfile } from "../product/profile.ts";
import { readerKeys } from "../readers/keys.ts";
import { pushTarget, removePushSubscription, savePushSubscription } from "../readers/push-subscriptions.ts";
import {
  CADENCES,
  type Cadence,
  canManage,
  confirm,
  parseAddress,
  setCadence,
  subscribe,
  suppress,
  unsubscribe,
} from "../readers/subscribers.ts";
import { RateLimiter } from "../shared/rate-limit.ts";
import { SERVICE_WORKER } from "./assets.ts";
import type { WebDeps } from "./deps.ts";
import { clientAddress } from "./http.ts";
import { Page } from "./views/layout.tsx";

/** Largest JSON a reader's browser or the provider's webhook sends here. */
const MAX_JSON = 16 * 1024;

/**
 * Readers without an account: email subscriptions (double opt-in; the
 * links in every email manage them: unsubscribe, how often) and Web Push
 * subscriptions, plus the service worker and the web app manifest. Every
 * answer to a subscription says the same whatever was known of the address.
 */
export function readerRoutes(app: Hono, deps: WebDeps): void {
  const { lectern } = deps;
  const { config, db, data } = lectern;
  // A person subscribes once or twice; a script trying addresses is held to 30 an hour per client address
  // (a shared address — an office, a mobile carrier — has room for many people; one address still gets at most
  // one confirmation a day, see subscribe()).
  const asks = new RateLimiter(30 / 3600, 30);
  const limited = (c: Context) => {
    const wait = asks.take(clientAddress(c, config.trustedProxies));
    return wait > 0 ? { retryAfter: Math.ceil(wait / 1000) } : null;
  };
  const page = async (
    c: Context,
    title: string,
    body: string,
    status = 200,
    form?: { action: string; button: string },
  ) =>
    c.html(
      <Page
        meta={{ title, siteName: (await getProfile(data)).name, private: true }}
        chrome={{ home: data.urls.desk().pathname, siteName: (await getProfile(data)).name }}
      >
        <section class="card">
          <h1>{title}</h1>
          <p>{body}</p>
          {form && (
            <form method="post" action={form.action}>
              <button class="primary" type="submit">
                {form.button}
              </button>
            </form>
          )}
        </section>
      </Page>,
      status as 200,
      { "Cache-Control": "no-store" },
    );
  const fromElsewhere = (c: Context) => {
    const origin = c.req.header("origin");
    return origin !== undefined && origin !== "null" && origin !== config.origin.origin;
  };
  const off = (c: Context) => c.text("Not found", 404);

  // Subscribing: the public pages' form, and Mastodon 4.6's API.
  app.post("/email/subscribe", async (c) => {
    if (config.email === null) return off(c);
    if (fromElsewhere(c)) return c.text("Subscribe from this site's pages", 403);
    const slow = limited(c);
    if (slow) return page(c, "Too many requests", "Try again in a while.", 429);
    const form = await c.req.parseBody().catch(() => ({}) as Record<string, unknown>);
    const address = parseAddress(form.email);
    if (address === null)
      return page(c, "Not an email address", "Go back and enter an address such as you@example.com.", 400);
    await subscribe(db, await readerKeys(data), address, "form", deps.now());
    return page(
      c,
      "Check your inbox",
      "If this address can be subscribed, an email with a link to confirm is on its way. Nothing else is sent until you confirm.",
    );
  });
  app.post("/api/v1/accounts/:id/email_subscriptions", async (c) => {
    if (config.email === null || c.req.param("id") !== "1") return c.json({ error: "Record not found" }, 404);
    const slow = limited(c);
    if (slow) return c.json({ error: "Too many requests" }, 429, { "Retry-After": String(slow.retryAfter) });
    const type = c.req.header("content-type") ?? "";
    const body = type.startsWith("application/json")
      ? await c.req.json().catch(() => null)
      : await c.req.parseBody().catch(() => null);
    const address = parseAddress((body as { email?: unknown } | null)?.email);
    if (address === null) return c.json({ error: "Validation failed: Email is invalid" }, 422);
    await subscribe(db, await readerKeys(data), address, "api", deps.now());
    return c.json({});
  });

  // The links in the emails: each through a page with a button (a link scanner following it changes nothing).
  const ids = (c: Context) => {
    const s = Number(c.req.query("s"));
    const t = c.req.query("t") ?? "";
    return Number.isSafeInteger(s) && s > 0 && /^[A-Za-z0-9_-]{1,64}$/.test(t) ? { s, t } : null;
  };
  const again = (c: Context) => `${c.req.path}?${new URL(c.req.url).searchParams.toString()}`;
  const badLink = (c: Context) =>
    page(c, "This link does not work", "It has been used already, has expired, or was not copied whole.", 400);

  app.get("/email/confirm", (c) =>
    ids(c) === null
      ? badLink(c)
      : page(c, "Confirm your subscription", "One more step: press the button to start getting posts by email.", 200, {
          action: again(c),
          button: "Confirm my subscription",
        }),
  );
  app.post("/email/confirm", async (c) => {
    const link = ids(c);
    if (link === null || !(await confirm(db, await readerKeys(data), link.s, link.t, deps.now()))) return badLink(c);
    return page(
      c,
      "You are subscribed",
      "New posts will reach you by email. Every email says how to change how often, or to stop.",
    );
  });

  app.get("/email/unsubscribe", async (c) => {
    const link = ids(c);
    if (link === null || !canManage(await readerKeys(data), link.s, link.t)) return badLink(c);
    return page(c, "Unsubscribe", "Press the button and no more email is sent to you; your address is erased.", 200, {
      action: again(c),
      button: "Unsubscribe",
    });
  });
  // Also RFC 8058's one-click POST (List-Unsubscribe=One-Click), which mail providers send themselves.
  app.post("/email/unsubscribe", async (c) => {
    const link = ids(c);
    if (link === null || !canManage(await readerKeys(data), link.s, link.t)) return badLink(c);
    await unsubscribe(db, link.s, deps.now());
    return page(c, "You are unsubscribed", "No more email will be sent to you, and your address has been erased.");
  });

  const cadence = (c: Context): Cadence | null => {
    const v = c.req.query("c");
    return (CADENCES as readonly string[]).includes(v ?? "") ? (v as Cadence) : null;
  };
  const cadenceName = { each: "every post", daily: "a daily digest", weekly: "a weekly digest" };
  app.get("/email/cadence", async (c) => {
    const link = ids(c);
    const want = cadence(c);
    if (link === null || want === null || !canManage(await readerKeys(data), link.s, link.t)) return badLink(c);
    return page(c, "How often", `Get ${cadenceName[want]} from now on?`, 200, {
      action: again(c),
      button: `Yes, ${cadenceName[want]}`,
    });
  });
  app.post("/email/cadence", async (c) => {
    const link = ids(c);
    const want = cadence(c);
    if (link === null || want === null || !canManage(await readerKeys(data), link.s, link.t)) return badLink(c);
    if (!(await setCadence(db, link.s, want, deps.now()))) return badLink(c);
    return page(c, "Saved", `You will get ${cadenceName[want]}.`);
  });

  // The mail provider's bounces and complaints (or any tool of the operator's), with the shared secret.
  app.post("/email/bounces", async (c) => {
    const secret = config.email?.webhookSecret;
    if (!secret) return off(c);
    const given = Buffer.from((c.req.header("authorization") ?? "").replace(/^Bearer /i, ""));
    const want = Buffer.from(secret);
    if (given.length !== want.length || !timingSafeEqual(given, want)) return c.json({ error: "Unauthorized" }, 401);
    const body = (await c.req.json().catch(() => null)) as { addresses?: unknown; email?: unknown } | null;
    const list = Array.isArray(body?.addresses) ? body.addresses : body?.email !== undefined ? [body.email] : null;
    if (list === null || list.length > 1000)
      return c.json({ error: 'Send {"addresses": [...]} (at most 1,000) or {"email": "..."}' }, 400);
    const keys = await readerKeys(data);
    let suppressed = 0;
    for (const raw of list) {
      const a = parseAddress(raw);
      if (a !== null && (await suppress(db, keys, a.address, deps.now()))) suppressed++;
    }
    return c.json({ suppressed });
  });

  // Web Push.
  app.get("/push/vapid-public-key", async (c) =>
    config.push.enabled
      ? c.text((await readerKeys(data)).vapidPublic, 200, { "Cache-Control": "public, max-age=3600" })
      : off(c),
  );
  const pushBody = async (c: Context) => {
    if (Number(c.req.header("content-length") ?? 0) > MAX_JSON) return null;
    return pushTarget(await c.req.json().catch(() => null), config.allowPrivateAddress);
  };
  app.post("/push/subscriptions", async (c) => {
    if (!config.push.enabled) return off(c);
    if (fromElsewhere(c)) return c.json({ error: "Subscribe from this site's pages" }, 403);
    const slow = limited(c);
    if (slow) return c.json({ error: "Too many requests" }, 429, { "Retry-After": String(slow.retryAfter) });
    const target = await pushBody(c);
    if (typeof target === "string") return c.json({ error: target }, 400);
    if (target === null)
      return c.json({ error: "Send PushSubscription.toJSON(): {endpoint, keys: {p256dh, auth}}" }, 400);
    await savePushSubscription(db, target, deps.now());
    return c.json({}, 201);
  });
  app.delete("/push/subscriptions", async (c) => {
    if (!config.push.enabled) return off(c);
    const target = await pushBody(c);
    if (target === null || typeof target === "string")
      return c.json({ error: "Send the subscription to remove: {endpoint, keys: {p256dh, auth}}" }, 400);
    await removePushSubscription(db, target);
    return c.body(null, 204);
  });

  app.get("/sw.js", (c) =>
    c.body(SERVICE_WORKER.body, 200, {
      "Content-Type": SERVICE_WORKER.type,
      "Cache-Control": "no-cache",
      "Service-Worker-Allowed": "/",
    }),
  );
  app.get("/manifest.webmanifest", async (c) => {
    const p = await getProfile(data);
    return c.json(
      {
        name: p.name,
        short_name: p.name.slice(0, 12),
        start_url: data.urls.desk().pathname,
        scope: "/",
        display: "standalone",
        background_color: "#ffffff",
        theme_color: "#1f3a5f",
        icons: [{ src: "/favicon.svg", sizes: "any", type: "image/svg+xml" }],
      },
      200,
      { "Content-Type": "application/manifest+json", "Cache-Control": "public, max-age=3600" },
    );
  });
  app.get("/favicon.svg", async (c) => {
    const letter = ((await getProfile(data)).name.trim()[0] ?? "L").toUpperCase().replace(/[<>&"']/g, "L");
    return c.body(
      `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64"><rect width="64" height="64" rx="14" fill="#1f3a5f"/><text x="32" y="44" font-family="sans-serif" font-size="36" font-weight="700" text-anchor="middle" fill="#fff">${letter}</text></svg>`,
      200,
      { "Content-Type": "image/svg+xml", "Cache-Control": "public, max-age=3600" },
    );
  });
  app.get("/favicon.ico", (c) => c.redirect("/favicon.svg", 301));
}
