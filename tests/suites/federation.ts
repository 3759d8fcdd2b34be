import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { countFollowers } from "../../src/product/followers.ts";
import { runCli } from "../helpers/cli.ts";
import type { TestDialect } from "../helpers/databases.ts";
import { type FollowerServer, startFollowerServer } from "../helpers/follower.ts";
import { freePort, startTestLectern, type TestLectern, tempDir, waitFor } from "../helpers/lectern.ts";
import { scalar } from "../helpers/rows.ts";
import { verifyCavage } from "../helpers/signature.ts";

const AS = "https://www.w3.org/ns/activitystreams";

export function suite(dialects: readonly TestDialect[]): void {
  describe.each(dialects)("on %s", (dialect) => {
    describe("a follower's server follows the account and receives every post", () => {
      let tmp: ReturnType<typeof tempDir>;
      let lectern: TestLectern;
      let remote: FollowerServer;

      beforeEach(async () => {
        tmp = tempDir();
        lectern = await startTestLectern(tmp.dir, { dialect });
        remote = await startFollowerServer({ users: ["alice"] });
      });
      afterEach(async () => {
        await remote?.close();
        await lectern?.stop();
        tmp.remove();
      });

      async function followAsAlice(): Promise<URL> {
        const actorId = await remote.discover(`@${lectern.handle}`);
        expect(actorId.href).toBe(lectern.actorId.href);
        const followId = await remote.follow("alice", actorId);
        await remote.waitForActivity((a) => a.type === "Accept");
        return followId;
      }

      it("discovers the account by WebFinger, follows it and is accepted at once", async () => {
        const followId = await followAsAlice();
        // The Accept left through the delivery engine: signed, with Lectern's User-Agent, shown in its progress.
        const request = remote.inboxRequests.find((r) => r.json?.type === "Accept");
        expect(request?.headers["user-agent"]).toMatch(/^Lectern\/\S+ \(\+http:\/\/127\.0\.0\.1:\d+\)$/);
        expect(request?.headers.signature).toContain(`keyId="${lectern.actorId.href}#main-key"`);
        await waitFor(
          async () =>
            (await scalar(
              lectern.server.lectern.db,
              "SELECT count(*) FROM outgoing o WHERE kind = 'Accept' AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.outgoing_id = o.id)",
            )) === 1,
          5_000,
          "the Accept to be recorded as delivered",
        );
        const accept = remote.activities("Accept")[0];
        expect(accept.actor).toBe(lectern.actorId.href);
        // The Accept's object is the Follow as received (embedded, or its id).
        const object = accept.object as string | { id: string; type: string; actor: string };
        const objectId = typeof object === "string" ? object : object.id;
        expect(objectId).toBe(followId.href);
        if (typeof object !== "string") {
          expect(object.type).toBe("Follow");
          expect(object.actor).toBe(remote.actorId("alice").href);
        }
        expect(await countFollowers(lectern.server.lectern.db)).toBe(1);
        const followers = await (
          await fetch(new URL("/users/desk/followers", lectern.origin), {
            headers: { Accept: "application/activity+json" },
          })
        ).json();
        expect(followers.totalItems).toBe(1);
      });

      it("receives a post published from the CLI as a signed Create(Note), checked by an independent verifier", async () => {
        await followAsAlice();
        const published = await runCli(["post", "--text", "Hello, world! #Lectern"], lectern.env);
        expect(published.stderr).toBe("");
        expect(published.code).toBe(0);
        const postUrl = published.stdout.trim();
        expect(postUrl).toMatch(new RegExp(`^${lectern.origin.origin}/posts/[0-9a-f-]{36}$`));

        const delivery = await remote.waitForActivity((a) => a.type === "Create", 15_000);
        const create = delivery.json as Record<string, unknown> & { object: Record<string, unknown> };
        expect(create.actor).toBe(lectern.actorId.href);
        expect(create.object.id).toBe(postUrl);
        expect(create.object.type).toBe("Note");
        expect(create.object.content).toContain("Hello, world!");
        expect(create.object.to).toBe(`${AS}#Public`);
        // Delivered once, to the shared inbox.
        expect(delivery.url).toBe("/inbox");
        expect(remote.activities("Create")).toHaveLength(1);

        // The signature, checked with http-signature (not Fedify) against the key the actor publishes.
        const actor = await (await fetch(lectern.actorId, { headers: { Accept: "application/activity+json" } })).json();
        const check = verifyCavage(delivery, actor.publicKey.publicKeyPem);
        expect(check.keyId).toBe(actor.publicKey.id);
        expect(check.algorithm.toLowerCase()).toBe("rsa-sha256");
        expect(check.signedHeaders).toEqual(expect.arrayContaining(["(request-target)", "host", "date", "digest"]));
        // A forged body does not pass the same check.
        expect(() =>
          verifyCavage({ ...delivery, body: delivery.body.replace("Hello", "Jello") }, actor.publicKey.publicKeyPem),
        ).toThrow(/Digest/);
      });

      it("stops delivering after an unfollow", async () => {
        const followId = await followAsAlice();
        await remote.unfollow("alice", lectern.actorId, followId);
        await waitFor(
          async () => (await countFollowers(lectern.server.lectern.db)) === 0,
          15_000,
          "the follower to be removed",
        );
        const published = await runCli(["post", "--text", "Nobody should get this"], lectern.env);
        expect(published.code).toBe(0);
        // The queue is drained (the fan-out found no inbox) and nothing arrived.
        await waitFor(
          async () => (await lectern.server.lectern.queue.getDepth()).queued === 0,
          15_000,
          "the queue to drain",
        );
        await new Promise((r) => setTimeout(r, 300));
        expect(remote.activities("Create")).toHaveLength(0);
      });

      it("delivers to a server that answered 503 once it answers 202 again", async () => {
        await followAsAlice();
        remote.setInboxStatus(503);
        const published = await runCli(["post", "--text", "Are you there?"], lectern.env);
        expect(published.code).toBe(0);
        await waitFor(
          () => remote.inboxRequests.filter((r) => r.status === 503).length >= 2,
          10_000,
          "two failed attempts",
        );
        remote.setInboxStatus(null);
        const delivery = await remote.waitForActivity((a) => a.type === "Create", 10_000);
        expect((delivery.json as { object: { content: string } }).object.content).toContain("Are you there?");
        await new Promise((r) => setTimeout(r, 1_500));
        expect(remote.activities("Create")).toHaveLength(1);
      });
    });

    describe("deliveries survive a restart", () => {
      it("delivers a post queued while the server was down once it starts again", async () => {
        const tmp = tempDir();
        const port = await freePort();
        const remote = await startFollowerServer({ users: ["bob"] });
        let lectern = await startTestLectern(tmp.dir, { port, dialect });
        const env = lectern.env;
        try {
          await remote.follow("bob", lectern.actorId);
          await remote.waitForActivity((a) => a.type === "Accept");
          await lectern.stop();

          // The server is down: the CLI stores the post and queues its delivery in the database.
          const published = await runCli(["post", "--text", "Written while the server was down"], env);
          expect(published.code).toBe(0);
          await new Promise((r) => setTimeout(r, 300));
          expect(remote.activities("Create")).toHaveLength(0);

          lectern = await startTestLectern(tmp.dir, { port, env });
          const delivery = await remote.waitForActivity((a) => a.type === "Create", 15_000);
          expect((delivery.json as { object: { id: string } }).object.id).toBe(published.stdout.trim());
        } finally {
          await remote.close();
          await lectern.stop();
          tmp.remove();
        }
      });
    });
  });
}
