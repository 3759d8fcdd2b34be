import { mkdirSync, readdirSync, utimesSync, writeFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isPublicAddress, refuseUrl } from "../src/http-client.ts";
import { setPassword } from "../src/product/auth.ts";
import { startTestLectern, type TestLectern, tempDir } from "./helpers/lectern.ts";

describe("requests only to the public Internet", () => {
  it.each([
    "127.0.0.1",
    "127.255.255.254",
    "10.0.0.1",
    "172.16.0.1",
    "172.31.255.255",
    "192.168.1.1",
    "169.254.169.254",
    "100.64.0.1",
    "0.0.0.0",
    "224.0.0.1",
    "255.255.255.255",
    "192.0.2.1",
    "198.18.0.1",
    "::1",
    "::",
    "::ffff:127.0.0.1",
    "::ffff:7f00:1",
    "::ffff:a9fe:a9fe",
    "::ffff:a00:1",
    "::7f00:1",
    "64:ff9b::7f00:1",
    "64:ff9b::a9fe:a9fe",
    "2002:7f00:1::1",
    "2001:0:4136:e378:8000:63bf:3fff:fdd2",
    "2001:db8::1",
    "fc00::1",
    "fd12:3456::1",
    "fe80::1",
    "ff02::1",
    "[::1]",
  ])("refuses %s", (ip) => {
    expect(isPublicAddress(ip)).toBe(false);
  });

  it.each(["1.1.1.1", "8.8.8.8", "93.184.216.34", "2606:4700:4700::1111", "2a00:1450:4001:80b::200e"])(
    "allows %s",
    (ip) => {
      expect(isPublicAddress(ip)).toBe(true);
    },
  );

  it.each([
    ["javascript:alert(1)", /not an http\(s\) URL/],
    ["file:///etc/passwd", /not an http\(s\) URL/],
    ["http://user:pw@example.org/inbox", /credentials/],
    ["http://127.0.0.1/inbox", /non-public/],
    ["http://[::ffff:7f00:1]/inbox", /non-public/],
    ["http://localhost:8080/inbox", /non-public/],
    ["http://api.localhost/inbox", /non-public/],
  ])("refuses to request %s", (url, why) => {
    expect(refuseUrl(new URL(url), false)).toMatch(why);
  });

  it("allows a public https URL, and loopback only where private addresses are allowed (tests)", () => {
    expect(refuseUrl(new URL("https://mastodon.example/inbox"), false)).toBeNull();
    expect(refuseUrl(new URL("http://127.0.0.1:9/inbox"), true)).toBeNull();
  });
});

describe("signing in, as an attacker would try it", () => {
  let lectern: TestLectern;
  const tmp = tempDir();
  beforeAll(async () => {
    lectern = await startTestLectern(tmp.dir, { env: { LECTERN_TRUSTED_PROXIES: "127.0.0.1" } });
    await setPassword(lectern.server.lectern.db, "the right long password");
  });
  afterAll(async () => {
    await lectern?.stop();
    tmp.remove();
  });
  const login = (password: string, from?: string) =>
    fetch(new URL("/admin/login", lectern.origin), {
      method: "POST",
      redirect: "manual",
      headers: {
        Origin: lectern.origin.origin,
        "Content-Type": "application/x-www-form-urlencoded",
        ...(from ? { "X-Forwarded-For": from } : {}),
      },
      body: new URLSearchParams({ password }),
    });

  it("checks at most the free attempts of 40 wrong passwords sent at once from one address", async () => {
    const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => login(`wrong guess ${i}`, "203.0.113.7")));
    const statuses = answers.map((r) => r.status);
    expect(statuses.filter((s) => s === 401).length).toBeLessThanOrEqual(5);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(35);
    expect(statuses.every((s) => s === 401 || s === 429)).toBe(true);
  });

  it("still lets the right password in from another address (behind the trusted proxy)", async () => {
    expect((await login("the right long password", "203.0.113.7")).status).toBe(429);
    const ok = await login("the right long password", "198.51.100.20");
    expect(ok.status).toBe(303);
    expect(ok.headers.get("set-cookie")).toMatch(/lectern_session=/);
  });

  it("ignores X-Forwarded-For from a peer that is not a trusted proxy", async () => {
    const tmp2 = tempDir();
    const direct = await startTestLectern(tmp2.dir);
    try {
      await setPassword(direct.server.lectern.db, "another long password");
      const post = (from: string) =>
        fetch(new URL("/admin/login", direct.origin), {
          method: "POST",
          headers: {
            Origin: direct.origin.origin,
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Forwarded-For": from,
          },
          body: new URLSearchParams({ password: "nope" }),
        });
      // Rotating the header does not buy fresh attempts: the peer's address is what counts.
      const statuses = [];
      for (let i = 0; i < 8; i++) statuses.push((await post(`198.51.100.${i}`)).status);
      expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(2);
    } finally {
      await direct.stop();
      tmp2.remove();
    }
  });

  it.each(["/admin/login", "/admin/posts", "/admin/profile", "/inbox"])(
    "answers a multipart body without a boundary at %s with a 4xx, never a 5xx",
    async (path) => {
      const res = await fetch(new URL(path, lectern.origin), {
        method: "POST",
        headers: { "Content-Type": "multipart/form-data", Origin: lectern.origin.origin },
        body: "not a form",
      });
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
    },
  );
});

describe("loose ends", () => {
  it("removes upload files a crash left in data/tmp (older than an hour) at start", async () => {
    const tmp = tempDir();
    const dir = `${tmp.dir}/tmp`;
    mkdirSync(dir, { recursive: true });
    writeFileSync(`${dir}/upload-stale`, "half a video");
    writeFileSync(`${dir}/upload-fresh`, "an upload in progress");
    const old = new Date(Date.now() - 2 * 3600_000);
    utimesSync(`${dir}/upload-stale`, old, old);
    const lectern = await startTestLectern(tmp.dir);
    try {
      expect(readdirSync(dir)).toEqual(["upload-fresh"]);
    } finally {
      await lectern.stop();
      tmp.remove();
    }
  });
});
