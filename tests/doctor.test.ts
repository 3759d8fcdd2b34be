import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "./helpers/cli.ts";
import { freePort, startTestLectern, type TestLectern, tempDir } from "./helpers/lectern.ts";

// `lectern doctor` against a running server, through its public origin, as an operator runs it.
describe("lectern doctor", () => {
  let tmp: ReturnType<typeof tempDir>;
  let lectern: TestLectern;

  beforeAll(async () => {
    tmp = tempDir();
    lectern = await startTestLectern(tmp.dir);
  });
  afterAll(async () => {
    await lectern?.stop();
    tmp?.remove();
  });

  it("passes every check of a server that answers at its origin, naming each", async () => {
    const r = await runCli(["doctor"], lectern.env);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    for (const line of [
      /^ok {3}configuration: read; role all/m,
      /^ok {3}database: SQLite .* answers in \d+ ms, schema current$/m,
      /^ok {3}secret key: .* is readable$/m,
      /^ok {3}media: .* is writable$/m,
      /^ok {3}keys: the actor's key pairs open with the secret key$/m,
      /^ok {3}WebFinger: acct:desk@127\.0\.0\.1:\d+ → http:\/\/127\.0\.0\.1:\d+\/users\/desk$/m,
      /^ok {3}clock: the origin's clock is -?\d+ s from this machine's$/m,
      /^ok {3}actor: .* serves the key of this database$/m,
      /^ok {3}NodeInfo: .* names lectern$/m,
    ])
      expect(r.stdout).toMatch(line);
    expect(r.stdout).toContain("All checks passed.");
  });

  it("fails an origin nothing answers at, and one that serves another installation, each with a fix", async () => {
    const nobody = await runCli(["doctor"], { ...lectern.env, LECTERN_ORIGIN: `http://127.0.0.1:${await freePort()}` });
    expect(nobody.code).toBe(1);
    expect(nobody.stdout).toMatch(/^FAIL WebFinger: no answer from http:\/\/127\.0\.0\.1:\d+: ECONNREFUSED/m);
    expect(nobody.stdout).toMatch(/^ {5}fix: check DNS for the origin's name/m);

    // Another data directory (another key) behind this origin: the actor's key is not this database's.
    const other = tempDir();
    try {
      const fresh = await runCli(["doctor"], { ...lectern.env, LECTERN_DATA_DIR: other.dir });
      expect(fresh.stdout).toMatch(
        /^FAIL database: it holds no schema yet \(a new installation\)\n {5}fix: npm run -s lectern -- migrate/m,
      );
      expect((await runCli(["migrate"], { ...lectern.env, LECTERN_DATA_DIR: other.dir })).code).toBe(0);
      const r = await runCli(["doctor"], { ...lectern.env, LECTERN_DATA_DIR: other.dir });
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(/^FAIL actor: its public key is not this database's$/m);
      expect(r.stdout).toMatch(/fix: the origin serves another installation/);
    } finally {
      other.remove();
    }
  });

  it("refuses to fetch an origin at a private address outside tests, and says why", async () => {
    const r = await runCli(["doctor"], { ...lectern.env, LECTERN_ALLOW_PRIVATE_ADDRESS: "false" });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^FAIL origin: http:\/\/127\.0\.0\.1:\d+ is not https$/m);
    expect(r.stdout).toMatch(/^FAIL WebFinger: no answer/m);
    expect(r.stdout).toMatch(/fix: the origin resolves to a private address/);
  });
});
