import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tokenForScript } from "../src/product/access/oauth.ts";
import { findStaff } from "../src/product/access/staff.ts";
import { pushTarget } from "../src/readers/push-subscriptions.ts";
import { startTestLectern, type TestLectern, tempDir, waitFor } from "./helpers/lectern.ts";
import { startPushService, type TestSubscription } from "./helpers/push-service.ts";
import { scalar } from "./helpers/rows.ts";

type Json = Record<string, any>;

// Web Push for readers without an account: a subscription posted as a browser's page does, each new post pushed
// to a push service on loopback, which decrypts it (RFC 8291, with http_ece) and checks its VAPID signature.
describe("Web Push subscriptions", () => {
  let tmp: ReturnType<typeof tempDir>;
  let push: Awaited<ReturnType<typeof startPushService>>;
  let lectern: TestLectern;
  let token = "";
  const origin = () => lectern.origin.origin;
  const db = () => lectern.server.lectern.db;

  beforeAll(async () => {
    tmp = tempDir();
    push = await startPushService();
    lectern = await startTestLectern(tmp.dir, {
      env: { LECTERN_NAME: "Push Author", LECTERN_PUSH_CONTACT: "mailto:ops@lectern.example" },
    });
    const owner = await findStaff(db(), "owner");
    token = await tokenForScript(db(), owner?.id as number, "Push test", "read write");
  }, 60_000);
  afterAll(async () => {
    await lectern?.stop();
    await push?.close();
    tmp?.remove();
  });

  const send = (method: string, body: unknown) =>
    fetch(new URL("/push/subscriptions", origin()), {
      method,
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
  const json = (s: TestSubscription) => ({ endpoint: s.endpoint, keys: s.keys });
  const publish = async (status: string) =>
    (await (
      await fetch(new URL("/api/v1/statuses", origin()), {
        method: "POST",
        headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
        body: JSON.stringify({ status }),
      })
    ).json()) as Json;

  it("serves the VAPID key, the service worker and the manifest; the page offers the button", async () => {
    const key = await (await fetch(new URL("/push/vapid-public-key", origin()))).text();
    expect(Buffer.from(key, "base64url")).toHaveLength(65);
    const page = await (await fetch(new URL("/", origin()), { headers: { Accept: "text/html" } })).text();
    expect(page).toContain(`data-vapid-key="${key}"`);
    expect(page).toContain('rel="manifest"');
    // Without SMTP configured, email is off: no form on the page.
    expect(page).not.toContain('action="/email/subscribe"');
    const sw = await fetch(new URL("/sw.js", origin()));
    expect(sw.headers.get("content-type")).toMatch(/javascript/);
    expect(await sw.text()).toContain("showNotification");
    const manifest = (await (await fetch(new URL("/manifest.webmanifest", origin()))).json()) as Json;
    expect(manifest).toMatchObject({ name: "Push Author", display: "standalone" });
  });

  it("refuses bad subscriptions: bad keys, not a URL, and (outside tests) private or unknown push services", async () => {
    const good = push.subscribe("checked");
    for (const bad of [
      { endpoint: good.endpoint, keys: { p256dh: "AAAA", auth: good.keys.auth } },
      { endpoint: good.endpoint, keys: { p256dh: good.keys.p256dh, auth: "short" } },
      // 65 bytes starting with 4, but not a point on the curve.
      {
        endpoint: good.endpoint,
        keys: { p256dh: Buffer.from([4, ...new Array(64).fill(1)]).toString("base64url"), auth: good.keys.auth },
      },
      { endpoint: "not a url", keys: good.keys },
      { endpoint: "file:///etc/passwd", keys: good.keys },
      {},
    ]) {
      const res = await send("POST", bad);
      expect(res.status, JSON.stringify(bad)).toBe(400);
    }
    expect(await scalar(db(), "SELECT count(*) FROM push_subscriptions")).toBe(0);
    // The rule outside tests (private addresses not allowed): loopback and unknown services are refused.
    expect(pushTarget({ endpoint: "https://127.0.0.1/push/x", keys: good.keys }, false)).toMatch(/non-public/);
    expect(pushTarget({ endpoint: "https://push.example/x", keys: good.keys }, false)).toMatch(
      /known browser push service/,
    );
    expect(pushTarget({ endpoint: "https://fcm.googleapis.com/fcm/send/abc", keys: good.keys }, false)).toMatchObject({
      endpoint: "https://fcm.googleapis.com/fcm/send/abc",
    });
  });

  it("pushes each new post, encrypted for the subscription and signed with the VAPID key; 410 removes one; DELETE unsubscribes", async () => {
    const reader = push.subscribe("reader");
    const gone = push.subscribe("gone-browser");
    expect((await send("POST", json(reader))).status).toBe(201);
    expect((await send("POST", json(gone))).status).toBe(201);
    const post = await publish("Pushed to a browser near you");
    const got = await waitFor(() => push.received.find((p) => p.path === "/push/reader"), 20_000, "the push");
    expect(got.payload).toMatchObject({
      web_push: 8030,
      notification: { title: "Push Author", body: "Pushed to a browser near you", navigate: post.url },
    });
    expect(got.headers["content-encoding"]).toBe("aes128gcm");
    expect(Number(got.headers.ttl)).toBeGreaterThan(0);
    const key = await (await fetch(new URL("/push/vapid-public-key", origin()))).text();
    expect(got.vapid.key).toBe(key);
    expect(got.vapid.claims).toMatchObject({ aud: new URL(reader.endpoint).origin, sub: "mailto:ops@lectern.example" });
    expect(got.vapid.claims.exp * 1000).toBeGreaterThan(Date.now());
    // The push service said 410 for the other: that subscription is gone.
    await waitFor(
      async () => (await scalar(db(), "SELECT count(*) FROM push_subscriptions")) === 1 || undefined,
      10_000,
      "the gone subscription removed",
    );
    // Removing needs the keys, not just the endpoint.
    expect((await send("DELETE", { endpoint: reader.endpoint, keys: push.subscribe("other").keys })).status).toBe(204);
    expect(await scalar(db(), "SELECT count(*) FROM push_subscriptions")).toBe(1);
    expect((await send("DELETE", json(reader))).status).toBe(204);
    expect(await scalar(db(), "SELECT count(*) FROM push_subscriptions")).toBe(0);
    await publish("Nobody is subscribed to this one");
    await new Promise((r) => setTimeout(r, 3_500));
    expect(push.received.filter((p) => p.path === "/push/reader")).toHaveLength(1);
  }, 60_000);
});
