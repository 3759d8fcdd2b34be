import { writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getFollower } from "../src/product/followers.ts";
import { publishProfile } from "../src/product/publish.ts";
import { runCli } from "./helpers/cli.ts";
import { signIn } from "./helpers/desk.ts";
import { type FollowerServer, startFollowerServer } from "./helpers/follower.ts";
import { startTestLectern, type TestLectern, tempDir, waitFor } from "./helpers/lectern.ts";
import { column } from "./helpers/rows.ts";

// People are named as people write them: @user@server, not actor URLs.
describe("handles everywhere", () => {
  let tmp: ReturnType<typeof tempDir>;
  let lectern: TestLectern;
  let remote: FollowerServer;
  let cookie: string;
  const db = () => lectern.server.lectern.db;
  const handleOf = (user: string) => `@${user}@${remote.actorId(user).host}`;
  const desk = async (path: string, fields: Record<string, string>) => {
    const page = await (await fetch(new URL("/admin/blocks", lectern.origin), { headers: { cookie } })).text();
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page)?.[1] as string;
    return await fetch(new URL(path, lectern.origin), {
      method: "POST",
      redirect: "manual",
      headers: { cookie, origin: lectern.origin.origin, "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ _csrf: csrf, ...fields }),
    });
  };

  beforeAll(async () => {
    tmp = tempDir();
    lectern = await startTestLectern(tmp.dir);
    remote = await startFollowerServer({ users: ["alice", "bob", "carol", "dave"] });
    cookie = await signIn(lectern);
    for (const user of ["alice", "carol"]) {
      await remote.follow(user, lectern.actorId);
      await waitFor(async () => (await getFollower(db(), remote.actorId(user).href)) !== undefined, 10_000, user);
    }
  });
  afterAll(async () => {
    await remote?.close();
    await lectern?.stop();
    tmp?.remove();
  });

  it("the desk blocks @user@server: the follower goes, the block names the account", async () => {
    const res = await desk("/admin/blocks", { value: handleOf("alice") });
    expect(res.status).toBe(303);
    expect(await getFollower(db(), remote.actorId("alice").href)).toBeUndefined();
    expect(await column(db(), "SELECT value FROM blocks WHERE kind = 'actor'")).toEqual([remote.actorId("alice").href]);
    // An account that does not follow is found by WebFinger.
    expect((await desk("/admin/blocks", { value: handleOf("dave") })).status).toBe(303);
    expect(await column(db(), "SELECT value FROM blocks WHERE kind = 'actor' ORDER BY value")).toContain(
      remote.actorId("dave").href,
    );
    // Nobody there: the reason, not a 5xx.
    const nobody = await desk("/admin/blocks", { value: `@nobody@${remote.actorId("alice").host}` });
    expect(nobody.status).toBe(422);
    expect(await nobody.text()).toContain("no account @nobody@");
  });

  it("a bare server name blocks the server; the desk removes a follower named by handle", async () => {
    expect((await desk("/admin/blocks", { value: "spam.example" })).status).toBe(303);
    expect(await column(db(), "SELECT value FROM blocks WHERE kind = 'domain'")).toEqual(["spam.example"]);
    expect((await desk("/admin/followers/remove", { actor: handleOf("carol") })).status).toBe(303);
    expect(await getFollower(db(), remote.actorId("carol").href)).toBeUndefined();
  });

  it("the CLI approves @user@server waiting for approval, and blocks and unblocks by handle", async () => {
    await publishProfile(lectern.server.lectern.context(), { approveFollowers: true });
    await remote.follow("bob", lectern.actorId);
    await waitFor(
      async () => (await getFollower(db(), remote.actorId("bob").href))?.status === "pending",
      10_000,
      "bob",
    );
    const approved = await runCli(["approve", handleOf("bob")], lectern.env);
    expect(approved.code, approved.stderr).toBe(0);
    expect((await getFollower(db(), remote.actorId("bob").href))?.status).toBe("accepted");
    const blocked = await runCli(["block", handleOf("bob")], lectern.env);
    expect(blocked.code, blocked.stderr).toBe(0);
    const unblocked = await runCli(["unblock", handleOf("bob")], lectern.env);
    expect(unblocked.stdout).toContain("Unblocked");
    await publishProfile(lectern.server.lectern.context(), { approveFollowers: false });
  });

  it("imports a Mastodon domain blocklist: suspensions blocked, silences and obfuscated names reported", async () => {
    const csv = [
      "#domain,#severity,#reject_media,#reject_reports,#public_comment,#obfuscate",
      "badplace.example,suspend,false,false,spam,false",
      "noisy.example,silence,false,false,,false",
      "ev*l.example,suspend,false,false,,true",
      "not a server,suspend,false,false,,false",
      "worse.example,suspend,true,true,,false",
    ].join("\n");
    const file = path.join(tmp.dir, "blocklist.csv");
    writeFileSync(file, csv);
    const page = await (await fetch(new URL("/admin/blocks", lectern.origin), { headers: { cookie } })).text();
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page)?.[1] as string;
    const form = new FormData();
    form.set("_csrf", csrf);
    form.set("file0", new Blob([csv], { type: "text/csv" }), "blocklist.csv");
    const res = await fetch(new URL("/admin/blocks/import", lectern.origin), {
      method: "POST",
      headers: { cookie, origin: lectern.origin.origin },
      body: form,
    });
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain("Blocked 2 servers");
    expect(html).toContain("noisy.example (silence (Lectern only blocks))");
    expect(html).toContain("obfuscated name");
    const domains = await column(db(), "SELECT value FROM blocks WHERE kind = 'domain' ORDER BY value");
    expect(domains).toEqual(["badplace.example", "spam.example", "worse.example"]);
    // The CLI does the same from a file.
    writeFileSync(file, "one.example\ntwo.example\n");
    const cli = await runCli(["import-blocks", file], lectern.env);
    expect(cli.code, cli.stderr).toBe(0);
    expect(cli.stdout).toContain("Blocked 2 servers");
  });
});
