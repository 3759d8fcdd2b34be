import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runCli } from "./helpers/cli.ts";
import { freePort, tempDir, testEnv, waitFor } from "./helpers/lectern.ts";
import { startLecternProcess } from "./helpers/started.ts";

type Json = Record<string, any>;
const AP = { Accept: "application/activity+json" };

// `lectern backup PATH` while a started Lectern (as `npm start` runs it) publishes, then `lectern restore PATH`
// into an empty data directory: the restored channel is the same actor (the same key), with every post
// published before the backup began.
describe("backup and restore (SQLite)", () => {
  const cleanups: (() => unknown)[] = [];
  afterAll(async () => {
    for (const c of cleanups) await c();
  });

  it("migrates as an explicit step, once", async () => {
    const tmp = tempDir();
    cleanups.push(tmp.remove);
    const env = testEnv(tmp.dir, await freePort());
    const first = await runCli(["migrate"], env);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/^Applied \d+ migrations; the schema is current \(0 pending\)/);
    expect((await runCli(["migrate"], env)).stdout).toMatch(/^The schema is current; nothing to apply/);
  });

  it("copies a live database with its key and media, and restores the same channel", async () => {
    const tmp = tempDir();
    const restored = tempDir();
    const backups = tempDir();
    cleanups.push(tmp.remove, restored.remove, backups.remove);
    const port = await freePort();
    const env = testEnv(tmp.dir, port);
    const lectern = await startLecternProcess(env);
    cleanups.unshift(() => lectern.stop());
    const origin = `http://127.0.0.1:${port}`;
    for (let i = 0; i < 2; i++) expect((await runCli(["post", "--text", `Before the backup ${i}`], env)).code).toBe(0);
    const actorBefore = (await (await fetch(`${origin}/users/desk`, { headers: AP })).json()) as Json;

    // Posts keep coming while the backup runs.
    let writing = true;
    const writer = (async () => {
      for (let i = 0; writing && i < 20; i++) await runCli(["post", "--text", `During the backup ${i}`], env);
    })();
    const target = path.join(backups.dir, "b1");
    const backup = await runCli(["backup", target], env);
    writing = false;
    await writer;
    expect(backup.code, backup.stderr).toBe(0);
    expect(backup.stdout).toMatch(/^Backed up to /);
    const manifest = JSON.parse(readFileSync(path.join(target, "manifest.json"), "utf8")) as Json;
    expect(manifest.files.map((f: Json) => f.name)).toEqual(expect.arrayContaining(["lectern.sqlite", "secret.key"]));
    // A second backup into the same, now non-empty, folder is refused.
    expect((await runCli(["backup", target], env)).code).toBe(64);
    await lectern.stop();

    // Restored on another port's data directory … with the same origin, as a moved machine would be.
    const renv = { ...testEnv(restored.dir, port) };
    const restore = await runCli(["restore", target], renv);
    expect(restore.code, restore.stderr).toBe(0);
    expect((await runCli(["restore", target], renv)).code).toBe(64); // not into a data directory in use
    const again = await startLecternProcess(renv);
    cleanups.unshift(() => again.stop());
    const actorAfter = (await (await fetch(`${origin}/users/desk`, { headers: AP })).json()) as Json;
    expect(actorAfter.publicKey.publicKeyPem).toBe(actorBefore.publicKey.publicKeyPem);
    expect(actorAfter.id).toBe(actorBefore.id);
    const outbox = (await (await fetch(`${origin}/users/desk/outbox`, { headers: AP })).json()) as Json;
    expect(outbox.totalItems).toBeGreaterThanOrEqual(2);
    const page = await (await fetch(`${origin}/users/desk/outbox?cursor=newest`, { headers: AP })).text();
    for (let i = 0; i < 2; i++) expect(page).toContain(`Before the backup ${i}`);
    // And it still signs as itself: a new post goes out with the same key id.
    expect((await runCli(["post", "--text", "After the restore"], renv)).code).toBe(0);
    await waitFor(
      async () =>
        (await (await fetch(`${origin}/users/desk/outbox?cursor=newest`, { headers: AP })).text()).includes(
          "After the restore",
        ),
      10_000,
      "the new post",
    );

    // A damaged backup is refused, naming the file.
    const damaged = path.join(backups.dir, "b1", "secret.key");
    writeFileSync(damaged, "not the key");
    const fresh = tempDir();
    cleanups.push(fresh.remove);
    const bad = await runCli(["restore", target], testEnv(fresh.dir, await freePort()));
    expect(bad.code).toBe(64);
    expect(bad.stderr).toMatch(/secret\.key is missing or damaged/);
    expect(existsSync(path.join(fresh.dir, "lectern.sqlite"))).toBe(false);
  }, 120_000);
});
