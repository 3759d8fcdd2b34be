import { chmodSync, copyFileSync, readFileSync, writeFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addFollower } from "../src/product/followers.ts";
import { openDatabase } from "../src/storage/open.ts";
import { runCli } from "./helpers/cli.ts";
import { freePort, tempDir, testEnv, waitFor } from "./helpers/lectern.ts";
import { verifySinkPost } from "./helpers/signature.ts";
import { type Sink, startSink } from "./helpers/sink.ts";
import { type StartedLectern, startLecternProcess } from "./helpers/started.ts";

const FIXTURE = new URL("./fixtures/previous-release/", import.meta.url);
const expected = JSON.parse(readFileSync(new URL("expected.json", FIXTURE), "utf8")) as {
  actor: string;
  publicKeyPem: string;
  posts: string[];
  followers: number;
};

// The README's upgrade, on a database the previous release wrote (tests/fixtures/previous-release: made by
// that release's CLI and server): `lectern migrate`, then this version's processes. The channel is the same afterwards: its actor and key, its posts, its followers.
describe("an upgrade from the previous release's database", () => {
  let tmp: ReturnType<typeof tempDir>;
  let env: Record<string, string>;
  let sink: Sink;
  let web: StartedLectern | undefined;

  beforeAll(async () => {
    tmp = tempDir();
    writeFileSync(`${tmp.dir}/lectern.sqlite`, gunzipSync(readFileSync(new URL("lectern.sqlite.gz", FIXTURE))));
    copyFileSync(new URL("secret.key", FIXTURE), `${tmp.dir}/secret.key`);
    chmodSync(`${tmp.dir}/secret.key`, 0o600);
    const port = await freePort();
    // The origin the previous release ran at; requests reach it on loopback.
    env = { ...testEnv(tmp.dir, port), LECTERN_ORIGIN: "https://news.example" };
    sink = await startSink();
  });
  afterAll(async () => {
    await web?.stop();
    await sink?.close();
    tmp?.remove();
  });

  it("migrates explicitly, then serves the same actor, key and posts, and delivers to old and new followers", async () => {
    const migrated = await runCli(["migrate"], env);
    expect(migrated.code, migrated.stderr).toBe(0);
    expect(migrated.stdout).toMatch(/^Applied [1-9]\d* migrations; the schema is current \(0 pending\)\.$/m);
    expect((await runCli(["migrate"], env)).stdout).toContain("The schema is current; nothing to apply.");

    // A follower that arrives after the upgrade, beside the three from before (their server is down).
    const db = await openDatabase({ databaseUrl: null, databasePath: `${tmp.dir}/lectern.sqlite` });
    await addFollower(db, {
      actorIri: `${sink.origin.origin}/users/new`,
      followIri: null,
      inbox: sink.inbox("/users/new/inbox"),
      sharedInbox: sink.inbox(),
      handle: null,
    });
    await db.close();

    // On the SQLite file one `all` process runs the web and delivery processes (2 of each here).
    web = await startLecternProcess({ ...env, LECTERN_WEB_PROCESSES: "2", LECTERN_DELIVERY_WORKERS: "2" });
    const base = `http://127.0.0.1:${env.PORT}`;
    const actor = (await (
      await fetch(`${base}/users/desk`, { headers: { Accept: "application/activity+json" } })
    ).json()) as { id: string; publicKey: { publicKeyPem: string } };
    expect(actor.id).toBe(expected.actor);
    expect(actor.publicKey.publicKeyPem.trim()).toBe(expected.publicKeyPem.trim());
    for (const post of expected.posts) {
      const res = await fetch(`${base}${new URL(post).pathname}`, { headers: { Accept: "application/activity+json" } });
      expect(res.status, post).toBe(200);
      expect(((await res.json()) as { id: string }).id).toBe(post);
    }
    const followers = await runCli(["followers"], env);
    expect(followers.stdout).toMatch(new RegExp(`^${expected.followers + 1} followers$`, "m"));

    const published = await runCli(["post", "--text", "Written after the upgrade"], env);
    expect(published.code, published.stderr).toBe(0);
    const request = await waitFor(
      () => sink.requests.find((r) => JSON.parse(r.body).type === "Create"),
      30_000,
      "the new post at the new follower",
    );
    // Signed with the key the previous release made.
    verifySinkPost(request, expected.publicKeyPem);
  }, 120_000);
});
