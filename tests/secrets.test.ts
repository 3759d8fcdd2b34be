import { readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { sql } from "../src/storage/sql.ts";
import { runCli } from "./helpers/cli.ts";
import { startTestLectern, tempDir } from "./helpers/lectern.ts";
import { scalar } from "./helpers/rows.ts";

const AP = "application/activity+json";

// What the database file alone gives away: not the account's private keys, and no authenticator secret. They
// are sealed under a key kept in a file of its own (0600), which a CLI command replaces.
describe("secrets at rest", () => {
  const tmp = tempDir();
  afterAll(() => tmp.remove());

  it("keeps the actor's private keys sealed; an older plain database is sealed at start; the key rotates", async () => {
    let lectern = await startTestLectern(tmp.dir);
    const keyFile = path.join(tmp.dir, "secret.key");
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    const db = () => lectern.server.lectern.db;
    const sealed = async () =>
      (
        await db().all<{ v: string }>(
          sql`SELECT private_jwk AS v FROM actor_keys UNION ALL SELECT secret AS v FROM reader_keys`,
        )
      ).map((r) => r.v);
    // The actor's two key pairs, and the reader channels' two keys (VAPID, links).
    expect(await sealed()).toHaveLength(4);
    for (const v of await sealed()) {
      expect(v).toMatch(/^sealed:v1:/);
      expect(v).not.toMatch(/"d"|"kty"|"RSA"/);
    }
    const actor = async () =>
      (await (await fetch(lectern.actorId, { headers: { Accept: AP } })).json()) as {
        publicKey: { publicKeyPem: string };
      };
    const pem = (await actor()).publicKey.publicKeyPem;

    // As an older version kept them: in plain text. At the next start they are sealed, and the keys are the same.
    const plain = await Promise.all(
      (await db().all<{ a: string; v: string }>(sql`SELECT algorithm AS a, private_jwk AS v FROM actor_keys`)).map(
        async (r) => ({ a: r.a, v: lectern.server.lectern.secrets.unseal("actor-key", r.v) }),
      ),
    );
    for (const r of plain) await db().run(sql`UPDATE actor_keys SET private_jwk = ${r.v} WHERE algorithm = ${r.a}`);
    expect(await scalar(db(), "SELECT count(*) FROM actor_keys WHERE private_jwk LIKE '{%'")).toBe(2);
    await lectern.stop();
    lectern = await startTestLectern(tmp.dir);
    expect(await scalar(db(), "SELECT count(*) FROM actor_keys WHERE private_jwk LIKE 'sealed:v1:%'")).toBe(2);
    expect((await actor()).publicKey.publicKeyPem).toBe(pem);

    // A new key from the CLI while the server runs: every secret sealed again; the server goes on signing.
    const before = readFileSync(keyFile, "utf8");
    const rotated = await runCli(["rotate-secret-key"], lectern.env);
    expect(rotated.code, rotated.stderr).toBe(0);
    expect(rotated.stdout).toMatch(/A new secret key \(\w{12}\) is in .*secret\.key; 4 secrets were sealed again/);
    expect(readFileSync(keyFile, "utf8")).not.toBe(before);
    const id = /\((\w{12})\)/.exec(rotated.stdout)?.[1];
    for (const v of await sealed()) expect(v.startsWith(`sealed:v1:${id}:`)).toBe(true);
    await lectern.stop();

    // Without the key file the database's secrets cannot be opened: the server says so and does not start.
    const kept = readFileSync(keyFile);
    rmSync(keyFile);
    await expect(startTestLectern(tmp.dir)).rejects.toThrow(/secret\.key is missing, and this database's secrets/);
    writeFileSync(keyFile, kept, { mode: 0o600 });
    lectern = await startTestLectern(tmp.dir);
    expect((await actor()).publicKey.publicKeyPem).toBe(pem);
    await lectern.stop();
  });
});
