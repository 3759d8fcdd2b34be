import { type LogRecord, reset } from "@logtape/logtape";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { countFollowers } from "../src/product/followers.ts";
import { publishPost } from "../src/product/publish.ts";
import { configureLogging } from "../src/start/logging.ts";
import { type FollowerServer, startFollowerServer } from "./helpers/follower.ts";
import { startTestLectern, type TestLectern, tempDir, waitFor } from "./helpers/lectern.ts";
import { contentRows as contentRowsOf, scalar } from "./helpers/rows.ts";

const AS = "https://www.w3.org/ns/activitystreams";

let tmp: ReturnType<typeof tempDir>;
let lectern: TestLectern;
let remote: FollowerServer;
let postId: string;
let sharedInbox: URL;

const rowCounts = () => contentRowsOf(lectern.server.lectern.db);

const logged: LogRecord[] = [];

beforeAll(async () => {
  // The production logging configuration, into memory.
  await configureLogging("info", "text", (record) => void logged.push(record));
  tmp = tempDir();
  lectern = await startTestLectern(tmp.dir);
  remote = await startFollowerServer({ users: ["alice", "mallory"] });
  const post = await publishPost(lectern.server.lectern.context(), { text: "Our announcement" });
  postId = new URL(`/posts/${post.id}`, lectern.origin).href;
  sharedInbox = new URL("/inbox", lectern.origin);
  // The server's delivery worker queues the post's Create by itself.
  await waitFor(
    async () => (await scalar(lectern.server.lectern.db, "SELECT count(*) FROM outgoing")) === 1,
    15_000,
    "the post to be queued for delivery",
  );
});

afterAll(async () => {
  await remote?.close();
  await lectern?.stop();
  tmp?.remove();
  await reset();
});

function activity(user: string, type: string, extra: Record<string, unknown>) {
  const actor = remote.actorId(user).href;
  return {
    "@context": AS,
    id: `${actor}/activities/${type}-${Math.random().toString(36).slice(2)}`,
    type,
    actor,
    ...extra,
  };
}

describe("noise is answered and not stored", () => {
  const cases: [string, () => Record<string, unknown>][] = [
    [
      "a reply to our post",
      () =>
        activity("mallory", "Create", {
          to: [`${AS}#Public`],
          object: {
            id: `${remote.actorId("mallory").href}/notes/1`,
            type: "Note",
            attributedTo: remote.actorId("mallory").href,
            inReplyTo: postId,
            content: "<p>first!</p>",
            to: [`${AS}#Public`],
          },
        }),
    ],
    [
      "a mention / direct message",
      () =>
        activity("mallory", "Create", {
          to: [lectern.actorId.href],
          object: {
            id: `${remote.actorId("mallory").href}/notes/2`,
            type: "Note",
            attributedTo: remote.actorId("mallory").href,
            content: "<p>hey @desk</p>",
            to: [lectern.actorId.href],
            tag: [{ type: "Mention", href: lectern.actorId.href }],
          },
        }),
    ],
    ["a like", () => activity("mallory", "Like", { object: postId })],
    ["a boost", () => activity("mallory", "Announce", { object: postId, to: [`${AS}#Public`] })],
    ["a flag", () => activity("mallory", "Flag", { object: [lectern.actorId.href, postId], content: "spam" })],
    ["a block", () => activity("mallory", "Block", { object: lectern.actorId.href })],
    [
      "a delete of something we never knew",
      () => activity("mallory", "Delete", { object: "https://elsewhere.example/notes/9" }),
    ],
    [
      "an undo of a like",
      () => activity("mallory", "Undo", { object: activity("mallory", "Like", { object: postId }) }),
    ],
    ["an activity type nobody defined", () => activity("mallory", "EmojiReact", { object: postId, content: "🔥" })],
  ];

  it.each(cases)("%s: 2xx, no rows added", async (_name, make) => {
    const before = await rowCounts();
    const res = await remote.postSigned("mallory", sharedInbox, make());
    expect(res.status).toBeGreaterThanOrEqual(200);
    expect(res.status).toBeLessThan(300);
    expect(await rowCounts()).toEqual(before);
  });
});

describe("bad requests get a 4xx with a reason, never a 5xx", () => {
  it("an unsigned activity: 401", async () => {
    const res = await remote.postSigned("mallory", sharedInbox, activity("mallory", "Like", { object: postId }), {
      sign: false,
    });
    expect(res.status).toBe(401);
  });

  it("a signature made with another actor's key: 401", async () => {
    // Signed by alice's key, claiming to be mallory's activity.
    const res = await remote.postSigned(
      "alice",
      sharedInbox,
      activity("mallory", "Follow", { object: lectern.actorId.href }),
    );
    expect(res.status).toBe(401);
    expect(await countFollowers(lectern.server.lectern.db)).toBe(0);
  });

  it("malformed JSON: 400", async () => {
    const res = await remote.postSigned("mallory", sharedInbox, '{"type": "Like", "actor": ');
    expect(res.status).toBe(400);
    expect((await res.text()).length).toBeGreaterThan(0);
  });

  it("a body over the limit: 413", async () => {
    const big = activity("mallory", "Create", { object: { type: "Note", content: "x".repeat(400 * 1024) } });
    const res = await remote.postSigned("mallory", sharedInbox, big);
    expect(res.status).toBe(413);
  });
});

describe("followers leave", () => {
  beforeEach(async () => {
    if ((await countFollowers(lectern.server.lectern.db)) === 0) {
      await remote.follow("alice", lectern.actorId);
      await waitFor(async () => (await countFollowers(lectern.server.lectern.db)) === 1, 15_000, "alice to follow");
    }
  });

  it("an Undo whose object is our actor's URI (seen in the wild) ends the follow without an error", async () => {
    const res = await remote.postSigned(
      "alice",
      sharedInbox,
      activity("alice", "Undo", { object: lectern.actorId.href }),
    );
    expect(res.status).toBe(202);
    expect(await countFollowers(lectern.server.lectern.db)).toBe(0);
  });

  it("an Undo embedding a Follow with another id still ends the follow", async () => {
    const res = await remote.postSigned(
      "alice",
      sharedInbox,
      activity("alice", "Undo", {
        object: {
          type: "Follow",
          id: "https://elsewhere.example/unknown-id",
          actor: remote.actorId("alice").href,
          object: lectern.actorId.href,
        },
      }),
    );
    expect(res.status).toBe(202);
    expect(await countFollowers(lectern.server.lectern.db)).toBe(0);
  });

  it("a Delete of the follower's own actor removes it", async () => {
    const alice = remote.actorId("alice").href;
    const res = await remote.postSigned(
      "alice",
      sharedInbox,
      activity("alice", "Delete", { object: alice, to: [`${AS}#Public`] }),
    );
    expect(res.status).toBe(202);
    expect(await countFollowers(lectern.server.lectern.db)).toBe(0);
  });

  it("someone else's Undo does not remove alice", async () => {
    const res = await remote.postSigned(
      "mallory",
      sharedInbox,
      activity("mallory", "Undo", { object: lectern.actorId.href }),
    );
    expect(res.status).toBe(202);
    expect(await countFollowers(lectern.server.lectern.db)).toBe(1);
  });
});

describe("the logs", () => {
  it("hold no errors after all of the above", () => {
    const errors = logged.filter((r) => r.level === "error" || r.level === "fatal");
    expect(errors.map((r) => `${r.category.join(".")}: ${r.message.map(String).join("")}`)).toEqual([]);
    // The capture works: lower-level lines (follows, unfollows) were seen.
    expect(logged.some((r) => r.category[0] === "lectern" && r.level === "info")).toBe(true);
  });
});
