import { XMLParser, XMLValidator } from "fast-xml-parser";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openLectern } from "../src/lectern.ts";
import { countFollowers } from "../src/product/followers.ts";
import {
  dismissFollower,
  publishDelete,
  publishEdit,
  publishPin,
  publishPost,
  publishProfile,
} from "../src/product/publish.ts";
import { cancelScheduled, editScheduled, listScheduled, schedulePost } from "../src/product/schedule.ts";
import { loadConfig } from "../src/shared/config.ts";
import { Temporal } from "../src/shared/temporal.ts";
import { createApp } from "../src/web/app.ts";
import { runCli } from "./helpers/cli.ts";
import { type FollowerServer, startFollowerServer } from "./helpers/follower.ts";
import { freePort, startTestLectern, type TestLectern, tempDir, testEnv } from "./helpers/lectern.ts";
import { column, scalar } from "./helpers/rows.ts";

const AP = "application/activity+json";
type Json = Record<string, any>;

describe("what the author does reaches followers' servers", () => {
  let tmp: ReturnType<typeof tempDir>;
  let lectern: TestLectern;
  let remote: FollowerServer;

  beforeAll(async () => {
    tmp = tempDir();
    lectern = await startTestLectern(tmp.dir);
    remote = await startFollowerServer({ users: ["alice"] });
    await remote.follow("alice", lectern.actorId);
    await remote.waitForActivity((a) => a.type === "Accept");
  });
  afterAll(async () => {
    await remote?.close();
    await lectern?.stop();
    tmp?.remove();
  });
  const ctx = () => lectern.server.lectern.context();

  it("a thread of the author's own posts: inReplyTo and one context reach followers; the page reads it in order", async () => {
    const first = await publishPost(ctx(), { text: "Thread, part one" });
    const second = await publishPost(ctx(), { text: "Thread, part two", inReplyTo: first.id });
    // From the CLI, by URL.
    const cli = await runCli(
      ["post", "--text", "Thread, part three", "--reply-to", new URL(`/posts/${second.id}`, lectern.origin).href],
      lectern.env,
    );
    expect(cli.code, cli.stderr).toBe(0);
    const notes = [];
    for (const part of ["one", "two", "three"])
      notes.push(
        (
          (
            await remote.waitForActivity(
              (a) => a.type === "Create" && (a.object as Json).content.includes(`part ${part}`),
            )
          ).json as Json
        ).object,
      );
    const firstUrl = new URL(`/posts/${first.id}`, lectern.origin).href;
    expect(notes[0].inReplyTo).toBeUndefined();
    expect(notes[1].inReplyTo).toBe(firstUrl);
    expect(notes[2].inReplyTo).toBe(notes[1].id);
    for (const n of notes) expect(n.context).toBe(`${firstUrl}#thread`);
    // The first post's replies are the author's continuation, nobody else's.
    const replies = (await (
      await fetch(new URL(`/posts/${first.id}/replies`, lectern.origin), { headers: { accept: AP } })
    ).json()) as Json;
    expect(replies.first.items).toEqual([notes[1].id]);
    // The middle post's page shows all three, in order, itself marked.
    const whole = await (await fetch(notes[1].id, { headers: { accept: "text/html" } })).text();
    const page = whole.slice(whole.indexOf('class="thread"'));
    const at = (t: string) => page.indexOf(t);
    expect(at("part one")).toBeGreaterThan(0);
    expect(whole).toContain('class="thread"');
    expect(at("part one")).toBeLessThan(at("part two"));
    expect(at("part two")).toBeLessThan(at("part three"));
    expect(page).toMatch(/aria-current="page">[\s\S]*part two/);
    // Only the author's own posts can be continued.
    await expect(publishPost(ctx(), { text: "x", inReplyTo: "00000000-0000-7000-8000-000000000000" })).rejects.toThrow(
      /does not exist/,
    );
  });

  it("an edit arrives as Update(Note) with a newer `updated`, after the Create", async () => {
    const post = await publishPost(ctx(), { text: "Version one" });
    const create = (
      await remote.waitForActivity((a) => a.type === "Create" && (a.object as Json).content.includes("Version one"))
    ).json as Json;
    await publishEdit(ctx(), post.id, { text: "Version two" });
    const update = (
      await remote.waitForActivity((a) => a.type === "Update" && (a.object as Json)?.content?.includes("Version two"))
    ).json as Json;
    expect(update.object.id).toBe(create.object.id);
    expect(Date.parse(update.object.updated)).toBeGreaterThan(Date.parse(create.object.published));
    // An edit in the same millisecond still moves `updated` forward.
    await publishEdit(ctx(), post.id, { text: "Version three" }, Date.parse(update.object.updated));
    const again = (
      await remote.waitForActivity((a) => a.type === "Update" && (a.object as Json)?.content?.includes("Version three"))
    ).json as Json;
    expect(Date.parse(again.object.updated)).toBeGreaterThan(Date.parse(update.object.updated));
    expect(again.id).not.toBe(update.id);
  });

  it("a delete arrives as Delete of a Tombstone, and the URL answers 410 to everyone", async () => {
    const post = await publishPost(ctx(), { text: "Short-lived" });
    await remote.waitForActivity((a) => a.type === "Create" && (a.object as Json).content.includes("Short-lived"));
    const url = new URL(`/posts/${post.id}`, lectern.origin).href;
    expect(await publishDelete(ctx(), post.id)).toBe(true);
    const del = (await remote.waitForActivity((a) => a.type === "Delete" && (a.object as Json)?.id === url))
      .json as Json;
    expect(del.object.type).toBe("Tombstone");
    expect(del.actor).toBe(lectern.actorId.href);
    expect((await fetch(url, { headers: { Accept: AP } })).status).toBe(410);
    expect((await fetch(url, { headers: { Accept: "text/html" } })).status).toBe(410);
    expect(await publishDelete(ctx(), post.id)).toBe(false);
    const outbox = await (
      await fetch(new URL("/users/desk/outbox?cursor=newest", lectern.origin), { headers: { Accept: AP } })
    ).json();
    expect(JSON.stringify(outbox)).not.toContain(url);
  });

  it("a profile change arrives as Update(Person) with the new name and fields", async () => {
    await publishProfile(ctx(), {
      name: "Port Authority",
      summary: "Ships **in**, ships out.",
      fields: [{ name: "Site", value: "https://port.example/" }],
    });
    const update = (await remote.waitForActivity((a) => a.type === "Update" && (a.object as Json)?.type === "Person"))
      .json as Json;
    expect(update.object.name).toBe("Port Authority");
    expect(update.object.summary).toBe("<p>Ships <strong>in</strong>, ships out.</p>");
    // Rendered once, when saved, as a post's HTML is: the row keeps it.
    expect(await scalar(lectern.server.lectern.db, "SELECT summary_html FROM profile")).toBe(
      "<p>Ships <strong>in</strong>, ships out.</p>",
    );
    const fields = [update.object.attachment].flat();
    expect(fields).toHaveLength(1);
    expect(fields[0]).toMatchObject({ type: "PropertyValue", name: "Site" });
    expect(fields[0].value).toContain('rel="me');
    const actor = await (await fetch(lectern.actorId, { headers: { Accept: AP } })).json();
    expect(actor.name).toBe("Port Authority");
    // The bot flag makes the actor a Service.
    await publishProfile(ctx(), { bot: true });
    await remote.waitForActivity((a) => a.type === "Update" && (a.object as Json)?.type === "Service");
  });

  it("a pin puts the post in the featured collection and tells followers with Add", async () => {
    const post = await publishPost(ctx(), { text: "Read this first" });
    await publishPin(ctx(), post.id, true);
    const url = new URL(`/posts/${post.id}`, lectern.origin).href;
    const add = (await remote.waitForActivity((a) => a.type === "Add" && a.object === url)).json as Json;
    expect(add.target).toBe(new URL("/users/desk/featured", lectern.origin).href);
    const featured = await (
      await fetch(new URL("/users/desk/featured", lectern.origin), { headers: { Accept: AP } })
    ).json();
    expect(featured.totalItems).toBe(1);
    expect([featured.orderedItems ?? featured.items].flat().map((n: Json) => n.id)).toEqual([url]);
    await publishPin(ctx(), post.id, false);
    await remote.waitForActivity((a) => a.type === "Remove" && a.object === url);
  });

  it("removing a follower sends them Reject of their Follow", async () => {
    const removed = await dismissFollower(ctx(), remote.actorId("alice").href);
    expect(removed).toBe(true);
    const reject = (await remote.waitForActivity((a) => a.type === "Reject")).json as Json;
    expect(reject.object.type).toBe("Follow");
    expect(reject.object.actor).toBe(remote.actorId("alice").href);
    expect(await countFollowers(lectern.server.lectern.db)).toBe(0);
  });
});

describe("scheduled posts", () => {
  it("go out when their time comes (test clock), even after a restart while waiting", async () => {
    const tmp = tempDir();
    const port = await freePort();
    let offset = 0;
    const now = () => Date.now() + offset;
    const remote = await startFollowerServer({ users: ["bob"] });
    let lectern = await startTestLectern(tmp.dir, { port, now });
    try {
      await remote.follow("bob", lectern.actorId);
      await remote.waitForActivity((a) => a.type === "Accept");
      const s = await schedulePost(
        lectern.server.lectern.data,
        { text: "Happy new year!", date: "2027-01-01", time: "00:00", timeZone: "Pacific/Auckland" },
        now(),
      );
      expect(s.publishAt).toBe(Date.parse("2026-12-31T11:00:00Z"));

      await lectern.stop();
      lectern = await startTestLectern(tmp.dir, { port, now });
      await new Promise((r) => setTimeout(r, 300));
      expect(remote.activities("Create")).toHaveLength(0);

      offset = s.publishAt - Date.now() + 1000; // the clock reaches New Year in Auckland
      const create = (await remote.waitForActivity((a) => a.type === "Create", 15_000)).json as Json;
      expect(create.object.content).toContain("Happy new year!");
      expect(Date.parse(create.object.published)).toBeGreaterThanOrEqual(s.publishAt);
    } finally {
      await remote.close();
      await lectern.stop();
      tmp.remove();
    }
  });

  it("refuse a time in the past, a missing zone, and are cancelled or edited before they go out", async () => {
    const tmp = tempDir();
    const lectern = await startTestLectern(tmp.dir);
    try {
      const data = lectern.server.lectern.data;
      await expect(
        schedulePost(data, { text: "x", date: "2001-01-01", time: "10:00", timeZone: "UTC" }),
      ).rejects.toThrow(/has passed/);
      await expect(
        schedulePost(data, { text: "x", date: "2031-01-01", time: "10:00", timeZone: "Mars/Base" }),
      ).rejects.toThrow(/unknown time zone/);
      await expect(
        schedulePost(data, { text: "x", date: "2031-13-01", time: "10:00", timeZone: "UTC" }),
      ).rejects.toThrow(/not a date and time/);

      const later = Temporal.Now.plainDateISO("UTC").add({ days: 2 }).toString();
      const s = await schedulePost(data, { text: "Draft", date: later, time: "09:00", timeZone: "Europe/Paris" });
      const edited = await editScheduled(data, s.id, {
        text: "Final",
        date: later,
        time: "10:30",
        timeZone: "Europe/Paris",
      });
      expect(edited.publishAt - s.publishAt).toBe(90 * 60_000);
      expect((await listScheduled(data)).map((x) => x.source)).toEqual(["Final"]);
      expect(await cancelScheduled(data, s.id)).toBe(true);
      expect(await cancelScheduled(data, s.id)).toBe(false);
      expect(await listScheduled(data)).toEqual([]);
    } finally {
      await lectern.stop();
      tmp.remove();
    }
  }, 120_000);
});

describe("the public pages", () => {
  let tmp: ReturnType<typeof tempDir>;
  let lectern: TestLectern;
  let postUrl: string;
  beforeAll(async () => {
    tmp = tempDir();
    lectern = await startTestLectern(tmp.dir, { env: { LECTERN_NAME: "Desk & Co" } });
    const ctx = lectern.server.lectern.context();
    await publishPost(ctx, { text: "Older <news> & notes #one" });
    const post = await publishPost(ctx, { text: "Newest **update** #two", summary: "Heads up" });
    postUrl = new URL(`/posts/${post.id}`, lectern.origin).href;
  });
  afterAll(async () => {
    await lectern?.stop();
    tmp?.remove();
  });

  it("offer RSS 2.0 and Atom feeds that parse, newest first", async () => {
    const parser = new XMLParser({ ignoreAttributes: false });
    const rssRes = await fetch(new URL("/feed.rss", lectern.origin));
    expect(rssRes.headers.get("content-type")).toMatch(/^application\/rss\+xml/);
    const rssText = await rssRes.text();
    expect(XMLValidator.validate(rssText)).toBe(true);
    const rss = parser.parse(rssText).rss;
    expect(rss["@_version"]).toBe("2.0");
    expect(rss.channel.title).toBe("Desk & Co");
    expect(rss.channel.item).toHaveLength(2);
    expect(rss.channel.item[0].link).toBe(postUrl);
    expect(rss.channel.item[0].title).toBe("CW: Heads up");
    expect(rss.channel.item[1].description).toContain("&lt;news&gt; &amp; notes");

    const atomText = await (await fetch(new URL("/feed.atom", lectern.origin))).text();
    expect(XMLValidator.validate(atomText)).toBe(true);
    const atom = parser.parse(atomText).feed;
    expect(atom["@_xmlns"]).toBe("http://www.w3.org/2005/Atom");
    expect(atom.entry).toHaveLength(2);
    expect(atom.entry[0].id).toBe(postUrl);
    expect(Date.parse(atom.updated)).toBeGreaterThan(0);

    const desk = await (await fetch(lectern.origin)).text();
    expect(desk).toContain('type="application/rss+xml"');
    expect(desk).toContain('type="application/atom+xml"');
  });

  it("carry OpenGraph and Twitter card tags, a canonical URL and the ActivityPub alternate", async () => {
    // Void elements compared as `<meta …>`, however they are closed (hono/jsx writes `<meta …/>`).
    const html = (await (await fetch(postUrl, { headers: { Accept: "text/html" } })).text()).replaceAll("/>", ">");
    expect(html).toContain(`<meta property="og:url" content="${postUrl}">`);
    expect(html).toContain('<meta property="og:type" content="article">');
    expect(html).toMatch(/<meta property="og:title" content="Desk &amp;(amp;)? Co: “Heads up”">/);
    expect(html).toContain('<meta property="og:description" content="Heads up (content warning)">');
    expect(html).toContain('<meta name="twitter:card" content="summary">');
    expect(html).toContain(`<link rel="canonical" href="${postUrl}">`);
    expect(html).toContain(`<link rel="alternate" type="application/activity+json" href="${postUrl}">`);
    // No comment box, no counters.
    expect(html).not.toMatch(/<textarea|reply|likes/i);
  });

  it("answer 304 to a client that has the current version, and change version when the author acts", async () => {
    const first = await fetch(lectern.origin);
    const etag = first.headers.get("etag") as string;
    expect(first.headers.get("cache-control")).toContain("public");
    expect((await fetch(lectern.origin, { headers: { "If-None-Match": etag } })).status).toBe(304);
    await publishPost(lectern.server.lectern.context(), { text: "Something new" });
    expect((await fetch(lectern.origin, { headers: { "If-None-Match": etag } })).status).toBe(200);
  });

  it("send a reader to their own server to follow, and refuse what is not a server name", async () => {
    // A server that does not say what it runs (here: nothing listens) gets the page saying what to search for;
    // readers.test.ts follows each software to its follow page.
    const res = await fetch(new URL("/follow?server=http://127.0.0.1:1/", lectern.origin), { redirect: "manual" });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain(`desk@${lectern.origin.host}`);
    expect(
      (await fetch(new URL("/follow?server=javascript:alert(1)", lectern.origin), { redirect: "manual" })).status,
    ).toBe(400);
    const share = await fetch(
      new URL(`/share?server=social.example&url=${encodeURIComponent(postUrl)}`, lectern.origin),
      { redirect: "manual" },
    );
    expect(share.headers.get("location")).toBe(`https://social.example/share?text=${encodeURIComponent(postUrl)}`);
    expect(
      (
        await fetch(new URL("/share?server=social.example&url=https://evil.example/", lectern.origin), {
          redirect: "manual",
        })
      ).status,
    ).toBe(400);
  });

  it("list posts with a hashtag on its page", async () => {
    const html = await (await fetch(new URL("/tags/one", lectern.origin))).text();
    expect(html).toContain("Older &lt;news&gt; &amp; notes");
    expect(html).not.toContain("Newest");
  });
});

describe("the CLI", () => {
  it("edits and deletes a post by its URL, and sets the password from standard input", async () => {
    const tmp = tempDir();
    const lectern = await startTestLectern(tmp.dir);
    const env = testEnv(tmp.dir, lectern.config.port);
    try {
      const url = (
        await runCli(["post", "--text", "Typo hree", "--summary", "Finale", "--language", "de"], env)
      ).stdout.trim();
      const edited = await runCli(["edit", url, "--text", "Typo here"], env);
      expect(edited.code, edited.stderr).toBe(0);
      expect(edited.stdout).toContain("Changed the text of");
      const note = await (await fetch(url, { headers: { Accept: AP } })).json();
      expect(note.content).toBe("<p>Typo here</p>");
      expect(note.updated).toBeDefined();
      // What was not given stays: the content warning, the sensitive flag, the language.
      expect(note.summary).toBe("Finale");
      expect(note.sensitive).toBe(true);
      expect(note.contentMap).toHaveProperty("de");
      // --summary "" removes the warning; --no-sensitive lowers the flag.
      const cleared = await runCli(["edit", url, "--summary", "", "--no-sensitive"], env);
      expect(cleared.stdout).toContain("Changed the content warning, sensitive flag of");
      const plain = await (await fetch(url, { headers: { Accept: AP } })).json();
      expect(plain.summary).toBeUndefined();
      expect(plain.sensitive).toBe(false);
      expect(plain.content).toBe("<p>Typo here</p>");
      expect((await runCli(["edit", url], env)).code).toBe(64);

      expect((await runCli(["delete", url], env)).code).toBe(0);
      expect((await fetch(url, { headers: { Accept: AP } })).status).toBe(410);
      const again = await runCli(["delete", url], env);
      expect(again.code).toBe(66);
      expect(again.stderr).toContain("already deleted");
      expect((await runCli(["edit", "https://elsewhere.example/posts/x", "--text", "x"], env)).stderr).toContain(
        "not a post of this server",
      );

      // No name is an error naming the accounts: the owner's password is never changed by default.
      const unnamed = await runCli(["set-password"], env, "correct horse battery staple\n");
      expect(unnamed.code).toBe(64);
      expect(unnamed.stderr).toContain("give the account's name (one of: owner)");
      const short = await runCli(["set-password", "owner"], env, "short");
      expect(short.code).toBe(65);
      const set = await runCli(["set-password", "owner"], env, "correct horse battery staple\n");
      expect(set.code).toBe(0);
      expect(set.stdout).toContain("Password of owner set");
      const login = await fetch(new URL("/admin/login", lectern.origin), {
        method: "POST",
        body: new URLSearchParams({ username: "owner", password: "correct horse battery staple" }),
        headers: { Origin: lectern.origin.origin },
        redirect: "manual",
      });
      expect(login.status).toBe(303);
      expect(login.headers.get("set-cookie")).toMatch(/lectern_session=.*HttpOnly.*SameSite=Lax/i);
    } finally {
      await lectern.stop();
      tmp.remove();
    }
  }, 120_000);
});

describe("signing in", () => {
  it("slows down repeated wrong passwords with 429 and Retry-After", async () => {
    const tmp = tempDir();
    const lectern = await startTestLectern(tmp.dir);
    try {
      const attempt = (password: string) =>
        fetch(new URL("/admin/login", lectern.origin), {
          method: "POST",
          body: new URLSearchParams({ username: "owner", password }),
          headers: { Origin: lectern.origin.origin },
          redirect: "manual",
        });
      for (let i = 0; i < 5; i++) expect((await attempt("wrong")).status).toBe(401);
      const slowed = await attempt(lectern.server.initialPassword as string);
      expect(slowed.status).toBe(429);
      expect(Number(slowed.headers.get("retry-after"))).toBeGreaterThan(0);
      // A login form posted from another site is refused outright.
      const foreign = await fetch(new URL("/admin/login", lectern.origin), {
        method: "POST",
        body: new URLSearchParams({ username: "owner", password: "x" }),
        headers: { Origin: "https://evil.example" },
      });
      expect(foreign.status).toBe(403);
    } finally {
      await lectern.stop();
      tmp.remove();
    }
  });

  it("sets a Secure __Host- cookie when the site is served over HTTPS", async () => {
    const tmp = tempDir();
    const config = loadConfig({
      env: { LECTERN_DATA_DIR: tmp.dir, LECTERN_ORIGIN: "https://desk.example", LECTERN_LOG_LEVEL: "warning" },
      cwd: tmp.dir,
    });
    const lectern = await openLectern(config);
    try {
      const { ensureOwner, setPassword } = await import("../src/product/access/staff.ts");
      await ensureOwner(lectern.db);
      await setPassword(lectern.db, "a long enough password", "owner");
      const app = createApp(lectern);
      const res = await app.fetch(
        new Request("https://desk.example/admin/login", {
          method: "POST",
          body: new URLSearchParams({ username: "owner", password: "a long enough password" }),
          headers: { Origin: "https://desk.example", "Content-Type": "application/x-www-form-urlencoded" },
        }),
      );
      expect(res.status).toBe(303);
      const cookie = res.headers.get("set-cookie") ?? "";
      expect(cookie).toMatch(/^__Host-lectern_session=/);
      expect(cookie).toMatch(/; Secure/);
      expect(cookie).toMatch(/; HttpOnly/);
      expect(cookie).toMatch(/; SameSite=Lax/);
      // Only the token's hash is stored.
      const token = /=([^;]+)/.exec(cookie)?.[1] as string;
      const stored = (await column(lectern.db, "SELECT token_hash FROM sessions")) as string[];
      expect(stored).toHaveLength(1);
      expect(stored[0]).not.toBe(token);
      const hash = (await scalar(lectern.db, "SELECT password_hash FROM staff WHERE username = 'owner'")) as string;
      expect(hash).toMatch(/^scrypt\$/);
      expect(hash).not.toContain("a long enough password");
    } finally {
      await lectern.close();
      tmp.remove();
    }
  });
});

describe("the response cache", () => {
  it("never serves a page or a Note older than the author's last change", async () => {
    const tmp = tempDir();
    const lectern = await startTestLectern(tmp.dir);
    try {
      const ctx = lectern.server.lectern.context();
      const post = await publishPost(ctx, { text: "Before" });
      const url = new URL(`/posts/${post.id}`, lectern.origin);
      const note = async () => (await (await fetch(url, { headers: { Accept: AP } })).json()).content as string;
      const desk = async () =>
        (await (await fetch(lectern.origin, { headers: { Accept: "text/html" } })).text()).match(
          /data-followers[^>]*>(\d+)/,
        )?.[1];
      expect(await note()).toBe("<p>Before</p>");
      expect(await note()).toBe("<p>Before</p>");
      expect(await desk()).toBe("0");
      await publishEdit(ctx, post.id, { text: "After" });
      expect(await note()).toBe("<p>After</p>");
      const { addFollower } = await import("../src/product/followers.ts");
      const { bumpSiteVersion } = await import("../src/product/instance.ts");
      await addFollower(lectern.server.lectern.db, {
        actorIri: "https://a.example/users/a",
        followIri: null,
        inbox: "https://a.example/inbox",
        sharedInbox: null,
        handle: null,
      });
      await bumpSiteVersion(lectern.server.lectern.db); // what the Follow handler does
      expect(await desk()).toBe("1");
    } finally {
      await lectern.stop();
      tmp.remove();
    }
  });
});
