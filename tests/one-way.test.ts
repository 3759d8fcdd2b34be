import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { countFollowers } from "../src/product/followers.ts";
import {
  approveFollowRequest,
  blockAccount,
  blockServer,
  publishDelete,
  publishPost,
  publishProfile,
} from "../src/product/publish.ts";
import { runCli } from "./helpers/cli.ts";
import { type FollowerServer, startFollowerServer } from "./helpers/follower.ts";
import { startTestLectern, type TestLectern, tempDir, testEnv, waitFor } from "./helpers/lectern.ts";
import { scalar } from "./helpers/rows.ts";

type Json = Record<string, any>;
const AS = "https://www.w3.org/ns/activitystreams";
const PUBLIC = `${AS}#Public`;
const QUOTE_CONTEXT = [AS, { QuoteRequest: "https://w3id.org/fep/044f#QuoteRequest" }];

let n = 0;
function activity(
  remote: FollowerServer,
  user: string,
  type: string,
  extra: Record<string, unknown>,
  context: unknown = AS,
): Json {
  const actor = remote.actorId(user).href;
  return { "@context": context, id: `${actor}/activities/${type.toLowerCase()}-${++n}`, type, actor, ...extra };
}

function replyTo(
  remote: FollowerServer,
  user: string,
  postUrl: string,
  id = `${remote.actorId(user).href}/notes/${++n}`,
): Json {
  return activity(remote, user, "Create", {
    to: [PUBLIC],
    object: {
      id,
      type: "Note",
      attributedTo: remote.actorId(user).href,
      inReplyTo: postUrl,
      content: "<p>Me first!</p>",
      to: [PUBLIC],
    },
  });
}

describe("one-way by design", () => {
  let tmp: ReturnType<typeof tempDir>;
  let lectern: TestLectern;
  let remote: FollowerServer;
  let postUrl: string;
  let postId: string;
  const inbox = () => new URL("/inbox", lectern.origin);
  const ctx = () => lectern.server.lectern.context();

  beforeAll(async () => {
    tmp = tempDir();
    lectern = await startTestLectern(tmp.dir);
    remote = await startFollowerServer({ users: ["alice", "mallory", "quinn"] });
    const post = await publishPost(ctx(), { text: "Announcement" });
    postId = post.id;
    postUrl = new URL(`/posts/${post.id}`, lectern.origin).href;
  });
  afterAll(async () => {
    await remote?.close();
    await lectern?.stop();
    tmp?.remove();
  });

  it("says so on every Note: replies by the author only, boosts, likes and quotes by anyone", async () => {
    const note = await (await fetch(postUrl, { headers: { Accept: "application/activity+json" } })).json();
    const policy = note.interactionPolicy;
    expect(policy.canReply.automaticApproval).toBe(lectern.actorId.href);
    expect(policy.canLike.automaticApproval).toBe(PUBLIC);
    // GoToSocial recognises only the full IRI, and GoToSocial ≤ 0.19 only the older names.
    expect(policy.canAnnounce.automaticApproval).toBe(PUBLIC);
    expect(policy.canAnnounce.always).toBe(PUBLIC);
    expect(policy.canQuote.automaticApproval).toBe(PUBLIC);
    expect(policy.canQuote.always).toBe(PUBLIC);
    expect(policy.canReply.always).toBe(lectern.actorId.href);
    expect(JSON.stringify(note)).not.toContain('"as:Public"');
    expect(JSON.stringify(note["@context"])).toContain("https://gotosocial.org/ns");
  });

  it("refuses a reply with Reject{object: reply, target: our post}, stores nothing, and answers each reply once", async () => {
    const rows = () =>
      scalar(
        lectern.server.lectern.db,
        "SELECT (SELECT count(*) FROM posts) + (SELECT count(*) FROM followers) + (SELECT count(*) FROM media)",
      );
    const before = await rows();
    const reply = replyTo(remote, "mallory", postUrl);
    expect((await remote.postSigned("mallory", inbox(), reply)).status).toBe(202);
    const reject = (await remote.waitForActivity((a) => a.type === "Reject" && a.object === reply.object.id))
      .json as Json;
    expect(reject.target).toBe(postUrl);
    expect(reject.actor).toBe(lectern.actorId.href);
    // The same reply again (a retry, a flood): no second answer.
    expect((await remote.postSigned("mallory", inbox(), { ...reply, id: `${reply.id}-again` })).status).toBe(202);
    await new Promise((r) => setTimeout(r, 500));
    expect(remote.activities("Reject").filter((r) => r.object === reply.object.id)).toHaveLength(1);
    expect(await rows()).toBe(before);
    // Not on any page either.
    expect(await (await fetch(postUrl, { headers: { Accept: "text/html" } })).text()).not.toContain("Me first");
  });

  it.each(["honk", "mastodon"])(
    "sends no Reject for a reply from a server announcing itself as %s (honk would unfollow)",
    async (software) => {
      const other = await startFollowerServer({ users: ["hank"], software });
      try {
        const reply = replyTo(other, "hank", postUrl);
        expect((await other.postSigned("hank", inbox(), reply)).status).toBe(202);
        await new Promise((r) => setTimeout(r, 1_500));
        expect(other.activities("Reject")).toHaveLength(0);
      } finally {
        await other.close();
      }
    },
  );

  it("answers a GoToSocial ReplyRequest with Reject", async () => {
    const request = activity(
      remote,
      "mallory",
      "ReplyRequest",
      { object: postUrl, instrument: `${remote.actorId("mallory").href}/notes/${++n}` },
      [AS, "https://gotosocial.org/ns"],
    );
    expect((await remote.postSigned("mallory", inbox(), request)).status).toBe(202);
    const reject = (
      await remote.waitForActivity((a) => a.type === "Reject" && JSON.stringify(a.object).includes(request.id))
    ).json as Json;
    expect(reject.actor).toBe(lectern.actorId.href);
  });

  it("grants a quote with a stamp it serves, and revokes the stamp when the post is deleted", async () => {
    const quoted = await publishPost(ctx(), { text: "Quote me" });
    const quotedUrl = new URL(`/posts/${quoted.id}`, lectern.origin).href;
    const quote = `${remote.actorId("quinn").href}/notes/quoting-${++n}`;
    const request = activity(remote, "quinn", "QuoteRequest", { object: quotedUrl, instrument: quote }, QUOTE_CONTEXT);
    expect((await remote.postSigned("quinn", inbox(), request)).status).toBe(202);
    const accept = (
      await remote.waitForActivity((a) => a.type === "Accept" && JSON.stringify(a.object).includes(request.id))
    ).json as Json;
    const stampId = typeof accept.result === "string" ? accept.result : accept.result.id;
    expect(stampId).toMatch(new RegExp(`^${lectern.origin.origin}/stamps/`));
    const stamp = await (await fetch(stampId, { headers: { Accept: "application/activity+json" } })).json();
    expect(stamp).toMatchObject({
      type: "QuoteAuthorization",
      attributedTo: lectern.actorId.href,
      interactingObject: quote,
      interactionTarget: quotedUrl,
    });

    await publishDelete(ctx(), quoted.id);
    const revoked = (
      await remote.waitForActivity(
        (a) => a.type === "Delete" && (a.object === stampId || (a.object as Json)?.id === stampId),
      )
    ).json as Json;
    expect(revoked.actor).toBe(lectern.actorId.href);
    expect((await fetch(stampId, { headers: { Accept: "application/activity+json" } })).status).toBe(404);
  });

  it("counts boosts as a number, once each, and takes back an undone one", async () => {
    const boost = activity(remote, "mallory", "Announce", { object: postUrl, to: [PUBLIC] });
    const count = async () =>
      (await scalar(lectern.server.lectern.db, "SELECT boosts FROM posts WHERE id = ?", postId)) as number;
    expect((await remote.postSigned("mallory", inbox(), boost)).status).toBe(202);
    await waitFor(async () => (await count()) === 1, 15_000, "the boost to be counted");
    await remote.postSigned("mallory", inbox(), boost);
    await new Promise((r) => setTimeout(r, 300));
    expect(await count()).toBe(1);
    await remote.postSigned("mallory", inbox(), activity(remote, "mallory", "Undo", { object: boost }));
    await waitFor(async () => (await count()) === 0, 15_000, "the boost to be taken back");
  });

  it("lets the author approve followers by hand", async () => {
    await publishProfile(ctx(), { approveFollowers: true });
    const actor = await (await fetch(lectern.actorId, { headers: { Accept: "application/activity+json" } })).json();
    expect(actor.manuallyApprovesFollowers).toBe(true);
    await remote.follow("alice", lectern.actorId);
    await waitFor(
      async () => (await countFollowers(lectern.server.lectern.db, "pending")) === 1,
      15_000,
      "a pending follower",
    );
    expect(await countFollowers(lectern.server.lectern.db)).toBe(0);
    expect(remote.activities("Accept").filter((a) => JSON.stringify(a.object).includes("/follows/"))).toHaveLength(0);
    expect(await approveFollowRequest(ctx(), remote.actorId("alice").href)).toBe(true);
    await remote.waitForActivity((a) => a.type === "Accept" && JSON.stringify(a.object).includes("/follows/"));
    expect(await countFollowers(lectern.server.lectern.db)).toBe(1);
    await publishProfile(ctx(), { approveFollowers: false });
  });

  it("refuses a blocked account's follow with Reject", async () => {
    await blockAccount(ctx(), remote.actorId("mallory").href);
    await remote.follow("mallory", lectern.actorId);
    const reject = (
      await remote.waitForActivity(
        (a) =>
          a.type === "Reject" &&
          (a.object as Json)?.type === "Follow" &&
          (a.object as Json)?.actor === remote.actorId("mallory").href,
      )
    ).json as Json;
    expect(reject.actor).toBe(lectern.actorId.href);
    expect(
      await scalar(
        lectern.server.lectern.db,
        "SELECT count(*) FROM followers WHERE actor_iri = ?",
        remote.actorId("mallory").href,
      ),
    ).toBe(0);
  });
});

describe("a blocked server", () => {
  it("loses its followers, is refused at the inbox, and receives nothing when we publish", async () => {
    const tmp = tempDir();
    const lectern = await startTestLectern(tmp.dir);
    const blocked = await startFollowerServer({ users: ["bea"] });
    const fine = await startFollowerServer({ users: ["finn"] });
    try {
      for (const [server, user] of [
        [blocked, "bea"],
        [fine, "finn"],
      ] as const) {
        await server.follow(user, lectern.actorId);
        await server.waitForActivity((a) => a.type === "Accept");
      }
      const ctx = lectern.server.lectern.context();
      const { removed } = await blockServer(ctx, blocked.origin.host);
      expect(removed).toBe(1);
      // Its follows and everything else it sends are refused.
      const follow = await blocked.postSigned("bea", new URL("/inbox", lectern.origin), {
        "@context": AS,
        id: `${blocked.actorId("bea").href}/follows/again`,
        type: "Follow",
        actor: blocked.actorId("bea").href,
        object: lectern.actorId.href,
      });
      expect(follow.status).toBe(403);
      expect(await countFollowers(lectern.server.lectern.db)).toBe(1);

      await publishPost(ctx, { text: "Not for the blocked" });
      await fine.waitForActivity((a) => a.type === "Create");
      await new Promise((r) => setTimeout(r, 500));
      expect(blocked.activities("Create")).toHaveLength(0);
    } finally {
      await blocked.close();
      await fine.close();
      await lectern.stop();
      tmp.remove();
    }
  });
});

describe("with quotes off", () => {
  it("answers a QuoteRequest with Reject and says so in the policy", async () => {
    const tmp = tempDir();
    const lectern = await startTestLectern(tmp.dir, { env: { LECTERN_QUOTES: "nobody" } });
    const remote = await startFollowerServer({ users: ["quinn"] });
    try {
      const post = await publishPost(lectern.server.lectern.context(), { text: "No quoting" });
      const url = new URL(`/posts/${post.id}`, lectern.origin).href;
      const note = await (await fetch(url, { headers: { Accept: "application/activity+json" } })).json();
      expect(note.interactionPolicy.canQuote.automaticApproval).toBe(lectern.actorId.href);
      const request = activity(
        remote,
        "quinn",
        "QuoteRequest",
        { object: url, instrument: `${remote.actorId("quinn").href}/notes/q` },
        QUOTE_CONTEXT,
      );
      expect((await remote.postSigned("quinn", new URL("/inbox", lectern.origin), request)).status).toBe(202);
      await remote.waitForActivity((a) => a.type === "Reject" && JSON.stringify(a.object).includes(request.id));
      expect(await scalar(lectern.server.lectern.db, "SELECT count(*) FROM quote_stamps")).toBe(0);
    } finally {
      await remote.close();
      await lectern.stop();
      tmp.remove();
    }
  });
});

describe("authorized fetch", () => {
  it("serves posts only to signed requests from servers that are not blocked; the actor stays public", async () => {
    const tmp = tempDir();
    const lectern = await startTestLectern(tmp.dir, { env: { LECTERN_AUTHORIZED_FETCH: "true" } });
    const remote = await startFollowerServer({ users: ["sam"] });
    try {
      const post = await publishPost(lectern.server.lectern.context(), { text: "Signed readers only" });
      const url = new URL(`/posts/${post.id}`, lectern.origin);
      expect((await fetch(url, { headers: { Accept: "application/activity+json" } })).status).toBe(401);
      expect((await fetch(lectern.actorId, { headers: { Accept: "application/activity+json" } })).status).toBe(200);
      expect((await fetch(url, { headers: { Accept: "text/html" } })).status).toBe(200);
      const loader = await remote.federation
        .createContext(remote.origin, undefined)
        .getDocumentLoader({ identifier: "sam" });
      const doc = (await loader(url.href)).document as Json;
      expect(doc.type).toBe("Note");
      // The outbox and its pages, as snac collects earlier posts: served to the same signed fetch alike.
      const outbox = (await loader(new URL("/users/desk/outbox", lectern.origin).href)).document as Json;
      expect(outbox.type).toBe("OrderedCollection");
      const first = (await loader(String(outbox.first))).document as Json;
      expect(first.type).toBe("OrderedCollectionPage");
      expect(JSON.stringify(first.orderedItems)).toContain("Signed readers only");
      expect((await fetch(String(outbox.first), { headers: { Accept: "application/activity+json" } })).status).toBe(
        401,
      );
      await blockServer(lectern.server.lectern.context(), remote.origin.host);
      await expect(loader(url.href)).rejects.toThrow();
    } finally {
      await remote.close();
      await lectern.stop();
      tmp.remove();
    }
  });
});

describe("blocks from the CLI", () => {
  it("block, list and unblock a server and an account", async () => {
    const tmp = tempDir();
    const lectern = await startTestLectern(tmp.dir);
    const env = testEnv(tmp.dir, lectern.config.port);
    try {
      const first = await runCli(["block", "Spam.Example"], env);
      expect(first.stdout, first.stderr).toContain("Blocked spam.example; removed 0 followers");
      expect((await runCli(["block", "https://other.example/users/troll"], env)).stdout).toContain(
        "Blocked https://other.example/users/troll",
      );
      const list = await runCli(["blocks"], env);
      expect(list.stdout).toContain("server   spam.example");
      expect(list.stdout).toContain("account  https://other.example/users/troll");
      expect((await runCli(["unblock", "spam.example"], env)).stdout).toContain("Unblocked spam.example");
      const bad = await runCli(["block", "not a host!"], env);
      expect(bad.code).toBe(65);
      expect(bad.stderr).toContain("not a server name");
    } finally {
      await lectern.stop();
      tmp.remove();
    }
  }, 120_000);
});
