import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { XMLParser, XMLValidator } from "fast-xml-parser";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ingestMedia } from "../src/product/media.ts";
import { publishPost } from "../src/product/publish.ts";
import { signIn } from "./helpers/desk.ts";
import { startTestLectern, type TestLectern, tempDir } from "./helpers/lectern.ts";

type Json = Record<string, any>;

/** A loopback stand-in for a reader's server: it announces its software by NodeInfo and nothing else. */
async function standIn(software: string): Promise<{ host: string; close(): Promise<void> }> {
  let base = "";
  const server: Server = createServer((req, res) => {
    if (req.url === "/.well-known/nodeinfo") {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(
        JSON.stringify({
          links: [{ rel: "http://nodeinfo.diaspora.software/ns/schema/2.1", href: `${base}/nodeinfo/2.1` }],
        }),
      );
    } else if (req.url === "/nodeinfo/2.1") {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ version: "2.1", software: { name: software, version: "1.0" } }));
    } else res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  base = `http://${host}`;
  return { host, close: () => new Promise((r) => server.close(() => r())) };
}

describe("readers without Lectern's software", () => {
  let tmp: ReturnType<typeof tempDir>;
  let lectern: TestLectern;
  const acct = () => `${lectern.config.handle}@${lectern.origin.host}`;
  const follow = (server: string) =>
    fetch(new URL(`/follow?server=${encodeURIComponent(server)}`, lectern.origin), {
      redirect: "manual",
      headers: { accept: "text/html" },
    });

  beforeAll(async () => {
    tmp = tempDir();
    lectern = await startTestLectern(tmp.dir, { env: { LECTERN_NAME: "Harbour Office" } });
  });
  afterAll(async () => {
    await lectern?.stop();
    tmp?.remove();
  });

  it.each([
    ["mastodon", (o: string, a: string) => `${o}/authorize_interaction?uri=${encodeURIComponent(`acct:${a}`)}`],
    ["hometown", (o: string, a: string) => `${o}/authorize_interaction?uri=${encodeURIComponent(`acct:${a}`)}`],
    ["misskey", (o: string, a: string) => `${o}/authorize-follow?acct=${encodeURIComponent(a)}`],
    ["sharkey", (o: string, a: string) => `${o}/authorize-follow?acct=${encodeURIComponent(a)}`],
    ["akkoma", (o: string, a: string) => `${o}/ostatus_subscribe?acct=${encodeURIComponent(a)}`],
    ["pleroma", (o: string, a: string) => `${o}/ostatus_subscribe?acct=${encodeURIComponent(a)}`],
  ])("the Follow box sends a %s reader, typed as @me@server, to their server's follow page", async (software, page) => {
    const other = await standIn(software);
    try {
      for (const typed of [`@me@${other.host}`, `https://${other.host}/`, other.host]) {
        const res = await follow(typed);
        expect(res.status, typed).toBe(303);
        expect(res.headers.get("location"), typed).toBe(page(`http://${other.host}`, acct()));
      }
    } finally {
      await other.close();
    }
  });

  it("a GoToSocial reader (no follow page) is told what to search for there", async () => {
    const other = await standIn("gotosocial");
    try {
      const res = await follow(`@me@${other.host}`);
      expect(res.status).toBe(200);
      const html = await res.text();
      expect(html).toContain(`${other.host} runs gotosocial`);
      expect(html).toContain(`@${acct()}`.slice(1));
    } finally {
      await other.close();
    }
  });

  it("a Follow box filled with nonsense answers a styled page with the box again, not plain text", async () => {
    const res = await follow("not a server!");
    expect(res.status).toBe(400);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    const html = await res.text();
    expect(html).toContain('<form method="get" action="/follow"');
    expect(html).toContain("Enter your server");
  });

  it("the Follow and Subscribe boxes are on the desk, post and tag pages; a 404 is a page with a heading", async () => {
    const post = await publishPost(lectern.server.lectern.context(), { text: "Boxes everywhere #boxes" });
    for (const p of ["/", `/posts/${post.id}`, "/tags/boxes"]) {
      const html = await (await fetch(new URL(p, lectern.origin), { headers: { accept: "text/html" } })).text();
      expect(html, p).toContain('action="/follow"');
      expect(html, p).toContain("Subscribe without an account");
      expect(html, p).toMatch(/<h1[ >]/);
    }
    const tagPage = await (
      await fetch(new URL("/tags/boxes", lectern.origin), { headers: { accept: "text/html" } })
    ).text();
    expect(tagPage).toContain("/tags/boxes/feed.rss");
    const missing = await fetch(new URL("/no/such/page", lectern.origin), { headers: { accept: "text/html" } });
    expect(missing.status).toBe(404);
    const html = await missing.text();
    expect(html).toContain("<h1>Not found</h1>");
    expect(html).toContain("Harbour Office");
    const forScripts = await fetch(new URL("/no/such/page", lectern.origin), {
      headers: { accept: "application/json" },
    });
    expect(await forScripts.text()).toBe("Not found");
  });

  it("the desk's notice says when a scheduled post goes out; paged lists link back to the newest", async () => {
    const cookie = await signIn(lectern);
    // Ten days from now, at 08:00 in Paris.
    const day = new Date(Date.now() + 10 * 86_400_000).toISOString().slice(0, 10);
    const weekday = new Intl.DateTimeFormat("en-GB", { weekday: "short", timeZone: "UTC" }).format(
      new Date(`${day}T12:00:00Z`),
    );
    const page = await (await fetch(new URL("/admin", lectern.origin), { headers: { cookie } })).text();
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page)?.[1] as string;
    const res = await fetch(new URL("/admin/posts", lectern.origin), {
      method: "POST",
      redirect: "manual",
      headers: { cookie, origin: lectern.origin.origin, "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        _csrf: csrf,
        text: "Later",
        date: day,
        time: "08:00",
        timeZone: "Europe/Paris",
        action: "publish",
      }),
    });
    expect(
      res.status,
      await res
        .clone()
        .text()
        .then((t) => /class="error"[^>]*>([^<]+)/.exec(t)?.[1]),
    ).toBe(303);
    const after = await (
      await fetch(new URL(res.headers.get("location") as string, lectern.origin), { headers: { cookie } })
    ).text();
    expect(after).toMatch(new RegExp(`Scheduled for ${weekday}, \\d{1,2} \\w{3} \\d{4}, 08:00 \\(Europe/Paris\\)\\.`));
    // 25 posts: the second page links to the newest.
    for (let i = 0; i < 22; i++) await publishPost(lectern.server.lectern.context(), { text: `Filler ${i}` });
    const first = await (await fetch(new URL("/", lectern.origin), { headers: { accept: "text/html" } })).text();
    const older = /rel="next" href="([^"]+)"/.exec(first)?.[1] as string;
    expect(first).not.toContain("Newest posts");
    const second = await (
      await fetch(new URL(older.replaceAll("&amp;", "&"), lectern.origin), { headers: { accept: "text/html" } })
    ).text();
    expect(second).toContain("← Newest posts");
  });

  it("feeds carry pictures as enclosures, respect content warnings, and exist per tag", async () => {
    const file = path.join(tmp.dir, "pier.png");
    await sharp({ create: { width: 64, height: 48, channels: 3, background: "#2266aa" } })
      .png()
      .toFile(file);
    const { data, media } = lectern.server.lectern;
    const picture = await ingestMedia(data, media, { path: file, filename: "pier.png" });
    const ctx = lectern.server.lectern.context();
    const shown = await publishPost(ctx, {
      text: "The pier at dawn #pier",
      attachments: [{ mediaId: picture.id, alt: "A blue pier" }],
    });
    const hidden = await publishPost(ctx, {
      text: "Storm damage #pier",
      summary: "Damage",
      attachments: [{ mediaId: picture.id, alt: "Broken boards" }],
    });
    await publishPost(ctx, { text: "Nothing to do with piers #other" });
    const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: "" });

    const rssText = await (await fetch(new URL("/tags/pier/feed.rss", lectern.origin))).text();
    expect(XMLValidator.validate(rssText)).toBe(true);
    const items = [parser.parse(rssText).rss.channel.item].flat() as Json[];
    expect(items.map((i) => i.link).sort()).toEqual(
      [new URL(`/posts/${shown.id}`, lectern.origin).href, new URL(`/posts/${hidden.id}`, lectern.origin).href].sort(),
    );
    for (const item of items) {
      expect(item.enclosure.type).toBe("image/png");
      expect(Number(item.enclosure.length)).toBeGreaterThan(0);
      expect(item.enclosure.url).toBe(item["media:content"].url);
    }
    const open = items.find((i) => i.link.endsWith(shown.id)) as Json;
    const warned = items.find((i) => i.link.endsWith(hidden.id)) as Json;
    expect(open.description).toContain('alt="A blue pier"');
    expect(warned.description).toContain("Content warning: Damage");
    expect(warned.description).not.toContain("<img");
    // The picture is where the feed says.
    const bytes = await fetch(open.enclosure.url);
    expect(bytes.status).toBe(200);
    expect(Number(bytes.headers.get("content-length"))).toBe(Number(open.enclosure.length));

    const atomText = await (await fetch(new URL("/tags/pier/feed.atom", lectern.origin))).text();
    expect(XMLValidator.validate(atomText)).toBe(true);
    const entries = [parser.parse(atomText).feed.entry].flat() as Json[];
    expect(entries).toHaveLength(2);
    for (const e of entries) {
      const links = [e.link].flat() as Json[];
      expect(links.find((l) => l.rel === "enclosure")?.type).toBe("image/png");
    }
    // The account's own feed has them too.
    const all = parser.parse(await (await fetch(new URL("/feed.rss", lectern.origin))).text()).rss.channel
      .item as Json[];
    expect(all.filter((i) => i.enclosure).length).toBe(2);
  });
});
