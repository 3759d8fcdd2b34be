import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { createServer, type IncomingMessage, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { brotliDecompressSync, gunzipSync } from "node:zlib";
import CachePolicy from "http-cache-semantics";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { purgeStatus } from "../src/delivery/purges.ts";
import { publishDelete, publishEdit, publishPost, publishProfile } from "../src/product/publish.ts";
import { runCli } from "./helpers/cli.ts";
import { signIn } from "./helpers/desk.ts";
import { freePort, startTestLectern, type TestLectern, tempDir, testEnv, waitFor } from "./helpers/lectern.ts";
import { startLecternProcess } from "./helpers/started.ts";

const AP = "application/activity+json";
const HTML = "text/html,application/xhtml+xml";

/** What an HTTP cache (http-cache-semantics, an independent implementation of RFC 9111) makes of a response. */
function policyOf(path: string, requestHeaders: Record<string, string>, res: Response, shared = true): CachePolicy {
  return new CachePolicy(
    { url: path, method: "GET", headers: requestHeaders },
    { status: res.status, headers: Object.fromEntries(res.headers) },
    { shared },
  );
}

describe("public responses are made for shared caches", () => {
  let tmp: ReturnType<typeof tempDir>;
  let lectern: TestLectern;
  let postId: string;
  const get = (path: string, headers: Record<string, string> = {}) =>
    fetch(new URL(path, lectern.origin), { headers, redirect: "manual" });

  beforeAll(async () => {
    tmp = tempDir();
    lectern = await startTestLectern(tmp.dir, {
      env: {
        LECTERN_CACHE_MAX_AGE: "30",
        LECTERN_CACHE_SHARED_MAX_AGE: "600",
        LECTERN_CACHE_STALE_WHILE_REVALIDATE: "45",
        LECTERN_CACHE_STALE_IF_ERROR: "7200",
      },
    });
    const ctx = lectern.server.lectern.context();
    // Long enough to be worth compressing.
    postId = (await publishPost(ctx, { text: `Cached news #caching ${"with many words ".repeat(60)}` })).id;
  });
  afterAll(async () => {
    await lectern?.stop();
    tmp?.remove();
  });

  const publicUrls = () => [
    { path: `/posts/${postId}`, accept: HTML },
    { path: `/posts/${postId}`, accept: AP },
    { path: "/users/desk", accept: AP },
    { path: "/users/desk/outbox", accept: AP },
    { path: "/users/desk/outbox?cursor=newest", accept: AP },
    { path: "/users/desk/featured", accept: AP },
    { path: `/.well-known/webfinger?resource=acct:desk@${lectern.origin.host}`, accept: "application/jrd+json" },
    { path: "/nodeinfo/2.1", accept: "application/json" },
    { path: "/@desk", accept: HTML },
    { path: "/", accept: HTML },
    { path: "/tags/caching", accept: HTML },
    { path: "/feed.rss", accept: "application/rss+xml" },
    { path: "/feed.atom", accept: "application/atom+xml" },
  ];

  it("each is storable by a shared cache for s-maxage, by a browser for max-age, and revalidates with its ETag", async () => {
    for (const { path, accept } of publicUrls()) {
      // Twice: the first answer is rendered, the second comes from the response cache; both must be right.
      for (const round of [1, 2]) {
        const req = { accept, host: lectern.origin.host };
        const res = await get(path, req);
        const what = `${path} (${accept}), round ${round}`;
        expect(res.status, what).toBe(200);
        await res.arrayBuffer();
        const shared = policyOf(path, req, res);
        expect(shared.storable(), what).toBe(true);
        expect(shared.maxAge(), what).toBe(600);
        // Kept longer in case of errors at the origin (stale-if-error): 600 s fresh + 7200 s.
        expect(shared.timeToLive(), what).toBeGreaterThan(7_790_000);
        expect(shared.timeToLive(), what).toBeLessThanOrEqual(7_800_000);
        expect(policyOf(path, req, res, false).maxAge(), what).toBe(30);
        expect(res.headers.get("cache-control"), what).toContain("stale-while-revalidate=45");
        expect(res.headers.get("cache-control"), what).toContain("stale-if-error=7200");
        expect(res.headers.get("etag"), what).toBeTruthy();
        // Revalidation: the cache asks with If-None-Match and is told nothing changed.
        const ask = shared.revalidationHeaders({ url: path, method: "GET", headers: req }) as Record<string, string>;
        expect(ask["if-none-match"], what).toBe(res.headers.get("etag"));
        const again = await get(path, ask);
        expect(again.status, what).toBe(304);
        const { modified } = shared.revalidatedPolicy(
          { url: path, method: "GET", headers: ask },
          { status: 304, headers: Object.fromEntries(again.headers) },
        );
        expect(modified, what).toBe(false);
      }
    }
  });

  it("only a URL that serves both HTML and JSON varies on Accept", async () => {
    const page = await get(`/posts/${postId}`, { accept: HTML });
    expect(page.headers.get("vary")).toMatch(/\bAccept\b/);
    const policy = policyOf(`/posts/${postId}`, { accept: HTML }, page);
    // A cache must not hand the HTML page to a server asking for the Note.
    expect(
      policy.satisfiesWithoutRevalidation({ url: `/posts/${postId}`, method: "GET", headers: { accept: AP } }),
    ).toBe(false);
    expect(
      policy.satisfiesWithoutRevalidation({ url: `/posts/${postId}`, method: "GET", headers: { accept: HTML } }),
    ).toBe(true);
    const path = `/.well-known/webfinger?resource=acct:desk@${lectern.origin.host}`;
    const finger = await get(path, { accept: "application/jrd+json" });
    expect(finger.headers.get("vary") ?? "").not.toMatch(/\bAccept\b(?!-)/);
    expect(
      policyOf(path, { accept: "application/jrd+json" }, finger).satisfiesWithoutRevalidation({
        url: path,
        method: "GET",
        headers: { accept: "application/json" },
      }),
    ).toBe(true);
  });

  it("public pages are the same for everyone; the desk is private and never stored", async () => {
    const cookie = await signIn(lectern);
    for (const path of [`/posts/${postId}`, "/@desk", "/tags/caching"]) {
      const anonymous = await (await get(path, { accept: HTML })).text();
      const signedIn = await (await get(path, { accept: HTML, cookie })).text();
      expect(signedIn, path).toBe(anonymous);
      expect(anonymous, path).not.toContain("_csrf");
      expect(anonymous, path).not.toContain("/admin/logout");
    }
    for (const path of ["/admin", "/admin/posts", "/admin/profile", "/admin/login"]) {
      const res = await get(path, { accept: HTML, cookie });
      await res.arrayBuffer();
      expect(res.headers.get("cache-control"), path).toBe("private, no-store");
      expect(policyOf(path, { accept: HTML, cookie }, res).storable(), path).toBe(false);
      expect(policyOf(path, { accept: HTML, cookie }, res, false).storable(), path).toBe(false);
    }
  });

  it("compresses HTML and JSON with brotli or gzip as asked, the same bytes underneath", async () => {
    for (const { path, accept } of [
      { path: `/posts/${postId}`, accept: HTML },
      { path: `/posts/${postId}`, accept: AP },
      { path: "/users/desk/outbox?cursor=newest", accept: AP },
      { path: "/feed.atom", accept: "application/atom+xml" },
    ]) {
      // node:http, not fetch: fetch would decompress on its own.
      const plain = await rawGet(lectern, path, { accept });
      const br = await rawGet(lectern, path, { accept, "accept-encoding": "gzip, deflate, br" });
      const gz = await rawGet(lectern, path, { accept, "accept-encoding": "gzip" });
      expect(plain.headers["content-encoding"], path).toBeUndefined();
      expect(br.headers["content-encoding"], path).toBe("br");
      expect(gz.headers["content-encoding"], path).toBe("gzip");
      expect(br.body.length, path).toBeLessThan(plain.body.length);
      expect(brotliDecompressSync(br.body).equals(plain.body), path).toBe(true);
      expect(gunzipSync(gz.body).equals(plain.body), path).toBe(true);
      expect(br.headers.vary, path).toContain("Accept-Encoding");
      expect(Number(br.headers["content-length"]), path).toBe(br.body.length);
    }
  });
});

describe("abuse of the public cache", () => {
  it("random query strings are served with public headers but not kept; unknown tags are rendered at a bounded rate", async () => {
    const tmp = tempDir();
    const lectern = await startTestLectern(tmp.dir);
    try {
      await publishPost(lectern.server.lectern.context(), { text: "Tagged #real" });
      const get = (path: string) => fetch(new URL(path, lectern.origin), { headers: { accept: HTML } });
      const junk = await get("/?utm_source=x&nonce=1");
      expect(junk.status).toBe(200);
      expect(junk.headers.get("cache-control")).toMatch(/^public, /);
      // A real tag page, once rendered, keeps being answered from the cache whatever the flood.
      expect((await get("/tags/real")).status).toBe(200);
      const statuses: number[] = [];
      for (let i = 0; i < 45; i++) statuses.push((await get(`/tags/made${i}up`)).status);
      expect(statuses.filter((s) => s === 429).length).toBeGreaterThan(5);
      expect(statuses.every((s) => s === 200 || s === 429)).toBe(true);
      const limited = await get("/tags/another");
      expect(limited.status).toBe(429);
      expect(limited.headers.get("retry-after")).toMatch(/^\d+$/);
      expect((await get("/tags/real")).status).toBe(200);
    } finally {
      await lectern.stop();
      tmp.remove();
    }
  });
});

describe("authorized fetch", () => {
  it("keeps ActivityPub documents out of shared caches (answers depend on who signed)", async () => {
    const tmp = tempDir();
    const lectern = await startTestLectern(tmp.dir, { env: { LECTERN_AUTHORIZED_FETCH: "true" } });
    try {
      const post = await publishPost(lectern.server.lectern.context(), { text: "Signed readers only" });
      const path = `/posts/${post.id}`;
      const res = await fetch(new URL(path, lectern.origin), { headers: { accept: AP } });
      await res.arrayBuffer();
      expect(policyOf(path, { accept: AP }, res).storable()).toBe(false);
      // HTML pages stay public.
      const page = await fetch(new URL(path, lectern.origin), { headers: { accept: HTML } });
      await page.arrayBuffer();
      expect(policyOf(path, { accept: HTML }, page).storable()).toBe(true);
    } finally {
      await lectern.stop();
      tmp.remove();
    }
  });
});

/** A GET through node:http, which (unlike fetch) leaves the body as it came: compressed or not. */
function rawGet(
  lectern: Pick<TestLectern, "origin">,
  path: string,
  headers: Record<string, string>,
): Promise<{ status: number; headers: IncomingMessage["headers"]; body: Buffer }> {
  return new Promise((resolve, reject) => {
    request(new URL(path, lectern.origin), { headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    })
      .on("error", reject)
      .end();
  });
}

interface Purge {
  method: string;
  path: string;
  host: string | undefined;
  purgeUrl: string | undefined;
  authorization: string | undefined;
  body: string;
}

/** A loopback stand-in for Varnish or a CDN's purge API: records what it is told; can be made to fail. */
async function startPurgeReceiver(): Promise<{
  url: string;
  got: Purge[];
  failing: { count: number };
  close(): Promise<void>;
}> {
  const got: Purge[] = [];
  const failing = { count: 0 };
  const server: Server = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => {
      body += c;
    });
    req.on("end", () => {
      if (failing.count > 0) {
        failing.count--;
        res.writeHead(503).end();
        return;
      }
      got.push({
        method: req.method ?? "",
        path: req.url ?? "",
        host: req.headers.host,
        purgeUrl: req.headers["x-purge-url"] as string | undefined,
        authorization: req.headers.authorization,
        body,
      });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    got,
    failing,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

describe("purging the cache in front", () => {
  it("PURGE style: after an edit, a delete and a profile change the cache is told exactly the URLs that show them", async () => {
    const receiver = await startPurgeReceiver();
    const tmp = tempDir();
    const lectern = await startTestLectern(tmp.dir, { env: { LECTERN_CACHE_PURGE_URL: receiver.url } });
    try {
      const o = lectern.origin.origin;
      const ctx = lectern.server.lectern.context();
      const listings = [
        `${o}/@desk`,
        `${o}/`,
        `${o}/users/desk/outbox`,
        `${o}/users/desk/outbox?cursor=newest`,
        `${o}/feed.rss`,
        `${o}/feed.atom`,
      ];
      const post = await publishPost(ctx, { text: "First #alpha" });
      const postUrls = [`${o}/posts/${post.id}`, `${o}/posts/${post.id}/activity`];
      const settled = async (expected: string[]) => {
        await waitFor(() => receiver.got.length >= expected.length, 10_000, "purges");
        await new Promise((r) => setTimeout(r, 300)); // nothing more comes
        const urls = receiver.got.map((p) => p.purgeUrl);
        receiver.got.length = 0;
        return urls;
      };
      expect(new Set(await settled([...postUrls, `${o}/tags/alpha`, ...listings]))).toEqual(
        new Set([...postUrls, `${o}/tags/alpha`, ...listings]),
      );

      await publishEdit(ctx, post.id, { text: "First, edited #beta" });
      const edited = [...postUrls, `${o}/tags/alpha`, `${o}/tags/beta`, ...listings];
      const sent = await settled(edited);
      expect(sent.length).toBe(edited.length); // each once
      expect(new Set(sent)).toEqual(new Set(edited));

      await publishDelete(ctx, post.id);
      const deleted = [...postUrls, `${o}/tags/beta`, ...listings];
      expect(new Set(await settled(deleted))).toEqual(new Set(deleted));

      await publishProfile(ctx, { name: "New name" });
      const profile = [`${o}/users/desk`, ...listings];
      expect(new Set(await settled(profile))).toEqual(new Set(profile));

      // How they were sent: PURGE of the path, with the public host.
      await publishProfile(ctx, { name: "Another name" });
      await waitFor(() => receiver.got.length > 0, 10_000, "a purge");
      const one = receiver.got[0];
      expect(one.method).toBe("PURGE");
      expect(new URL(one.purgeUrl as string).pathname + new URL(one.purgeUrl as string).search).toBe(one.path);
      expect(one.host).toBe(lectern.origin.host);
    } finally {
      await lectern.stop();
      await receiver.close();
      tmp.remove();
    }
  });

  it("JSON style, with a token: a purge endpoint that is down never blocks the author and gets the purge when it is back", async () => {
    const receiver = await startPurgeReceiver();
    receiver.failing.count = 3;
    const tmp = tempDir();
    const lectern = await startTestLectern(tmp.dir, {
      env: {
        LECTERN_CACHE_PURGE_URL: `${receiver.url}/purge`,
        LECTERN_CACHE_PURGE_STYLE: "json",
        LECTERN_CACHE_PURGE_TOKEN: "s3cret",
      },
    });
    try {
      const started = Date.now();
      const post = await publishPost(lectern.server.lectern.context(), { text: "While the CDN is down" });
      expect(Date.now() - started).toBeLessThan(2000);
      const db = lectern.server.lectern.db;
      await waitFor(async () => (await purgeStatus(db)).failing > 0, 10_000, "a failed purge to be recorded");
      expect((await purgeStatus(db)).lastError).toContain("503");
      await waitFor(() => receiver.got.length > 0, 20_000, "the purge after the endpoint came back");
      const sent = receiver.got.flatMap((p) => JSON.parse(p.body).urls as string[]);
      expect(sent).toContain(`${lectern.origin.origin}/posts/${post.id}`);
      expect(receiver.got[0].method).toBe("POST");
      expect(receiver.got[0].path).toBe("/purge");
      expect(receiver.got[0].authorization).toBe("Bearer s3cret");
      await waitFor(async () => (await purgeStatus(db)).waiting === 0, 10_000, "nothing left to purge");
    } finally {
      await lectern.stop();
      await receiver.close();
      tmp.remove();
    }
  });
});

/** Pids holding a listening TCP socket on `port` (from /proc: the kernel's own account). */
function listeners(pids: number[], port: number): number[] {
  const hexPort = port.toString(16).toUpperCase().padStart(4, "0");
  const inodes = new Set<string>();
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    for (const line of readFileSync(table, "utf8").split("\n").slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length > 9 && f[1].endsWith(`:${hexPort}`) && f[3] === "0A") inodes.add(f[9]);
    }
  }
  return pids.filter((pid) => {
    try {
      return readdirSync(`/proc/${pid}/fd`).some((fd) => {
        try {
          return inodes.has(/socket:\[(\d+)\]/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1] ?? "");
        } catch {
          return false;
        }
      });
    } catch {
      return false;
    }
  });
}

describe("every core serving", () => {
  it("the one-command start serves HTTP from several processes on one port, and a change shows in all of them", async () => {
    const tmp = tempDir();
    const port = await freePort();
    const env = testEnv(tmp.dir, port, { LECTERN_WEB_PROCESSES: "2", LECTERN_DELIVERY_WORKERS: "1" });
    const server = await startLecternProcess(env);
    try {
      const pids = server.pids();
      expect(pids.length).toBe(2);
      await waitFor(() => listeners(pids, port).length === 2, 10_000, "both processes to listen");

      // Each request on a new connection: the kernel spreads them over both processes, which both cache `/`.
      const page = async () =>
        (await rawGet({ origin: new URL(`http://127.0.0.1:${port}`) }, "/", { connection: "close" })).body.toString();
      for (let i = 0; i < 20; i++) expect(await page()).not.toContain("Across processes");
      const cli = await runCli(["post", "--text", "Across processes"], env);
      expect(cli.code, cli.stderr).toBe(0);
      // Another process (the CLI) wrote it: each serving process sees it within its 100 ms re-read.
      await new Promise((r) => setTimeout(r, 250));
      for (let i = 0; i < 20; i++) expect(await page()).toContain("Across processes");
    } finally {
      await server.stop();
      tmp.remove();
    }
  });
});
