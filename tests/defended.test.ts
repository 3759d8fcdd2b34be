import { spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, utimesSync, writeFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { setPassword } from "../src/product/access/staff.ts";
import { publishPost } from "../src/product/publish.ts";
import { isPublicAddress, refuseUrl } from "../src/shared/http-client.ts";
import { type FollowerServer, startFollowerServer } from "./helpers/follower.ts";
import { startTestLectern, type TestLectern, tempDir, waitFor } from "./helpers/lectern.ts";
import { scalar } from "./helpers/rows.ts";

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
    await setPassword(lectern.server.lectern.db, "the right long password", "owner");
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
      body: new URLSearchParams({ username: "owner", password }),
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
      await setPassword(direct.server.lectern.db, "another long password", "owner");
      const post = (from: string) =>
        fetch(new URL("/admin/login", direct.origin), {
          method: "POST",
          headers: {
            Origin: direct.origin.origin,
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Forwarded-For": from,
          },
          body: new URLSearchParams({ username: "owner", password: "nope" }),
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
  it("removes upload files a crash left in data/tmp at start: a dead process's, and any older than an hour", async () => {
    const tmp = tempDir();
    const dir = `${tmp.dir}/tmp`;
    mkdirSync(dir, { recursive: true });
    // A process that has ended: its id names nobody running now.
    const dead = spawnSync(process.execPath, ["-p", "process.pid"]).stdout.toString().trim();
    writeFileSync(`${dir}/upload-${process.pid}-stale`, "half a video");
    writeFileSync(`${dir}/upload-${dead}-killed`, "a video cut off by a SIGKILL");
    writeFileSync(`${dir}/upload-${process.pid}-fresh`, "an upload in progress");
    writeFileSync(`${dir}/notes.txt`, "not an upload");
    const old = new Date(Date.now() - 2 * 3600_000);
    utimesSync(`${dir}/upload-${process.pid}-stale`, old, old);
    const lectern = await startTestLectern(tmp.dir);
    try {
      expect(readdirSync(dir).sort()).toEqual(["notes.txt", `upload-${process.pid}-fresh`]);
    } finally {
      await lectern.stop();
      tmp.remove();
    }
  });
});

describe("counting and floods at the inbox", () => {
  const AS = "https://www.w3.org/ns/activitystreams";
  const PUBLIC = `${AS}#Public`;
  let lectern: TestLectern;
  let remote: FollowerServer;
  let other: FollowerServer;
  let postUrl: string;
  let postId: string;
  const tmp = tempDir();
  beforeAll(async () => {
    lectern = await startTestLectern(tmp.dir, { env: { LECTERN_INBOX_RATE_PER_SERVER: "2" } });
    remote = await startFollowerServer({ users: ["mallory", "alice"] });
    other = await startFollowerServer({ users: ["eve"] });
    const post = await publishPost(lectern.server.lectern.context(), { text: "Boost me" });
    postId = post.id;
    postUrl = lectern.server.lectern.data.urls.post(post.id).href;
  });
  afterAll(async () => {
    await remote?.close();
    await other?.close();
    await lectern?.stop();
    tmp.remove();
  });
  const inbox = () => new URL("/inbox", lectern.origin);
  const boosts = async () =>
    Number(await scalar(lectern.server.lectern.db, "SELECT boosts FROM posts WHERE id = ?", postId));
  let n = 0;
  const announce = (server: FollowerServer, user: string, idHost?: string) => {
    const actor = server.actorId(user).href;
    const id = `${idHost ? `http://${idHost}/users/${user}` : actor}/announces/${++n}`;
    return { "@context": AS, id, type: "Announce", actor, object: postUrl, to: [PUBLIC] };
  };

  it("counts one boost per account however many Announces it sends", async () => {
    for (let i = 0; i < 20; i++)
      expect((await remote.postSigned("mallory", inbox(), announce(remote, "mallory"))).status).toBe(202);
    await waitFor(async () => (await boosts()) === 1, 10_000, "the boost");
    await new Promise((r) => setTimeout(r, 500));
    expect(await boosts()).toBe(1);
  });

  it("does not count an Announce whose id lives on another server", async () => {
    const forged = announce(remote, "alice", other.origin.host);
    expect((await remote.postSigned("alice", inbox(), forged)).status).toBe(202);
    await new Promise((r) => setTimeout(r, 800));
    expect(await boosts()).toBe(1);
  });

  it("takes a boost back only on the booster's own Undo", async () => {
    const boost = announce(remote, "alice");
    await remote.postSigned("alice", inbox(), boost);
    await waitFor(async () => (await boosts()) === 2, 10_000, "alice's boost");
    const undo = (user: string, server: FollowerServer) => ({
      "@context": AS,
      id: `${server.actorId(user).href}/undos/${++n}`,
      type: "Undo",
      actor: server.actorId(user).href,
      object: boost,
    });
    expect((await other.postSigned("eve", inbox(), undo("eve", other))).status).toBe(202);
    await new Promise((r) => setTimeout(r, 800));
    expect(await boosts()).toBe(2);
    await remote.postSigned("alice", inbox(), undo("alice", remote));
    await waitFor(async () => (await boosts()) === 1, 10_000, "the undo");
  });

  it("answers a burst of Follows from one account with one Accept", async () => {
    // A server of its own: the others here have used up their inbox allowance.
    const fan = await startFollowerServer({ users: ["fay"] });
    try {
      for (let i = 0; i < 15; i++) await fan.follow("fay", lectern.actorId);
      await fan.waitForActivity((a) => a.type === "Accept");
      await new Promise((r) => setTimeout(r, 1_500));
      expect(fan.activities("Accept")).toHaveLength(1);
    } finally {
      await fan.close();
    }
  });

  it("refuses a flood of work from one server with 429 and Retry-After, and keeps serving others", async () => {
    const follow = (i: number) => ({
      "@context": AS,
      id: `${other.actorId("eve").href}/follows/flood-${i}`,
      type: "Follow",
      actor: other.actorId("eve").href,
      object: lectern.actorId.href,
    });
    const answers = await Promise.all(
      Array.from({ length: 400 }, (_, i) => other.postSigned("eve", inbox(), follow(i))),
    );
    const limited = answers.filter((r) => r.status === 429);
    expect(limited.length).toBeGreaterThan(0);
    expect(limited[0].headers.get("retry-after")).toMatch(/^\d+$/);
    expect(answers.every((r) => r.status < 500)).toBe(true);
    // Another server is not held back by the flood.
    expect((await remote.postSigned("mallory", inbox(), announce(remote, "mallory"))).status).toBe(202);
  }, 60_000);
});
