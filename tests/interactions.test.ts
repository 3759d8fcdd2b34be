import { signRequest } from "@fedify/fedify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { publishDelete, publishPost } from "../src/product/publish.ts";
import { DIALECTS } from "./helpers/databases.ts";
import { type FollowerServer, startFollowerServer } from "./helpers/follower.ts";
import { startTestLectern, type TestLectern, tempDir, waitFor } from "./helpers/lectern.ts";
import { scalar } from "./helpers/rows.ts";

type Json = Record<string, any>;
const AS = "https://www.w3.org/ns/activitystreams";
const PUBLIC = `${AS}#Public`;
const GTS = [AS, "https://gotosocial.org/ns"];
// Mastodon 4.6 names FeatureRequest in its own context: Fedify's parser refuses such a type, so Lectern reads it itself.
const MASTODON = [AS, { gts: "https://gotosocial.org/ns#", FeatureRequest: "gts:FeatureRequest" }];
const AP = { Accept: "application/activity+json" };

let n = 0;
const activity = (remote: FollowerServer, user: string, type: string, extra: Json, context: unknown = AS): Json => {
  const actor = remote.actorId(user).href;
  return { "@context": context, id: `${actor}/activities/${type.toLowerCase()}-${++n}`, type, actor, ...extra };
};

// GoToSocial's polite requests (AnnounceRequest, LikeRequest) and Mastodon 4.6's FeatureRequest, sent signed by
// a second Fedify server on loopback: each answered by the channel's rule with an authorization served at its id,
// revoked (and then gone) when the post is deleted or the rule narrows.
describe.each(DIALECTS)("interaction requests on %s", (dialect) => {
  let tmp: ReturnType<typeof tempDir>;
  let lectern: TestLectern;
  let remote: FollowerServer;
  let postUrl: string;
  let postId: string;
  const inbox = () => new URL("/inbox", lectern.origin);
  const ctx = () => lectern.server.lectern.context();
  const db = () => lectern.server.lectern.db;
  const answerTo = async (request: Json) =>
    (await remote.waitForActivity((a) => JSON.stringify(a.object).includes(request.id))).json as Json;
  const resultOf = (answer: Json) => (typeof answer.result === "string" ? answer.result : answer.result?.id);

  beforeAll(async () => {
    tmp = tempDir();
    lectern = await startTestLectern(tmp.dir, {
      dialect,
      env: { LECTERN_ATTRIBUTION_DOMAINS: "author.example, News.Author.example" },
    });
    remote = await startFollowerServer({ users: ["gina", "lou", "mo"] });
    const post = await publishPost(ctx(), { text: "Boost me" });
    postId = post.id;
    postUrl = new URL(`/posts/${post.id}`, lectern.origin).href;
  }, 60_000);
  afterAll(async () => {
    await remote?.close();
    await lectern?.stop();
    tmp?.remove();
  });

  it("says on the actor who may feature it, its handle, and the author's websites; likes are public on Notes", async () => {
    const actor = (await (await fetch(lectern.actorId, { headers: AP })).json()) as Json;
    expect(actor.webfinger).toBe(lectern.handle);
    expect(actor.showFeatured).toBe(true);
    expect(actor.showMedia).toBe(true);
    expect(actor.attributionDomains).toEqual(["author.example", "news.author.example"]);
    expect(actor.interactionPolicy.canFeature.automaticApproval).toBe(PUBLIC);
    expect(JSON.stringify(actor["@context"])).toContain("toot:showFeatured");
    const note = (await (await fetch(postUrl, { headers: AP })).json()) as Json;
    expect(note.interactionPolicy.canLike.automaticApproval).toBe(PUBLIC);
  });

  it("grants an AnnounceRequest with an AnnounceAuthorization it serves, once, and revokes it with the post", async () => {
    const post = await publishPost(ctx(), { text: "Boost this one, then it goes" });
    const url = new URL(`/posts/${post.id}`, lectern.origin).href;
    const announce = `${remote.actorId("gina").href}/announces/${++n}`;
    const request = activity(remote, "gina", "AnnounceRequest", { object: url, instrument: announce }, GTS);
    expect((await remote.postSigned("gina", inbox(), request)).status).toBe(202);
    const accept = await answerTo(request);
    expect(accept.type).toBe("Accept");
    const stamp = resultOf(accept);
    expect(stamp).toMatch(new RegExp(`^${lectern.origin.origin}/authorizations/`));
    const served = await fetch(stamp, { headers: AP });
    expect(served.headers.get("content-type")).toMatch(/activity\+json/);
    expect(await served.json()).toMatchObject({
      type: "AnnounceAuthorization",
      attributedTo: lectern.actorId.href,
      interactingObject: announce,
      interactionTarget: url,
    });
    // Asked again (a retry): the same answer stands, nothing new is stored or sent.
    expect((await remote.postSigned("gina", inbox(), { ...request, id: `${request.id}-again` })).status).toBe(202);
    await new Promise((r) => setTimeout(r, 500));
    expect(Number(await scalar(db(), "SELECT count(*) FROM authorizations WHERE kind = 'announce'"))).toBe(1);
    expect(remote.activities("Accept").filter((a) => JSON.stringify(a.object).includes(request.id))).toHaveLength(1);
    // An interaction that lives on another server than its asker: no answer.
    const forged = activity(remote, "gina", "AnnounceRequest", {
      object: url,
      instrument: "http://127.0.0.2:9/announces/1",
    });
    expect((await remote.postSigned("gina", inbox(), forged)).status).toBe(202);
    // The post deleted: the holder is told, and the authorization is gone.
    await publishDelete(ctx(), post.id);
    await remote.waitForActivity((a) => a.type === "Delete" && JSON.stringify(a.object).includes(stamp));
    expect((await fetch(stamp, { headers: AP })).status).toBe(410);
    expect(remote.activities("Accept").some((a) => JSON.stringify(a.object).includes(forged.id))).toBe(false);
  });

  it("counts likes, one per account, from LikeRequests and bare Likes, and takes back an undone one", async () => {
    const likes = async () => Number(await scalar(db(), "SELECT likes FROM posts WHERE id = ?", postId));
    const like = `${remote.actorId("lou").href}/likes/${++n}`;
    const request = activity(remote, "lou", "LikeRequest", { object: postUrl, instrument: like }, GTS);
    expect((await remote.postSigned("lou", inbox(), request)).status).toBe(202);
    const accept = await answerTo(request);
    expect(accept.type).toBe("Accept");
    expect(await (await fetch(resultOf(accept), { headers: AP })).json()).toMatchObject({
      type: "LikeAuthorization",
      interactingObject: like,
      interactionTarget: postUrl,
    });
    await waitFor(async () => (await likes()) === 1, 10_000, "the like counted");
    // A bare Like (Mastodon), twice from the same account: counted once.
    const bare = activity(remote, "mo", "Like", { object: postUrl });
    expect((await remote.postSigned("mo", inbox(), bare)).status).toBe(202);
    expect((await remote.postSigned("mo", inbox(), { ...bare, id: `${bare.id}-b` })).status).toBe(202);
    await waitFor(async () => (await likes()) === 2, 10_000, "the bare like counted");
    await new Promise((r) => setTimeout(r, 300));
    expect(await likes()).toBe(2);
    // Undone by someone else: nothing; by its liker: taken back.
    const undo = (user: string) => activity(remote, user, "Undo", { object: { ...bare, "@context": undefined } });
    expect((await remote.postSigned("gina", inbox(), undo("gina"))).status).toBe(202);
    expect((await remote.postSigned("mo", inbox(), undo("mo"))).status).toBe(202);
    await waitFor(async () => (await likes()) === 1, 10_000, "the undone like taken back");
    // Nothing of a like is public: the post's page and the API show no count.
    const page = await (await fetch(postUrl, { headers: { Accept: "text/html" } })).text();
    expect(page).not.toMatch(/\blikes?\b/i);
  });

  it("refuses a polite request of a type it does not know, once, where the sender reads a Reject", async () => {
    const request = activity(
      remote,
      "lou",
      "EmojiReactRequest",
      { object: postUrl, instrument: `${remote.actorId("lou").href}/reacts/${++n}` },
      GTS,
    );
    expect((await remote.postSigned("lou", inbox(), request)).status).toBe(202);
    const reject = await answerTo(request);
    expect(reject.type).toBe("Reject");
    expect((await remote.postSigned("lou", inbox(), request)).status).toBe(202);
    await new Promise((r) => setTimeout(r, 300));
    expect(remote.activities("Reject").filter((a) => JSON.stringify(a.object).includes(request.id))).toHaveLength(1);
    // Unsigned: refused before anything is read.
    expect((await remote.postSigned("lou", inbox(), request, { sign: false })).status).toBe(401);
  });

  it("verifies an RFC 9421 request with its Content-Digest, and refuses one whose digest does not match", async () => {
    const rfc9421 = async (body: Json, tamper: boolean) => {
      const keyPair = (await remote.federation.createContext(remote.origin, undefined).getActorKeyPairs("mo"))[0];
      const unsigned = new Request(inbox(), {
        method: "POST",
        headers: { "Content-Type": "application/activity+json" },
        body: JSON.stringify(body),
      });
      const signed = await signRequest(unsigned, keyPair.privateKey, keyPair.keyId, { spec: "rfc9421" });
      expect(signed.headers.get("signature-input")).toBeTruthy();
      expect(signed.headers.get("content-digest")).toMatch(/^sha-256=/);
      expect(signed.headers.get("signature")).not.toMatch(/keyId=/); // not cavage
      const headers = new Headers(signed.headers);
      if (tamper) headers.set("content-digest", `sha-256=:${Buffer.alloc(32).toString("base64")}:`);
      return await fetch(inbox(), { method: "POST", headers, body: JSON.stringify(body) });
    };
    const request = (instrument: string) =>
      activity(remote, "mo", "AnnounceRequest", { object: postUrl, instrument }, GTS);
    const forged = request(`${remote.actorId("mo").href}/announces/${++n}`);
    expect((await rfc9421(forged, true)).status).toBe(401);
    const good = request(`${remote.actorId("mo").href}/announces/${++n}`);
    expect((await rfc9421(good, false)).status).toBe(202);
    expect((await answerTo(good)).type).toBe("Accept");
    expect(remote.inboxRequests.some((r) => r.body.includes(forged.id))).toBe(false);
  });

  it("grants a FeatureRequest with a FeatureAuthorization, refuses bad ones, and revokes it when the rule narrows", async () => {
    const collection = `${remote.actorId("gina").href}/collections/${++n}`;
    const request = activity(
      remote,
      "gina",
      "FeatureRequest",
      { object: lectern.actorId.href, instrument: collection },
      MASTODON,
    );
    // Unsigned, or signed by someone else than its actor: refused.
    expect((await remote.postSigned("gina", inbox(), request, { sign: false })).status).toBe(401);
    expect((await remote.postSigned("lou", inbox(), request)).status).toBe(401);
    // For a collection on another server, or about another actor: no answer.
    const elsewhere = activity(
      remote,
      "gina",
      "FeatureRequest",
      { object: lectern.actorId.href, instrument: "http://127.0.0.1:9/collections/1" },
      MASTODON,
    );
    expect((await remote.postSigned("gina", inbox(), elsewhere)).status).toBe(202);
    const notUs = activity(
      remote,
      "gina",
      "FeatureRequest",
      { object: remote.actorId("lou").href, instrument: collection },
      MASTODON,
    );
    expect((await remote.postSigned("gina", inbox(), notUs)).status).toBe(202);

    expect((await remote.postSigned("gina", inbox(), request)).status).toBe(202);
    const accept = await answerTo(request);
    expect(accept.type).toBe("Accept");
    const stamp = resultOf(accept);
    expect(await (await fetch(stamp, { headers: AP })).json()).toMatchObject({
      type: "FeatureAuthorization",
      attributedTo: lectern.actorId.href,
      interactingObject: collection,
      interactionTarget: lectern.actorId.href,
    });
    expect(remote.inboxRequests.some((r) => r.body.includes(elsewhere.id) || r.body.includes(notUs.id))).toBe(false);

    // Restarted with featuring by followers only and likes refused (gina follows nobody here).
    const port = lectern.config.port;
    const databaseUrl = lectern.env.LECTERN_DATABASE_URL;
    await lectern.stop();
    lectern = await startTestLectern(tmp.dir, {
      dialect,
      port,
      env: {
        LECTERN_FEATURES: "followers",
        LECTERN_LIKES: "refused",
        ...(databaseUrl ? { LECTERN_DATABASE_URL: databaseUrl } : {}),
      },
    });
    await remote.waitForActivity((a) => a.type === "Delete" && JSON.stringify(a.object).includes(stamp));
    expect((await fetch(stamp, { headers: AP })).status).toBe(410);
    const actor = (await (await fetch(lectern.actorId, { headers: AP })).json()) as Json;
    expect(actor.interactionPolicy.canFeature.automaticApproval).toBe(`${lectern.actorId.href}/followers`);
    // A new request from a stranger: refused. A LikeRequest now: refused too.
    const again = activity(
      remote,
      "mo",
      "FeatureRequest",
      { object: lectern.actorId.href, instrument: `${remote.actorId("mo").href}/collections/${++n}` },
      MASTODON,
    );
    expect((await remote.postSigned("mo", inbox(), again)).status).toBe(202);
    expect((await answerTo(again)).type).toBe("Reject");
    const likeRequest = activity(
      remote,
      "mo",
      "LikeRequest",
      { object: postUrl, instrument: `${remote.actorId("mo").href}/likes/${++n}` },
      GTS,
    );
    expect((await remote.postSigned("mo", inbox(), likeRequest)).status).toBe(202);
    expect((await answerTo(likeRequest)).type).toBe("Reject");
    const note = (await (await fetch(postUrl, { headers: AP })).json()) as Json;
    expect(note.interactionPolicy.canLike.automaticApproval).toBe(lectern.actorId.href);
  }, 60_000);
});
