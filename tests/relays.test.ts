import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { publishPost } from "../src/product/publish.ts";
import { addRelay, listRelays, removeRelay } from "../src/product/relays.ts";
import { runCli } from "./helpers/cli.ts";
import { DIALECTS } from "./helpers/databases.ts";
import { signIn } from "./helpers/desk.ts";
import { type FollowerServer, startFollowerServer } from "./helpers/follower.ts";
import { startTestLectern, type TestLectern, tempDir, waitFor } from "./helpers/lectern.ts";
import { scalar } from "./helpers/rows.ts";

type Json = Record<string, any>;
const AS = "https://www.w3.org/ns/activitystreams";
const PUBLIC = `${AS}#Public`;

// ActivityPub relays on loopback (a second Fedify server playing the relay, its actors signing their answers):
// both handshakes, every public post delivered to an accepted relay once, its forwarded Announce not counted as
// a boost, and leaving with Undo(Follow).
describe.each(DIALECTS)("relays on %s", (dialect) => {
  let tmp: ReturnType<typeof tempDir>;
  let lectern: TestLectern;
  let relay: FollowerServer;
  const ctx = () => lectern.server.lectern.context();
  const db = () => lectern.server.lectern.db;
  const inbox = () => new URL("/inbox", lectern.origin);
  const status = async (url: string) => (await listRelays(db())).find((r) => r.url === url)?.status;
  const creates = (path: string, text: string) =>
    relay.inboxRequests.filter((r) => r.url === path && r.json?.type === "Create" && r.body.includes(text));

  beforeAll(async () => {
    tmp = tempDir();
    lectern = await startTestLectern(tmp.dir, { dialect });
    relay = await startFollowerServer({ users: ["relay", "hub", "stranger"], sharedInbox: false });
  }, 60_000);
  afterAll(async () => {
    await relay?.close();
    await lectern?.stop();
    tmp?.remove();
  });

  it("joins a LitePub relay by its actor and a Mastodon relay by its inbox; each accepted relay gets every post once", async () => {
    const litepub = relay.actorId("relay").href;
    const mastodon = new URL("/users/hub/inbox", relay.origin).href;
    expect((await addRelay(ctx(), litepub)).style).toBe("litepub");
    expect((await addRelay(ctx(), mastodon)).style).toBe("mastodon");
    const followOf = async (path: string) =>
      (await waitFor(() => relay.inboxRequests.find((r) => r.url === path && r.json?.type === "Follow"), 15_000, path))
        .json as Json;
    const litepubFollow = await followOf("/users/relay/inbox");
    expect(litepubFollow.object).toBe(litepub);
    const mastodonFollow = await followOf("/users/hub/inbox");
    expect(mastodonFollow.object).toBe(PUBLIC);
    expect(await status(litepub)).toBe("pending");

    // An Accept from someone who is not the relay changes nothing.
    const accept = (user: string, follow: Json) => ({
      "@context": AS,
      id: `${relay.actorId(user).href}/accepts/${follow.id.split("/").pop()}`,
      type: "Accept",
      actor: relay.actorId(user).href,
      object: user === "hub" ? follow.id : follow,
    });
    expect((await relay.postSigned("stranger", inbox(), accept("stranger", litepubFollow))).status).toBe(202);
    await new Promise((r) => setTimeout(r, 300));
    expect(await status(litepub)).toBe("pending");
    // The relays accept (LitePub embeds our Follow; the Mastodon-style one names it by id).
    expect((await relay.postSigned("relay", inbox(), accept("relay", litepubFollow))).status).toBe(202);
    expect((await relay.postSigned("hub", inbox(), accept("hub", mastodonFollow))).status).toBe(202);
    await waitFor(async () => (await status(litepub)) === "accepted", 15_000, "the LitePub relay accepted");
    await waitFor(async () => (await status(mastodon)) === "accepted", 15_000, "the Mastodon relay accepted");
    const listed = await runCli(["relays"], lectern.env);
    expect(listed.stdout).toContain(`${litepub}\taccepted\tlitepub`);
    expect(listed.stdout).toContain(`${mastodon}\taccepted\tmastodon`);

    const post = await publishPost(ctx(), { text: "For every federated timeline" });
    await waitFor(() => creates("/users/relay/inbox", "every federated timeline")[0], 20_000, "the post at the relay");
    await waitFor(() => creates("/users/hub/inbox", "every federated timeline")[0], 20_000, "the post at the hub");
    // The relay forwards our post back as an Announce: not a boost.
    const forwarded = {
      "@context": AS,
      id: `${litepub}/announces/1`,
      type: "Announce",
      actor: litepub,
      object: new URL(`/posts/${post.id}`, lectern.origin).href,
      to: [PUBLIC],
    };
    expect((await relay.postSigned("relay", inbox(), forwarded)).status).toBe(202);
    await new Promise((r) => setTimeout(r, 500));
    expect(Number(await scalar(db(), "SELECT boosts FROM posts WHERE id = ?", post.id))).toBe(0);
    expect(creates("/users/relay/inbox", "every federated timeline")).toHaveLength(1);
    expect(creates("/users/hub/inbox", "every federated timeline")).toHaveLength(1);
  });

  it("leaves a relay from the desk with Undo(Follow); it gets nothing more; bad relay URLs are refused", async () => {
    const litepub = relay.actorId("relay").href;
    const cookie = await signIn(lectern);
    const page = await (
      await fetch(new URL("/admin/audience", lectern.origin), { headers: { Cookie: cookie } })
    ).text();
    expect(page).toContain("relaying every public post");
    const csrf = String(page.match(/name="_csrf" value="([^"]+)"/)?.[1]);
    const left = await fetch(new URL("/admin/audience/relays/remove", lectern.origin), {
      method: "POST",
      redirect: "manual",
      headers: { Cookie: cookie, Origin: lectern.origin.origin, "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ _csrf: csrf, url: litepub }),
    });
    expect(left.status).toBe(303);
    expect(await removeRelay(ctx(), litepub)).toBe(false);
    const junk = await fetch(new URL("/admin/audience/relays", lectern.origin), {
      method: "POST",
      headers: { Cookie: cookie, Origin: lectern.origin.origin, "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ _csrf: csrf, url: "not a url" }),
    });
    expect(junk.status).toBe(422);
    await relay.waitForActivity((a) => a.type === "Undo" && JSON.stringify(a.object).includes(litepub));
    await publishPost(ctx(), { text: "After leaving the relay" });
    await waitFor(() => creates("/users/hub/inbox", "After leaving")[0], 20_000, "the post at the hub");
    await new Promise((r) => setTimeout(r, 500));
    expect(creates("/users/relay/inbox", "After leaving")).toHaveLength(0);
    for (const bad of ["not a url", "ftp://relay.example/actor", "https://user:pw@relay.example/inbox"])
      await expect(addRelay(ctx(), bad)).rejects.toThrow(/URL|relay/);
    const cli = await runCli(["relays", "remove", "http://127.0.0.1:9/none"], lectern.env);
    expect(cli.code).toBe(1);
    const status = await runCli(["status"], lectern.env);
    expect(status.stdout).toContain("relays: 1 relaying, 0 pending");
    expect(status.stdout).toMatch(/reader messages due: 0 by email, 0 by push/);
  });
});
