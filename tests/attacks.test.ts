import { generateKeyPairSync } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signCavage, signedBody } from "../src/delivery/signing.ts";
import { publishPost } from "../src/product/publish.ts";
import { ConfigError, loadConfig } from "../src/shared/config.ts";
import { broken } from "./fixtures/hostile.ts";
import { signIn } from "./helpers/desk.ts";
import { startTestLectern, type TestLectern, tempDir, waitFor } from "./helpers/lectern.ts";
import { contentRows, scalar } from "./helpers/rows.ts";

/*
 * The hostile suite, as an attacker would try Lectern in production settings
 * (private addresses NOT allowed): every case asserts no 5xx, nothing stored
 * that should not be, and no request to a non-public address — a loopback
 * "trap" listener counts every connection, and must count none.
 */

let tmp: ReturnType<typeof tempDir>;
let lectern: TestLectern;
let trap: Server;
let trap6: Server;
let trapPort = 0;
let trapHits = 0;
let cookie = "";
let postUrl = "";
const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
/** Tables that legitimately change while being attacked: sign-ins, the audit log of refusals, leases. */
const MOVING = new Set(["audit_log", "sessions"]);
const stored = async () =>
  Object.fromEntries(Object.entries(await contentRows(lectern.server.lectern.db)).filter(([t]) => !MOVING.has(t)));

beforeAll(async () => {
  // The trap listens on loopback only, on one port for IPv4 and IPv6 (::1; IPv4-mapped forms reach the first).
  const listener = () => {
    const server = createServer((_, res) => {
      res.writeHead(200, { "content-type": "application/activity+json" }).end("{}");
    });
    server.on("connection", () => trapHits++);
    return server;
  };
  trap = listener();
  await new Promise<void>((r) => trap.listen(0, "127.0.0.1", r));
  trapPort = (trap.address() as AddressInfo).port;
  trap6 = listener();
  await new Promise<void>((r) => trap6.listen(trapPort, "::1", r));
  tmp = tempDir();
  lectern = await startTestLectern(tmp.dir, {
    env: { LECTERN_ALLOW_PRIVATE_ADDRESS: "false", LECTERN_TRUSTED_PROXIES: "127.0.0.1" },
  });
  cookie = await signIn(lectern);
  const post = await publishPost(lectern.server.lectern.context(), { text: "Under attack #calm" });
  postUrl = new URL(`/posts/${post.id}`, lectern.origin).href;
  // The post's Create is queued by the worker: wait for it, so that "nothing stored" compares settled rows.
  await waitFor(async () => Number(await scalar(lectern.server.lectern.db, "SELECT count(*) FROM outgoing")) >= 1);
});

afterAll(async () => {
  await lectern?.stop();
  await new Promise((r) => trap?.close(r));
  await new Promise((r) => trap6?.close(r));
  tmp?.remove();
});

/** A signed POST to the shared inbox, its key said to live at `keyId`. */
async function signedPost(body: string, keyId: string): Promise<Response> {
  const url = new URL("/inbox", lectern.origin);
  const headers = await signCavage(url, signedBody(body), privateKey, keyId, {
    "content-type": "application/activity+json",
  });
  return await fetch(url, { method: "POST", headers, body });
}

/** Non-public hosts in every spelling a URL parser or a resolver accepts. */
const PRIVATE_HOSTS = [
  "127.0.0.1",
  "127.1.2.3",
  "127.1",
  "2130706433",
  "0x7f.0.0.1",
  "0177.0.0.1",
  "10.0.0.1",
  "172.16.0.1",
  "192.168.0.1",
  "169.254.169.254",
  "100.64.0.1",
  "0.0.0.0",
  "198.18.0.1",
  "[::1]",
  "[::]",
  "[0:0:0:0:0:0:0:1]",
  "[::ffff:127.0.0.1]",
  "[::ffff:7f00:1]",
  "[::ffff:a9fe:a9fe]",
  "[::ffff:a00:1]",
  "[::7f00:1]",
  "[64:ff9b::7f00:1]",
  "[64:ff9b::a9fe:a9fe]",
  "[2002:7f00:1::1]",
  "[fc00::1]",
  "[fd00:ec2::254]",
  "[fe80::1]",
  "localhost",
  "ip6-localhost",
  "api.localhost",
];

describe("outbound requests in production settings", () => {
  const at = (host: string, path: string) => `http://${host}:${trapPort}${path}`;

  it.each(PRIVATE_HOSTS)("a Follow whose key is at %s: refused, never fetched, nothing stored", async (host) => {
    const before = await stored();
    const hits = trapHits;
    const actor = at(host, "/users/mallory");
    const body = JSON.stringify({
      "@context": "https://www.w3.org/ns/activitystreams",
      id: `${actor}/follows/1`,
      type: "Follow",
      actor,
      object: lectern.actorId.href,
    });
    const res = await signedPost(body, `${actor}#main-key`);
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expect(trapHits).toBe(hits);
    expect(await stored()).toEqual(before);
  });

  it.each(PRIVATE_HOSTS)("an Announce of our post by an actor at %s: not counted, never fetched", async (host) => {
    const hits = trapHits;
    const actor = at(host, "/users/booster");
    const body = JSON.stringify({
      "@context": "https://www.w3.org/ns/activitystreams",
      id: at(host, "/boosts/1"),
      type: "Announce",
      actor,
      object: postUrl,
    });
    const res = await signedPost(body, `${actor}#main-key`);
    expect(res.status).toBeLessThan(500);
    expect(trapHits).toBe(hits);
    expect(Number(await scalar(lectern.server.lectern.db, "SELECT max(boosts) FROM posts"))).toBe(0);
  });

  it.each(PRIVATE_HOSTS)(
    "an alias @someone@%s typed in the desk: refused with a reason, never fetched",
    async (host) => {
      const hits = trapHits;
      const page = await (await fetch(new URL("/admin/audience", lectern.origin), { headers: { cookie } })).text();
      const csrf = /name="_csrf" value="([^"]+)"/.exec(page)?.[1] as string;
      const res = await fetch(new URL("/admin/audience/aliases", lectern.origin), {
        method: "POST",
        redirect: "manual",
        headers: { cookie, origin: lectern.origin.origin, "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ _csrf: csrf, aliases: `@someone@${host}:${trapPort}\n${at(host, "/users/x")}` }),
      });
      expect(res.status).toBe(422);
      expect(trapHits).toBe(hits);
    },
  );
});

/** Inbox bodies as an attacker sends them: the well-known broken ones, and more. */
function hostileBodies(
  actor: string,
  post: string,
  trapUrl: string,
  us = "https://lectern.example/users/desk",
): Record<string, string> {
  const activity = (extra: Record<string, unknown>) =>
    JSON.stringify({ "@context": "https://www.w3.org/ns/activitystreams", actor, ...extra });
  return {
    ...broken(actor, post),
    "an array": "[]",
    null: "null",
    "a number": "12",
    "a string": '"Follow"',
    "an empty object": "{}",
    "a numeric type": activity({ type: 1 }),
    "an empty type list": activity({ type: [] }),
    "a type list of junk": activity({ type: [{}, null, 3] }),
    "a numeric actor": JSON.stringify({ type: "Follow", actor: 7, object: post }),
    "an actor that is not a URL": JSON.stringify({ type: "Follow", actor: "not a url", object: post }),
    "a javascript: actor": JSON.stringify({ type: "Follow", actor: "javascript:alert(1)", object: post }),
    "a 20k-character actor": JSON.stringify({ type: "Follow", actor: `https://x.example/${"a".repeat(20_000)}` }),
    "a 20k-character type": activity({ type: "F".repeat(20_000) }),
    "a NUL in the type": activity({ type: "Fol\u0000low", object: post }),
    "a byte-order mark": `\uFEFF${activity({ type: "Like", object: post })}`,
    "nested arrays 5,000 deep": `{"type":"Create","actor":"${actor}","object":${"[".repeat(5000)}${"]".repeat(5000)}}`,
    "10,000 keys": `{"type":"Like","actor":"${actor}",${Array.from({ length: 10_000 }, (_, i) => `"k${i}":${i}`).join(",")}}`,
    "duplicate keys": `{"type":"Like","type":"Follow","actor":"${actor}","actor":"${actor}x","object":"${post}"}`,
    "an id with a newline": activity({ type: "Like", id: `${actor}/likes/1\r\nX-Evil: 1`, object: post }),
    "an object list of 1,000": activity({
      type: "Delete",
      object: Array.from({ length: 1000 }, (_, i) => `${actor}/n/${i}`),
    }),
    "a 200 KB object": activity({ type: "Create", object: { type: "Note", content: "x".repeat(200_000) } }),
    "a @context on the trap": JSON.stringify({ "@context": trapUrl, type: "Follow", actor, object: post }),
    "100 @contexts on the trap": JSON.stringify({
      "@context": Array.from({ length: 100 }, (_, i) => `${trapUrl}/${i}`),
      type: "Follow",
      actor,
      object: post,
    }),
    "a @context object with a trap @import": JSON.stringify({
      "@context": [{ "@import": trapUrl }],
      type: "Follow",
      actor,
      object: post,
    }),
    "a reply to us": activity({
      type: "Create",
      object: { type: "Note", id: `${actor}/n/1`, inReplyTo: post, content: "hi", attributedTo: actor },
    }),
    "a Like of our post": activity({ type: "Like", id: `${actor}/likes/2`, object: post }),
    "an EmojiReact": activity({ type: "EmojiReact", id: `${actor}/r/1`, object: post, content: "🔥" }),
    "a Delete of our actor": activity({ type: "Delete", object: us }),
    "an Update of our post": activity({ type: "Update", object: { id: post, type: "Note", content: "pwned" } }),
    "an Undo of someone else's boost": activity({
      type: "Undo",
      object: { type: "Announce", id: "https://other.example/boosts/1", actor: "https://other.example/users/b" },
    }),
    "an Accept of nothing": activity({ type: "Accept", object: `${trapUrl}/follows/1` }),
    "a Reject of nothing": activity({ type: "Reject", object: { type: "Follow", actor: us } }),
    "a Move to the trap": activity({ type: "Move", object: actor, target: `${trapUrl}/users/new` }),
    "a QuoteRequest with a trap instrument": activity({
      type: "QuoteRequest",
      id: `${actor}/q/1`,
      object: post,
      instrument: `${trapUrl}/notes/1`,
    }),
    "a Flag of our post": activity({ type: "Flag", object: [us, post], content: "spam" }),
    "a Block of us": activity({ type: "Block", object: us }),
    "an Add to our featured": activity({ type: "Add", object: post, target: `${us}/featured` }),
    "a Follow of someone else": activity({ type: "Follow", object: "https://other.example/users/x" }),
    "a Follow of a post": activity({ type: "Follow", object: post }),
    "a Create of a Question": activity({
      type: "Create",
      object: { type: "Question", id: `${actor}/q/2`, oneOf: [{ type: "Note", name: "a" }], inReplyTo: post },
    }),
    "an Announce of the trap": activity({ type: "Announce", id: `${actor}/b/9`, object: `${trapUrl}/notes/2` }),
  };
}

describe("malformed and hostile inbox bodies", () => {
  // Names only, for the table; the bodies are made once the servers run.
  const names = Object.keys(hostileBodies("a", "b", "c"));
  it.each(names)(
    "%s: a 4xx with a reason or a quiet 2xx, never a 5xx; nothing stored; nothing fetched",
    async (name) => {
      const actor = `https://attacker.example/users/${name.length}`;
      const body = hostileBodies(actor, postUrl, `http://127.0.0.1:${trapPort}/ctx`, lectern.actorId.href)[name];
      const before = await stored();
      const hits = trapHits;
      // Its key is on the trap, in one of the spellings: the verification must not fetch it.
      const res = await signedPost(body, `http://[::ffff:7f00:1]:${trapPort}/users/x#main-key`);
      expect(res.status, `${name}: ${res.status}`).toBeLessThan(500);
      if (res.status >= 400) expect((await res.text()).length, `${name} has a reason`).toBeGreaterThan(0);
      expect(trapHits).toBe(hits);
      expect(await stored()).toEqual(before);
    },
  );
});

describe("the desk, fed nonsense by a signed-in owner", () => {
  const form = async (path: string) => {
    const page = await (await fetch(new URL(path, lectern.origin), { headers: { cookie } })).text();
    return /name="_csrf" value="([^"]+)"/.exec(page)?.[1] as string;
  };
  const none = "00000000-0000-7000-8000-000000000000";
  const cases: [string, string, Record<string, string>][] = [
    ["a post of 600,000 characters", "/admin/posts", { text: "x".repeat(600_000), action: "publish" }],
    ["an empty post", "/admin/posts", { text: "   ", action: "publish" }],
    [
      "a post with a 10,000-character warning",
      "/admin/posts",
      { text: "hi", summary: "w".repeat(10_000), action: "publish" },
    ],
    ["a post in a made-up language", "/admin/posts", { text: "hi", language: "<script>", action: "publish" }],
    ["a schedule on 31 February", "/admin/posts", { text: "hi", date: "2030-02-31", time: "10:00", action: "publish" }],
    ["a schedule in the past", "/admin/posts", { text: "hi", date: "2001-01-01", time: "10:00", action: "publish" }],
    ["a schedule with only a date", "/admin/posts", { text: "hi", date: "2030-01-01", action: "publish" }],
    [
      "a schedule in a made-up zone",
      "/admin/posts",
      { text: "hi", date: "2030-01-01", time: "10:00", timeZone: "Mars/Olympus", action: "publish" },
    ],
    ["a schedule at 25:61", "/admin/posts", { text: "hi", date: "2030-01-01", time: "25:61", action: "publish" }],
    ["attachments that do not exist", "/admin/posts", { text: "hi", media: none, alt: "x", action: "publish" }],
    ["an attachment id that is SQL", "/admin/posts", { text: "hi", media: "1' OR '1'='1", action: "publish" }],
    [
      "five attachments",
      "/admin/posts",
      { text: "hi", media: [none, none, none, none, none].join(","), action: "publish" },
    ],
    ["an edit of a post that does not exist", `/admin/posts/${none}`, { text: "hi", action: "publish" }],
    ["a delete of a post that does not exist", `/admin/posts/${none}/delete`, {}],
    ["a pin of a post that does not exist", `/admin/posts/${none}/pin`, { pinned: "1" }],
    ["a delete of a path that is not an id", "/admin/posts/..%2F..%2Fetc/delete", {}],
    ["an edit of a scheduled post that does not exist", `/admin/scheduled/${none}`, { text: "hi", action: "publish" }],
    ["a cancel of a scheduled post that does not exist", `/admin/scheduled/${none}/cancel`, {}],
    ["a profile name of 10,000 characters", "/admin/profile", { name: "n".repeat(10_000) }],
    [
      "a profile with 50 fields",
      "/admin/profile",
      Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`field_name_${i}`, "x"])),
    ],
    ["a bio of 100,000 characters", "/admin/profile", { name: "ok", summary: "b".repeat(100_000) }],
    ["a block of an empty value", "/admin/blocks", { kind: "actor", value: "" }],
    ["a block of a server with spaces", "/admin/blocks", { kind: "domain", value: "not a server" }],
    ["a block of a javascript: account", "/admin/blocks", { kind: "actor", value: "javascript:alert(1)" }],
    ["a block of an unknown kind", "/admin/blocks", { kind: "planet", value: "mars" }],
    ["an unblock of nothing", "/admin/blocks/remove", { kind: "domain", value: "never.example" }],
    ["a removal of a follower who is not one", "/admin/followers/remove", { actor: "https://nobody.example/users/x" }],
    [
      "an approval of a follower who is not one",
      "/admin/followers/approve",
      { actor: "https://nobody.example/users/y" },
    ],
    ["a move without the box ticked", "/admin/audience/move", { target: "@x@example.org" }],
    ["a move to a trap", "/admin/audience/move", { target: `@x@127.0.0.1:${trapPort}`, confirm: "1" }],
    ["a staff account with a bad name", "/admin/staff", { username: "../../root", role: "editor" }],
    ["a staff account with a made-up role", "/admin/staff", { username: "newbie", role: "god" }],
    ["a role change of nobody", "/admin/staff/role", { id: "999999", role: "owner" }],
    ["a role change with a huge id", "/admin/staff/role", { id: "1e309", role: "owner" }],
    ["a removal of nobody", "/admin/staff/remove", { id: "-1" }],
    ["a TOTP confirmation without a setup", "/admin/security/totp/confirm", { code: "123456" }],
    ["a TOTP setup with a wrong password", "/admin/security/totp", { current: "wrong" }],
    ["a password change to a short one", "/admin/security/password", { current: "wrong", password: "x" }],
    [
      "a revoke of a session that is not one",
      "/admin/security/sessions/revoke",
      { session: "'; DROP TABLE sessions; --" },
    ],
    ["a passkey removal with a wrong password", "/admin/security/passkeys/remove", { id: "x", current: "nope" }],
  ];
  it.each(cases)("%s: refused or ignored, never a 5xx, nothing stored", async (_, path, fields) => {
    const before = await stored();
    const hits = trapHits;
    const csrf = await form("/admin");
    const res = await fetch(new URL(path, lectern.origin), {
      method: "POST",
      redirect: "manual",
      headers: { cookie, origin: lectern.origin.origin, "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ _csrf: csrf, ...fields }),
    });
    expect(res.status, path).toBeLessThan(500);
    expect(trapHits).toBe(hits);
    expect(await stored()).toEqual(before);
  });

  it.each([
    ["a passkey answer that is not JSON", "/admin/security/passkeys", "{not json"],
    ["a passkey answer without a ceremony", "/admin/security/passkeys", JSON.stringify({ response: { id: "x" } })],
    ["passkey options without a password", "/admin/security/passkeys/options", "{}"],
    ["a passkey sign-in without a half-done sign-in", "/admin/login/passkey", "{}"],
  ])("%s: a 4xx, never a 5xx", async (_, path, body) => {
    const csrf = await form("/admin/security");
    const res = await fetch(new URL(path, lectern.origin), {
      method: "POST",
      headers: { cookie, origin: lectern.origin.origin, "content-type": "application/json", "x-csrf-token": csrf },
      body,
    });
    expect(res.status, path).toBeGreaterThanOrEqual(400);
    expect(res.status, path).toBeLessThan(500);
  });
});

describe("uploads an attacker would try", () => {
  const png = () =>
    sharp({ create: { width: 8, height: 8, channels: 3, background: "#123456" } })
      .png()
      .toBuffer();
  const uploads: [string, () => Promise<{ name: string; type: string; bytes: Uint8Array }[]>][] = [
    ["an empty file", async () => [{ name: "a.jpg", type: "image/jpeg", bytes: new Uint8Array() }]],
    ["text named .jpg", async () => [{ name: "a.jpg", type: "image/jpeg", bytes: Buffer.from("hello there") }]],
    [
      "an SVG with a script",
      async () => [
        {
          name: "a.svg",
          type: "image/svg+xml",
          bytes: Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'),
        },
      ],
    ],
    [
      "an HTML page named .png",
      async () => [{ name: "a.png", type: "image/png", bytes: Buffer.from("<html><script>alert(1)</script></html>") }],
    ],
    ["a PNG cut in half", async () => [{ name: "a.png", type: "image/png", bytes: (await png()).subarray(0, 40) }]],
    [
      "a PNG claiming 100,000 × 100,000 pixels",
      async () => {
        const p = Buffer.from(await png());
        p.writeUInt32BE(100_000, 16);
        p.writeUInt32BE(100_000, 20);
        return [{ name: "bomb.png", type: "image/png", bytes: p }];
      },
    ],
    [
      "an MP4 header with nothing after it",
      async () => [
        {
          name: "v.mp4",
          type: "video/mp4",
          bytes: Buffer.from("\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom", "latin1"),
        },
      ],
    ],
    [
      "a ZIP named .webp",
      async () => [{ name: "a.webp", type: "image/webp", bytes: Buffer.from("PK\x03\x04\x14\x00\x00\x00", "latin1") }],
    ],
    [
      "a PDF",
      async () => [
        {
          name: "a.pdf",
          type: "application/pdf",
          bytes: Buffer.from("%PDF-1.4\n%âãÏÓ\n1 0 obj<<>>endobj\n", "latin1"),
        },
      ],
    ],
    [
      "a file named ../../etc/passwd",
      async () => [{ name: "../../etc/passwd", type: "image/png", bytes: Buffer.from("root:x:0:0") }],
    ],
    [
      "five pictures (four is the limit)",
      async () => {
        const p = await png();
        return Array.from({ length: 5 }, (_, i) => ({ name: `p${i}.png`, type: "image/png", bytes: p }));
      },
    ],
  ];
  it.each(uploads)("%s: refused with a reason, nothing stored, never a 5xx", async (_, files) => {
    const before = await stored();
    const page = await (await fetch(new URL("/admin", lectern.origin), { headers: { cookie } })).text();
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page)?.[1] as string;
    const body = new FormData();
    body.set("_csrf", csrf);
    body.set("text", "With a file");
    body.set("action", "publish");
    for (const [i, f] of (await files()).entries())
      body.set(`file${i}`, new Blob([f.bytes as Uint8Array<ArrayBuffer>], { type: f.type }), f.name);
    const res = await fetch(new URL("/admin/posts", lectern.origin), {
      method: "POST",
      redirect: "manual",
      headers: { cookie, origin: lectern.origin.origin },
      body,
    });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expect(await stored()).toEqual(before);
  });

  it.each([
    ["no boundary", "multipart/form-data", "--x\r\n"],
    ["a boundary that never comes", "multipart/form-data; boundary=abc", "no parts here"],
    [
      "a part without a header end",
      "multipart/form-data; boundary=abc",
      '--abc\r\nContent-Disposition: form-data; name="file0"; filename="a.png"',
    ],
    [
      "a body cut mid-part",
      "multipart/form-data; boundary=abc",
      '--abc\r\nContent-Disposition: form-data; name="_csrf"\r\n\r\nxyz',
    ],
  ])("a multipart body with %s: a 4xx, never a 5xx", async (_, type, body) => {
    const res = await fetch(new URL("/admin/posts", lectern.origin), {
      method: "POST",
      headers: { cookie, origin: lectern.origin.origin, "content-type": type },
      body,
    });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
  });
});

describe("configuration an operator gets wrong", () => {
  it.each([
    ["LECTERN_ORIGIN", "ftp://example.org"],
    ["LECTERN_ORIGIN", "https://example.org/sub"],
    ["LECTERN_ORIGIN", "https://example.org/?x=1"],
    ["LECTERN_HANDLE", "x".repeat(31)],
    ["LECTERN_HANDLE", "ünïcode"],
    ["PORT", "-1"],
    ["PORT", "8080.5"],
    ["PORT", "0x50"],
    ["LECTERN_DATABASE_URL", "mysql://x@y/z"],
    ["LECTERN_ROLE", "ALL"],
    ["LECTERN_LANGUAGE", "english"],
    ["LECTERN_TIME_ZONE", "Europe/Atlantis"],
    ["LECTERN_LOG_LEVEL", "verbose"],
    ["LECTERN_NAME", "n".repeat(101)],
    ["LECTERN_QUOTES", "some"],
    ["LECTERN_AUTHORIZED_FETCH", "perhaps"],
    ["LECTERN_INBOX_RATE_PER_SERVER", "0"],
    ["LECTERN_TRUSTED_PROXIES", "10.0.0.0/33"],
    ["LECTERN_TRUSTED_PROXIES", "not-an-address"],
    ["LECTERN_BRIDGY_FED_ACCOUNT", "no-at-sign"],
    ["LECTERN_MEDIA_MAX_IMAGE_MEGABYTES", "1000"],
    ["LECTERN_DELIVERY_RETRY_INITIAL_SECONDS", "0"],
    ["LECTERN_DELIVERY_MAX_ATTEMPTS", "1000"],
    ["LECTERN_DELIVERY_CONCURRENCY", "0"],
    ["LECTERN_DELIVERY_PER_SERVER", "65"],
    ["LECTERN_DELIVERY_WORKERS", "0"],
    ["LECTERN_DELIVERY_POLL_MILLISECONDS", "1"],
    ["LECTERN_S3_ENDPOINT", "s3.example.org"],
    ["LECTERN_S3_PATH_STYLE", "sometimes"],
    ["LECTERN_CACHE_MAX_AGE", "forever"],
    ["LECTERN_CACHE_STALE_IF_ERROR", "31536001"],
    ["LECTERN_WEB_PROCESSES", "65"],
  ])("%s=%j stops start-up naming the key", (key, value) => {
    let error: unknown;
    try {
      loadConfig({ env: { [key]: value }, cwd: tmp.dir });
    } catch (e) {
      error = e;
    }
    expect(error, `${key}=${value}`).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain(key);
  });
});

describe("after all of it", () => {
  it("the server still serves, nothing was fetched from a private address, memory is bounded", async () => {
    expect(trapHits).toBe(0);
    const res = await fetch(postUrl, { headers: { accept: "text/html" } });
    expect(res.status).toBe(200);
    expect(process.memoryUsage().rss).toBeLessThan(1024 * 1024 * 1024);
  });
});
