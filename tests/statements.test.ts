import { writeFileSync } from "node:fs";
import path from "node:path";
import { Article, Create } from "@fedify/vocab";
import { preloadedContexts } from "@fedify/vocab-runtime";
import jsonld from "jsonld";
import { createRestAPIClient } from "masto";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tokenForScript } from "../src/product/access/oauth.ts";
import { findStaff } from "../src/product/access/staff.ts";
import { publishDuePosts, schedulePost } from "../src/product/schedule.ts";
import { runCli } from "./helpers/cli.ts";
import { DIALECTS } from "./helpers/databases.ts";
import { startTestLectern, type TestLectern, tempDir, waitFor } from "./helpers/lectern.ts";
import { verifySinkPost } from "./helpers/signature.ts";
import { followFromSinks, type Sink, startSink } from "./helpers/sink.ts";

const AP = { Accept: "application/activity+json" };
const AS = "https://www.w3.org/ns/activitystreams#";

const BODY = `The council met on Tuesday & Wednesday. We agreed three things, set out below. #harbour

## The north pier

It reopens on **Friday** at noon.

![The repaired pier at dawn](attachment:1)

### What changes

- Boats moor on the east side
  - Small boats by the steps
- The ferry keeps its berth

---

<script>alert("not run")</script> <img src="https://tracker.example/pixel.gif">

![someone else's picture](https://elsewhere.example/x.png)
`;

// Statements: a title and long Markdown, federated as an Article, with a page and feed entries of their own.
describe.each(DIALECTS)("statements on %s", (dialect) => {
  let tmp: ReturnType<typeof tempDir>;
  let lectern: TestLectern;
  let sink: Sink;
  let statementUrl: URL;
  const get = (p: string, headers: Record<string, string> = {}) => fetch(new URL(p, lectern.origin), { headers });

  beforeAll(async () => {
    tmp = tempDir();
    lectern = await startTestLectern(tmp.dir, { dialect });
    sink = await startSink();
    await followFromSinks(lectern.server.lectern.db, [sink]);
  });
  afterAll(async () => {
    await lectern?.stop();
    await sink?.close();
    tmp?.remove();
  });

  it("`post --title` publishes an Article: signed, parsed by Fedify and by jsonld, title, summary, text and picture in place", async () => {
    const picture = path.join(tmp.dir, "pier.png");
    writeFileSync(
      picture,
      await sharp({ create: { width: 64, height: 48, channels: 3, background: "#3a6" } })
        .png()
        .toBuffer(),
    );
    const posted = await runCli(
      ["post", "--title", "  The harbour after the storm  ", "--text", "-", "--media", picture, "--alt", "The pier"],
      lectern.env,
      BODY,
    );
    expect(posted.code, posted.stderr).toBe(0);
    statementUrl = new URL(posted.stdout.trim());
    const id = statementUrl.pathname.split("/").pop() as string;
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(posted.stderr).toBe("");

    const request = await waitFor(
      () => sink.requests.find((r) => JSON.parse(r.body).type === "Create"),
      30_000,
      "the Create at the follower",
    );
    const actor = await (await get("/users/desk", AP)).json();
    verifySinkPost(request, actor.publicKey.publicKeyPem);
    const create = await Create.fromJsonLd(JSON.parse(request.body));
    const article = await create.getObject();
    expect(article).toBeInstanceOf(Article);
    const a = article as Article;
    expect(a.id?.href).toBe(statementUrl.href);
    expect(a.name?.toString()).toBe("The harbour after the storm");
    // AS2's summary is HTML: the plain first paragraph, escaped.
    expect(a.summary?.toString()).toBe(
      "The council met on Tuesday &amp; Wednesday. We agreed three things, set out below. #harbour",
    );
    const content = a.content?.toString() ?? "";
    // For servers that show content and not name (GoToSocial: summary as a warning, name dropped).
    expect(
      content.startsWith(
        "<p><strong>The harbour after the storm</strong></p><p>The council met on Tuesday &amp; Wednesday.",
      ),
    ).toBe(true);
    expect(content).toContain("<h2>The north pier</h2>");
    expect(content).toContain("<h3>What changes</h3>");
    expect(content).toContain("<hr />");
    expect(content).toMatch(/<ul>\s*<li>Boats moor on the east side\s*<ul>/);
    // Its own picture where the author put it; raw HTML shown as text; anyone else's picture only a link.
    const [attachment] = await Array.fromAsync(a.getAttachments());
    const pictureUrl = (attachment as { url: URL }).url.href;
    expect(content).toContain(`<img src="${pictureUrl}" alt="The repaired pier at dawn" width="64" height="48"`);
    expect(content).not.toContain("<script");
    expect(content).toContain("&lt;script&gt;");
    expect(content).not.toContain('src="https://tracker.example');
    expect(content).not.toContain('src="https://elsewhere.example');
    expect(content).toContain('<a href="https://elsewhere.example/x.png"');
    expect(a.sensitive).toBe(false);
    expect(a.url?.toString()).toBe(statementUrl.href);

    // An independent JSON-LD processor reads the same: an Article with its name, summary and content.
    // (Offline: the contexts come from a table of their published text, as Fedify ships them.)
    const documentLoader = async (url: string) => {
      if (!(url in preloadedContexts)) throw new Error(`not preloaded: ${url}`);
      return { documentUrl: url, document: preloadedContexts[url] };
    };
    const served = await (await get(statementUrl.pathname, AP)).json();
    const [expanded] = (await jsonld.expand(served, { documentLoader })) as Record<string, { "@value"?: string }[]>[];
    expect(expanded["@type"]).toEqual([`${AS}Article`]);
    expect(expanded[`${AS}name`].map((v) => v["@value"])).toContain("The harbour after the storm");
    expect(expanded[`${AS}summary`][0]["@value"]).toContain("The council met on Tuesday &amp; Wednesday.");
    expect(expanded[`${AS}content`].map((v) => v["@value"]).join("")).toContain("<h2>The north pier</h2>");
  }, 90_000);

  it("has its own page, feed entries and a title on the home page; apps see the title leading the text", async () => {
    const page = await (await get(statementUrl.pathname, { Accept: "text/html" })).text();
    expect(page).toContain("<title>The harbour after the storm · ");
    expect(page).toMatch(/<h1 class="title">The harbour after the storm<\/h1>/);
    expect(page).toContain("<h2>The north pier</h2>");
    const home = await (await get("/", { Accept: "text/html" })).text();
    expect(home).toContain(`<a href="${statementUrl.href}">The harbour after the storm</a>`);
    expect(home).toContain("Read the statement");
    expect(home).not.toContain("<h2>The north pier</h2>");
    const atom = await (await get("/feed.atom")).text();
    expect(atom).toContain("<title>The harbour after the storm</title>");
    const rss = await (await get("/feed.rss")).text();
    expect(rss).toContain("<title>The harbour after the storm</title>");

    const db = lectern.server.lectern.db;
    const owner = (await findStaff(db, "owner")) as { id: number };
    const masto = createRestAPIClient({
      url: lectern.origin.origin,
      accessToken: await tokenForScript(db, owner.id, "Statements", "read write"),
    });
    const id = statementUrl.pathname.split("/").pop() as string;
    const status = await masto.v1.statuses.$select(id).fetch();
    expect(status.content.startsWith("<p><strong>The harbour after the storm</strong></p>")).toBe(true);
    // An edit from an app (which knows no titles) keeps it a statement.
    await masto.v1.statuses.$select(id).update({ status: `${BODY}\n\nUpdated.` });
    const after = await (await get(statementUrl.pathname, AP)).json();
    expect(after.type).toBe("Article");
    expect(after.name).toBe("The harbour after the storm");
  });

  it("a scheduled statement stays one: its title kept while it waits, an Article when its time comes", async () => {
    const data = lectern.server.lectern.data;
    const now = Date.now();
    const s = await schedulePost(
      data,
      {
        title: "Scheduled words",
        text: "Said at the set time.\n\n## Then\n\nMore.",
        date: new Date(now + 2 * 86_400_000).toISOString().slice(0, 10),
        time: "09:00",
        timeZone: "UTC",
      },
      now,
    );
    expect(s.title).toBe("Scheduled words");
    const [published] = await publishDuePosts(lectern.server.lectern.context(), s.publishAt + 1);
    expect(published.title).toBe("Scheduled words");
    const served = await (await get(`/posts/${published.id}`, AP)).json();
    expect([served.type, served.name]).toEqual(["Article", "Scheduled words"]);
  });

  it("refuses what it cannot carry, with the field named; nothing is stored", async () => {
    const tooLong = await runCli(["post", "--title", "Long", "--text", "-"], lectern.env, "a".repeat(100_001));
    expect(tooLong.code).toBe(65);
    expect(tooLong.stderr).toContain("text: at most 100000 characters");
    const twoLines = await runCli(["post", "--title", "One\nTwo", "--text", "x"], lectern.env);
    expect(twoLines.stderr).toContain("title: one line of text");
    const cw = await runCli(["post", "--title", "T", "--summary", "cw", "--text", "x"], lectern.env);
    expect(cw.stderr).toContain("content warning: a statement has none");
    // Thousands of nested lists or quotes: a clear error, not a crashed parser.
    for (const text of [`${"- ".repeat(3000)}x`, `${"> ".repeat(3000)}x`, `${"*".repeat(4000)}x${"*".repeat(4000)}`]) {
      const deep = await runCli(["post", "--title", "Deep", "--text", "-"], lectern.env, text);
      expect(deep.code, deep.stderr).toBe(65);
      expect(deep.stderr).toContain("text: nested more than 16 levels deep");
    }
    // The same holds for a post from an app (a 422, never a 500).
    const db = lectern.server.lectern.db;
    const owner = (await findStaff(db, "owner")) as { id: number };
    const token = await tokenForScript(db, owner.id, "Deep", "read write");
    const r = await fetch(new URL("/api/v1/statuses", lectern.origin), {
      method: "POST",
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
      body: JSON.stringify({ status: `${"- ".repeat(3000)}x` }),
    });
    expect(r.status).toBe(422);
    expect((await r.json()).error).toContain("nested more than 16 levels deep");
    const outbox = await (await get("/users/desk/outbox?cursor=newest", AP)).text();
    expect(outbox).not.toContain("Deep");
  }, 60_000);
});
