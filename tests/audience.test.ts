import { afterEach, describe, expect, it } from "vitest";
import { setPassword } from "../src/product/access/staff.ts";
import { addFollower } from "../src/product/followers.ts";
import { moveAccount, movesIn, setAliases } from "../src/product/moves.ts";
import { InvalidPostError } from "../src/product/posts.ts";
import { InvalidProfileError } from "../src/product/profile.ts";
import { publishPost } from "../src/product/publish.ts";
import { runCli } from "./helpers/cli.ts";
import { type FollowerServer, startFollowerServer } from "./helpers/follower.ts";
import { startTestLectern, type TestLectern, tempDir, waitFor } from "./helpers/lectern.ts";

const AS = "https://www.w3.org/ns/activitystreams";
const AP = "application/activity+json";
const cleanup: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()?.();
});

async function lecternAnd(
  remoteOptions: Parameters<typeof startFollowerServer>[0] = {},
  env: Record<string, string> = {},
): Promise<{ lectern: TestLectern; remote: FollowerServer }> {
  const tmp = tempDir();
  const lectern = await startTestLectern(tmp.dir, { env });
  const remote = await startFollowerServer(remoteOptions);
  cleanup.push(
    () => tmp.remove(),
    () => lectern.stop(),
    () => remote.close(),
  );
  return { lectern, remote };
}

const actorJson = async (lectern: TestLectern) => (await fetch(lectern.actorId, { headers: { Accept: AP } })).json();

describe("bringing the audience", () => {
  it("lists an alias found by its handle, and takes the followers a Move from it brings", async () => {
    const { lectern, remote } = await lecternAnd({ users: ["olduser", "bob"] });
    const ctx = lectern.server.lectern.context();
    await setAliases(ctx, [`@olduser@${remote.origin.host}`]);
    expect((await actorJson(lectern)).alsoKnownAs).toEqual(remote.actorId("olduser").href);
    const move = {
      "@context": AS,
      id: `${remote.actorId("olduser").href}/moves/1`,
      type: "Move",
      actor: remote.actorId("olduser").href,
      object: remote.actorId("olduser").href,
      target: lectern.actorId.href,
    };
    expect((await remote.postSigned("olduser", new URL("/inbox", lectern.origin), move)).status).toBe(202);
    // The old followers' server then follows the new account: accepted like any Follow.
    await remote.follow("bob", lectern.actorId);
    await remote.waitForActivity((a) => a.type === "Accept");
    await waitFor(
      async () => (await movesIn(lectern.server.lectern.data))[0]?.followersSince === 1,
      10_000,
      "the move",
    );
    expect((await movesIn(lectern.server.lectern.data))[0].from).toBe(remote.actorId("olduser").href);
  });

  it("refuses an alias that cannot be found", async () => {
    const { lectern } = await lecternAnd();
    await expect(setAliases(lectern.server.lectern.context(), ["@nobody@127.0.0.1:1"])).rejects.toThrow(
      InvalidProfileError,
    );
  });
});

describe("taking the audience elsewhere", () => {
  it("moves to an account that lists us: followers' servers get a Move, the actor says movedTo, nothing more is published", async () => {
    const tmp = tempDir();
    const lectern = await startTestLectern(tmp.dir);
    const remote = await startFollowerServer({ users: ["newhome", "carol"], aliases: { newhome: [lectern.actorId] } });
    cleanup.push(
      () => tmp.remove(),
      () => lectern.stop(),
      () => remote.close(),
    );
    await remote.follow("carol", lectern.actorId);
    await remote.waitForActivity((a) => a.type === "Accept");
    const ctx = lectern.server.lectern.context();

    const target = await moveAccount(ctx, `@newhome@${remote.origin.host}`);
    expect(target.href).toBe(remote.actorId("newhome").href);
    const moved = (await remote.waitForActivity((a) => a.type === "Move")).json as Record<string, unknown>;
    expect(moved).toMatchObject({ actor: lectern.actorId.href, object: lectern.actorId.href, target: target.href });
    expect((await actorJson(lectern)).movedTo).toBe(target.href);
    const page = await (await fetch(new URL("/", lectern.origin), { headers: { Accept: "text/html" } })).text();
    expect(page).toContain("This account has moved to");
    await expect(publishPost(ctx, { text: "Still here?" })).rejects.toThrow(InvalidPostError);
    await expect(moveAccount(ctx, `@newhome@${remote.origin.host}`)).rejects.toThrow(/already moved/);
  });

  it("refuses to move to an account that does not list this one", async () => {
    const { lectern, remote } = await lecternAnd({ users: ["stranger"] });
    await expect(moveAccount(lectern.server.lectern.context(), `@stranger@${remote.origin.host}`)).rejects.toThrow(
      /must first list/,
    );
    expect((await actorJson(lectern)).movedTo).toBeUndefined();
  });

  it("exports followers as CSV from the CLI", async () => {
    const { lectern } = await lecternAnd();
    await addFollower(lectern.server.lectern.db, {
      actorIri: "https://mastodon.example/users/a",
      followIri: null,
      inbox: "https://mastodon.example/users/a/inbox",
      sharedInbox: null,
      handle: "@a@mastodon.example",
    });
    await addFollower(lectern.server.lectern.db, {
      actorIri: "https://other.example/users/=cmd",
      followIri: null,
      inbox: "https://other.example/inbox",
      sharedInbox: null,
      handle: null,
    });
    const r = await runCli(["export-followers"], lectern.env);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split("\n");
    expect(lines[0]).toBe("account,server,since");
    expect(lines[1]).toMatch(/^@a@mastodon\.example,mastodon\.example,\d{4}-\d\d-\d\dT/);
    expect(lines).toHaveLength(3);
  });
});

describe("reaching Bluesky through Bridgy Fed", () => {
  it("follows the bridge's account, takes its Accept, shows it in `following`, and leaves with Undo", async () => {
    const remote = await startFollowerServer({ users: ["bridge"] });
    const tmp = tempDir();
    const lectern = await startTestLectern(tmp.dir, {
      env: { LECTERN_BRIDGY_FED_ACCOUNT: `@bridge@${remote.origin.host}` },
    });
    cleanup.push(
      () => tmp.remove(),
      () => lectern.stop(),
      () => remote.close(),
    );
    const on = await runCli(["bridgy", "on"], lectern.env);
    expect(on.code, on.stderr).toBe(0);
    const follow = (await remote.waitForActivity((a) => a.type === "Follow")).json as Record<string, string>;
    expect(follow).toMatchObject({ actor: lectern.actorId.href, object: remote.actorId("bridge").href });
    const following = async () =>
      (await fetch(new URL("/users/desk/following", lectern.origin), { headers: { Accept: AP } })).json();
    expect((await following()).totalItems).toBe(0);
    const accept = {
      "@context": AS,
      id: `${remote.actorId("bridge").href}/accepts/1`,
      type: "Accept",
      actor: remote.actorId("bridge").href,
      object: follow.id,
    };
    expect((await remote.postSigned("bridge", new URL("/inbox", lectern.origin), accept)).status).toBe(202);
    await waitFor(async () => (await following()).totalItems === 1, 10_000, "the follow to be accepted");
    const off = await runCli(["bridgy", "off"], lectern.env);
    expect(off.code, off.stderr).toBe(0);
    const undo = (await remote.waitForActivity((a) => a.type === "Undo")).json as Record<string, any>;
    expect(undo.object.id ?? undo.object).toBe(follow.id);
    await waitFor(async () => (await following()).totalItems === 0, 10_000, "the follow to end");
  });
});

describe("the desk's Audience page", () => {
  it("shows aliases, the Bluesky switch and the move form, exports CSV, and asks before moving", async () => {
    const { lectern } = await lecternAnd();
    await setPassword(lectern.server.lectern.db, "a long enough password", "owner");
    const origin = lectern.origin.origin;
    const login = await fetch(new URL("/admin/login", origin), {
      method: "POST",
      redirect: "manual",
      headers: { Origin: origin, "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ username: "owner", password: "a long enough password" }),
    });
    const cookie = (login.headers.get("set-cookie") ?? "").split(";")[0];
    expect(cookie).toMatch(/^lectern_session=/);
    const page = await fetch(new URL("/admin/audience", origin), { headers: { Cookie: cookie } });
    expect(page.status).toBe(200);
    expect(page.headers.get("cache-control")).toContain("no-store");
    const html = await page.text();
    for (const text of ["Also known as", "Bluesky", "Export followers (CSV)", "Move this account"]) {
      expect(html).toContain(text);
    }
    const csrf = /name="_csrf" value="([^"]+)"/.exec(html)?.[1] as string;
    const csv = await fetch(new URL("/admin/followers.csv", origin), { headers: { Cookie: cookie } });
    expect(csv.headers.get("content-type")).toMatch(/^text\/csv/);
    expect(csv.headers.get("content-disposition")).toMatch(/attachment; filename="followers-/);
    expect(await csv.text()).toBe("account,server,since\n");
    // Moving needs the box ticked, and an account that lists this one.
    const move = (fields: Record<string, string>) =>
      fetch(new URL("/admin/audience/move", origin), {
        method: "POST",
        redirect: "manual",
        headers: { Cookie: cookie, Origin: origin, "Content-Type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ _csrf: csrf, ...fields }),
      });
    expect((await move({ target: "@someone@127.0.0.1:1" })).status).toBe(422);
    const refused = await move({ target: "@someone@127.0.0.1:1", confirm: "1" });
    expect(refused.status).toBe(422);
    expect(await refused.text()).toContain("move: no account @someone@127.0.0.1:1");
    expect((await actorJson(lectern)).movedTo).toBeUndefined();
  });
});
