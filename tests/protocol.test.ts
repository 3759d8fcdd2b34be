import { createPublicKey } from "node:crypto";
import { request as httpRequest } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addFollower } from "../src/product/followers.ts";
import { publishPost } from "../src/product/publish.ts";
import { startTestLectern, type TestLectern, tempDir } from "./helpers/lectern.ts";

const AS_PUBLIC = "https://www.w3.org/ns/activitystreams#Public";
const AP = "application/activity+json";
const LD = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"';

let tmp: ReturnType<typeof tempDir>;
let lectern: TestLectern;
const postUrls: string[] = [];

async function getJson(
  url: string | URL,
  accept = AP,
): Promise<{ status: number; type: string; body: any; headers: Headers }> {
  const res = await fetch(url, { headers: { Accept: accept } });
  const text = await res.text();
  return {
    status: res.status,
    type: res.headers.get("content-type") ?? "",
    body: text ? JSON.parse(text) : null,
    headers: res.headers,
  };
}

beforeAll(async () => {
  tmp = tempDir();
  lectern = await startTestLectern(tmp.dir, { env: { LECTERN_NAME: "The Desk", LECTERN_SUMMARY: "Official *news*." } });
  const ctx = lectern.server.lectern.context();
  for (let i = 1; i <= 25; i++) {
    const post = await publishPost(ctx, {
      text: `Post number ${i} #Lectern`,
      ...(i === 25 ? { summary: "Spoiler", language: "de" } : {}),
    });
    postUrls.push(new URL(`/posts/${post.id}`, lectern.origin).href);
  }
  await addFollower(lectern.server.lectern.db, {
    actorIri: "https://mastodon.example/users/a",
    followIri: "https://mastodon.example/follows/1",
    inbox: "https://mastodon.example/users/a/inbox",
    sharedInbox: "https://mastodon.example/inbox",
    handle: "@a@mastodon.example",
  });
});

afterAll(async () => {
  await lectern?.stop();
  tmp?.remove();
});

describe("WebFinger", () => {
  it("answers acct:handle@host with exactly that subject and a self link to the actor", async () => {
    const acct = `acct:desk@${lectern.origin.host}`;
    const res = await fetch(new URL(`/.well-known/webfinger?resource=${encodeURIComponent(acct)}`, lectern.origin));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/jrd\+json/);
    const jrd = await res.json();
    expect(jrd.subject).toBe(acct);
    expect(jrd.links).toContainEqual({ rel: "self", type: AP, href: lectern.actorId.href });
  });

  it("answers for the actor's URL too, and 404 (never 410) for unknown accounts", async () => {
    const byUrl = await fetch(
      new URL(`/.well-known/webfinger?resource=${encodeURIComponent(lectern.actorId.href)}`, lectern.origin),
    );
    expect(byUrl.status).toBe(200);
    expect((await byUrl.json()).links).toContainEqual(
      expect.objectContaining({ rel: "self", href: lectern.actorId.href }),
    );
    const unknown = await fetch(
      new URL(`/.well-known/webfinger?resource=acct:nobody@${lectern.origin.host}`, lectern.origin),
    );
    expect(unknown.status).toBe(404);
  });
});

describe("the actor", () => {
  it.each([AP, LD])("is served as ActivityPub JSON for Accept: %s", async (accept) => {
    const { status, type, body } = await getJson(lectern.actorId, accept);
    expect(status).toBe(200);
    expect(type).toMatch(/^application\/(activity|ld)\+json/);
    expect(body.id).toBe(lectern.actorId.href);
  });

  it("has every field Mastodon reads, and an RSA-2048 key first", async () => {
    const { body: actor } = await getJson(lectern.actorId);
    const o = lectern.origin.origin;
    expect(actor).toMatchObject({
      type: "Person",
      preferredUsername: "desk",
      name: "The Desk",
      url: `${o}/@desk`,
      inbox: `${o}/users/desk/inbox`,
      outbox: `${o}/users/desk/outbox`,
      followers: `${o}/users/desk/followers`,
      following: `${o}/users/desk/following`,
      featured: `${o}/users/desk/featured`,
      endpoints: { sharedInbox: `${o}/inbox` },
      manuallyApprovesFollowers: false,
      discoverable: true,
      indexable: true,
    });
    expect(actor.summary).toBe("<p>Official <em>news</em>.</p>");
    expect(Date.parse(actor.published)).toBeLessThanOrEqual(Date.now());
    expect(actor.publicKey.owner).toBe(actor.id);
    const key = createPublicKey(actor.publicKey.publicKeyPem);
    expect(key.asymmetricKeyType).toBe("rsa");
    expect(key.asymmetricKeyDetails?.modulusLength).toBe(2048);
    // RSA and Ed25519 multikeys for object proofs.
    expect(actor.assertionMethod).toHaveLength(2);
    expect(actor.assertionMethod[1].publicKeyMultibase).toMatch(/^z6Mk/);
  });

  it("sends a browser at the actor's URL to the desk page", async () => {
    const res = await fetch(lectern.actorId, { headers: { Accept: "text/html" }, redirect: "manual" });
    expect(res.status).toBe(302);
    expect(res.headers.get("location")).toBe("/@desk");
    const desk = await fetch(new URL("/@desk", lectern.origin), { headers: { Accept: "text/html" } });
    expect(desk.status).toBe(200);
    const page = (await desk.text()).replaceAll("/>", ">"); // <link …/> compared as <link …>
    expect(page).toContain("The Desk");
    expect(page).toContain(`@desk@${lectern.origin.host}`);
    expect(page).toContain(`<link rel="alternate" type="application/activity+json" href="${lectern.actorId.href}">`);
  });
});

describe("NodeInfo", () => {
  it("is discoverable and reports real counts", async () => {
    const { body: links } = await getJson(new URL("/.well-known/nodeinfo", lectern.origin), "application/json");
    const link = links.links.find((l: { rel: string }) => l.rel === "http://nodeinfo.diaspora.software/ns/schema/2.1");
    const { status, body } = await getJson(link.href, "application/json");
    expect(status).toBe(200);
    expect(body.version).toBe("2.1");
    expect(body.software.name).toBe("lectern");
    expect(body.protocols).toEqual(["activitypub"]);
    expect(body.openRegistrations).toBe(false);
    expect(body.usage.users.total).toBe(1);
    expect(body.usage.localPosts).toBe(25);
  });
});

describe("the outbox", () => {
  it("lists Create activities newest first in pages with stable cursors", async () => {
    const { body: outbox } = await getJson(new URL("/users/desk/outbox", lectern.origin));
    expect(outbox.type).toBe("OrderedCollection");
    expect(outbox.totalItems).toBe(25);
    const first = (await getJson(outbox.first)).body;
    expect(first.type).toBe("OrderedCollectionPage");
    expect(first.orderedItems).toHaveLength(20);
    expect(first.orderedItems.map((a: { type: string }) => a.type)).toEqual(Array(20).fill("Create"));
    expect(first.orderedItems[0].object.id).toBe(postUrls[24]);
    expect(first.orderedItems[19].object.id).toBe(postUrls[5]);

    // A post published meanwhile does not shift the next page.
    await publishPost(lectern.server.lectern.context(), { text: "A late post" });
    const second = (await getJson(first.next)).body;
    expect(second.orderedItems.map((a: { object: { id: string } }) => a.object.id)).toEqual(
      postUrls.slice(0, 5).reverse(),
    );
    expect(second.next).toBeUndefined();
  });

  it("rejects a malformed cursor without an error", async () => {
    const res = await fetch(new URL("/users/desk/outbox?cursor=..%2F..%2Fetc", lectern.origin), {
      headers: { Accept: AP },
    });
    expect(res.status).toBeLessThan(500);
  });
});

describe("a Note", () => {
  it("carries every field INTEROP lists", async () => {
    const { status, type, body: note } = await getJson(postUrls[0]);
    expect(status).toBe(200);
    expect(type).toMatch(/^application\/activity\+json/);
    const o = lectern.origin.origin;
    expect(note).toMatchObject({
      id: postUrls[0],
      type: "Note",
      attributedTo: `${o}/users/desk`,
      url: postUrls[0],
      to: AS_PUBLIC,
      cc: `${o}/users/desk/followers`,
      sensitive: false,
    });
    expect(note.content).toBe(
      `<p>Post number 1 <a href="${o}/tags/lectern" class="mention hashtag" rel="tag">#<span>Lectern</span></a></p>`,
    );
    expect(note.contentMap).toEqual({ en: note.content });
    expect(Date.parse(note.published)).toBeGreaterThan(0);
    expect(note.tag).toEqual({ type: "Hashtag", name: "#Lectern", href: `${o}/tags/lectern` });
    expect(note.replies).toMatchObject({ id: `${postUrls[0]}/replies`, type: "Collection", totalItems: 0 });
    // The replies collection it names exists, and is empty.
    const replies = (await getJson(note.replies.id)).body;
    expect(replies).toMatchObject({ type: "Collection", totalItems: 0 });
  });

  it("carries a content warning as summary, sensitive, in the post's language", async () => {
    const { body: note } = await getJson(postUrls[24]);
    expect(note.summary).toBe("Spoiler");
    expect(note.sensitive).toBe(true);
    expect(Object.keys(note.contentMap)).toEqual(["de"]);
  });

  it("is a web page for browsers at the same URL", async () => {
    const res = await fetch(postUrls[0], { headers: { Accept: "text/html,application/xhtml+xml" } });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    expect(res.headers.get("vary")).toMatch(/Accept/i);
    const page = (await res.text()).replaceAll("/>", ">"); // <link …/> compared as <link …>
    expect(page).toContain("Post number 1");
    expect(page).toContain(`<link rel="canonical" href="${postUrls[0]}">`);
  });

  it("is 404 when it does not exist, for both kinds of client", async () => {
    const missing = new URL("/posts/01890000-0000-7000-8000-000000000000", lectern.origin);
    expect((await fetch(missing, { headers: { Accept: AP } })).status).toBe(404);
    expect((await fetch(missing, { headers: { Accept: "text/html" } })).status).toBe(404);
    expect((await fetch(new URL("/posts/not-a-uuid", lectern.origin), { headers: { Accept: AP } })).status).toBe(404);
  });
});

describe("the followers collection", () => {
  it("has totalItems and pages of follower ids", async () => {
    const { body } = await getJson(new URL("/users/desk/followers", lectern.origin));
    expect(body.type).toBe("OrderedCollection");
    expect(body.totalItems).toBe(1);
    const page = (await getJson(body.first)).body;
    expect(page.orderedItems ?? page.items).toEqual(["https://mastodon.example/users/a"]);
  });
});

describe("links come from LECTERN_ORIGIN, whatever the request says", () => {
  /** A GET with a Host header of our choosing (fetch does not allow setting it). */
  const getWithHost = (url: URL, host: string): Promise<string> =>
    new Promise((resolve, reject) => {
      const req = httpRequest(
        {
          host: url.hostname,
          port: url.port,
          path: `${url.pathname}${url.search}`,
          headers: { Host: host, Accept: AP },
        },
        (res) => {
          let body = "";
          res.on("data", (c) => {
            body += c;
          });
          res.on("end", () => resolve(body));
        },
      );
      req.on("error", reject);
      req.end();
    });

  it.each(["/users/desk/outbox", "/users/desk/outbox?cursor=newest", "/users/desk/followers", "/users/desk"])(
    "%s with Host: evil.example links only to our origin",
    async (path) => {
      const body = await getWithHost(new URL(path, lectern.origin), "evil.example");
      expect(body).not.toContain("evil.example");
      expect(body).toContain(lectern.origin.origin);
    },
  );

  it("behind a TLS proxy (an https origin, requests arriving over http) every link is https", async () => {
    const behind = tempDir();
    const proxied = await startTestLectern(behind.dir, { env: { LECTERN_ORIGIN: "https://lectern.test" } });
    try {
      const local = proxied.server.url;
      await publishPost(proxied.server.lectern.context(), { text: "Through the proxy" });
      for (const path of ["/users/desk/outbox", "/users/desk/outbox?cursor=newest", "/users/desk"]) {
        const body = await getWithHost(new URL(path, local), "lectern.test");
        expect(body).not.toMatch(/http:\/\/lectern\.test/);
        expect(body).toContain("https://lectern.test/users/desk");
      }
    } finally {
      await proxied.stop();
      behind.remove();
    }
  });
});
