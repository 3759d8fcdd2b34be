import { createPublicKey } from "node:crypto";
import { refuseUrl } from "../shared/http-client.ts";
import type { Queryable } from "../storage/database.ts";
import { partitionOf } from "../storage/partition.ts";
import { sql } from "../storage/sql.ts";
import type { PushTarget } from "./senders.ts";

/**
 * The push services browsers subscribe through (Chrome and Edge's FCM and
 * WNS, Firefox's autopush, Safari's Apple push). Only these are accepted
 * (outside tests): a subscription is a request we make on every post, and an
 * endpoint anywhere else would turn the channel into a way to send traffic
 * at someone else's server.
 */
const PUSH_SERVICES = [
  /\.googleapis\.com$/,
  /\.mozilla\.com$/,
  /\.mozaws\.net$/,
  /\.push\.apple\.com$/,
  /\.notify\.windows\.com$/,
];

/** A subscription as a browser sends it (`PushSubscription.toJSON()`), checked: a target, a reason it is refused, or null when it is not one at all. */
export function pushTarget(body: unknown, allowPrivateAddress: boolean): PushTarget | string | null {
  const b = body as { endpoint?: unknown; keys?: { p256dh?: unknown; auth?: unknown } } | null;
  const endpoint = b?.endpoint;
  const p256dh = b?.keys?.p256dh;
  const auth = b?.keys?.auth;
  if (typeof endpoint !== "string" || typeof p256dh !== "string" || typeof auth !== "string") return null;
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return "endpoint is not a URL";
  }
  if (endpoint.length > 1024) return "endpoint is too long";
  const refused = refuseUrl(url, allowPrivateAddress);
  if (refused !== null) return `endpoint refused: ${refused}`;
  if (!allowPrivateAddress && (url.protocol !== "https:" || !PUSH_SERVICES.some((re) => re.test(`.${url.hostname}`))))
    return "endpoint is not a known browser push service";
  const key = b64url(p256dh);
  if (key === null || !onCurve(key)) return "keys.p256dh is not a P-256 public key";
  const secret = b64url(auth);
  if (secret === null || secret.length !== 16) return "keys.auth is not 16 bytes";
  return { endpoint: url.href, p256dh, auth };
}

function b64url(v: string): Buffer | null {
  return /^[A-Za-z0-9_-]{1,200}={0,2}$/.test(v) ? Buffer.from(v, "base64url") : null;
}

function onCurve(bytes: Buffer): boolean {
  if (bytes.length !== 65 || bytes[0] !== 4) return false;
  try {
    // Node refuses a point that is not on the curve.
    const x = bytes.subarray(1, 33).toString("base64url");
    const y = bytes.subarray(33).toString("base64url");
    createPublicKey({ key: { kty: "EC", crv: "P-256", x, y }, format: "jwk" });
    return true;
  } catch {
    return false;
  }
}

/** Saves a subscription (the same endpoint again takes the new keys); from now on it gets new posts. */
export async function savePushSubscription(db: Queryable, t: PushTarget, now: number): Promise<void> {
  const host = new URL(t.endpoint).host.toLowerCase();
  await db.run(sql`INSERT INTO push_subscriptions (endpoint, p256dh, auth, host, partition, created_at, sent_through)
    VALUES (${t.endpoint}, ${t.p256dh}, ${t.auth}, ${host}, ${partitionOf(host, 64)}, ${now}, ${now})
    ON CONFLICT (endpoint) DO UPDATE SET p256dh = excluded.p256dh, auth = excluded.auth`);
}

/** Removes a subscription: only with its keys (knowing an endpoint is not enough). */
export async function removePushSubscription(db: Queryable, t: PushTarget): Promise<void> {
  await db.run(
    sql`DELETE FROM push_subscriptions WHERE endpoint = ${t.endpoint} AND p256dh = ${t.p256dh} AND auth = ${t.auth}`,
  );
}
