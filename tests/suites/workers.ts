import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { addFollower } from "../../src/product/followers.ts";
import { publishPost } from "../../src/product/publish.ts";
import { sql } from "../../src/storage/sql.ts";
import { runCli } from "../helpers/cli.ts";
import { type DIALECTS, databaseEnv, type TestDialect } from "../helpers/databases.ts";
import { freePort, startTestLectern, type TestLectern, tempDir, testEnv, waitFor } from "../helpers/lectern.ts";
import { scalar } from "../helpers/rows.ts";
import { type Sink, startSink } from "../helpers/sink.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()?.();
});

interface Cluster {
  web: TestLectern;
  env: Record<string, string>;
  sinks: Sink[];
  workers: ChildProcess[];
  startWorker(): Promise<ChildProcess>;
}

/**
 * A `web` process (in this test process) and worker processes (real
 * `LECTERN_ROLE=worker` servers started from src/main.ts) on one database,
 * with `servers` follower servers of `perServer` followers each, every one
 * with its own inbox (so one server gets several requests per post).
 */
async function cluster(
  dialect: (typeof DIALECTS)[number],
  options: { servers: number; followersPerServer: number; delayMs: number; extra?: Record<string, string> },
): Promise<Cluster> {
  const tmp = tempDir();
  cleanup.push(() => tmp.remove());
  const port = await freePort();
  const env: Record<string, string> = {
    ...testEnv(tmp.dir, port, await databaseEnv(dialect)),
    LECTERN_DELIVERY_PER_SERVER: "1",
    LECTERN_DELIVERY_CONCURRENCY: "4",
    // Separate web and worker processes on the SQLite file are what the `all` role runs itself, marked so;
    // an operator's own are refused there (they need PostgreSQL).
    ...(dialect === "sqlite" ? { LECTERN_SUPERVISED: "1" } : {}),
    ...options.extra,
  };
  const web = await startTestLectern(tmp.dir, { port, env: { ...env, LECTERN_ROLE: "web" } });
  cleanup.push(() => web.stop());
  const sinks = await Promise.all(
    Array.from({ length: options.servers }, () => startSink({ delayMs: options.delayMs })),
  );
  cleanup.push(() => Promise.all(sinks.map((s) => s.close())).then(() => {}));
  for (const [i, s] of sinks.entries()) {
    for (let j = 0; j < options.followersPerServer; j++) {
      await addFollower(web.server.lectern.db, {
        actorIri: `${s.origin.origin}/users/u${i}-${j}`,
        followIri: null,
        inbox: s.inbox(`/users/u${i}-${j}/inbox`),
        sharedInbox: null,
        handle: null,
      });
    }
  }
  const workers: ChildProcess[] = [];
  const startWorker = async () => {
    const child = spawn(process.execPath, ["src/main.ts"], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? "", ...env, LECTERN_ROLE: "worker" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stderr?.on("data", (d: Buffer) => {
      output += d.toString();
    });
    cleanup.push(() => void child.kill("SIGKILL"));
    workers.push(child);
    await new Promise<void>((resolve, reject) => {
      child.stdout?.on(
        "data",
        (d: Buffer) => /is delivering|is running \(role worker\)/.test(d.toString()) && resolve(),
      );
      child.once("exit", (code) => reject(new Error(`worker exited with ${code}: ${output}`)));
    });
    return child;
  };
  return { web, env, sinks, workers, startWorker };
}

const total = (sinks: Sink[]) => sinks.reduce((n, s) => n + s.requests.length, 0);

/** How many workers hold delivery partitions now. */
const owners = async (c: Cluster) =>
  Number(
    await scalar(
      c.web.server.lectern.db,
      "SELECT count(DISTINCT owner) FROM leases WHERE name LIKE 'partition:%' AND expires_at > ?",
      Date.now(),
    ),
  );

export function suite(dialects: readonly TestDialect[]): void {
  describe.each(dialects)("worker processes on %s", (dialect) => {
    it("three workers deliver each activity to each inbox exactly once, one request at a time per server; a web process sends nothing", async () => {
      const c = await cluster(dialect, { servers: 16, followersPerServer: 3, delayMs: 30 });
      await Promise.all([c.startWorker(), c.startWorker(), c.startWorker()]);
      // The first to start takes every partition, then gives the newcomers their share.
      await waitFor(async () => (await owners(c)) === 3, 15_000, "the partitions to be shared out");
      const ctx = c.web.server.lectern.context();
      const first = await publishPost(ctx, { text: "To every inbox, once" });
      await waitFor(() => total(c.sinks) >= 48, 30_000, "48 deliveries");
      await new Promise((r) => setTimeout(r, 1_000));
      expect(total(c.sinks)).toBe(48);
      for (const s of c.sinks) {
        expect(s.requests.map((r) => r.path).sort()).toEqual(
          [0, 1, 2].map((j) => expect.stringContaining(`-${j}/inbox`)),
        );
        expect(new Set(s.requests.map((r) => JSON.parse(r.body).object.id))).toEqual(
          new Set([c.web.server.lectern.data.urls.post(first.id).href]),
        );
        // The per-server limit holds across processes: a server is only ever one worker's.
        expect(s.maxInFlight).toBe(1);
        expect(s.requests[0].headers["user-agent"]).toMatch(/^Lectern\//);
      }
      // The workers shared the work (each holds partitions; servers hash all over them).
      expect(await owners(c)).toBe(3);
      // What the operator sees (the workers say their pace when they renew their leases, every 2 s).
      const status = await waitFor(
        async () => {
          const st = await runCli(["status"], c.env);
          return st.stdout.includes("delivered in the last minute: 48") && st;
        },
        10_000,
        "the workers' pace in the status",
      );
      expect(status.code, status.stderr).toBe(0);
      expect(status.stdout).toMatch(/^workers: 3$/m);
      expect(status.stdout).toContain("deliveries: 0 due, 0 retrying later, 0 being sent");

      // Without workers, the web process stores the post and sends nothing.
      for (const w of c.workers) w.kill("SIGTERM");
      await Promise.all(c.workers.map((w) => new Promise((r) => (w.exitCode === null ? w.once("exit", r) : r(null)))));
      await publishPost(ctx, { text: "Waits for a worker" });
      await new Promise((r) => setTimeout(r, 1_500));
      expect(total(c.sinks)).toBe(48);
      expect(c.web.server.deliveries).toBeUndefined();
      // A worker that starts later sends it.
      await c.startWorker();
      await waitFor(() => total(c.sinks) >= 96, 30_000, "the second post");
    }, 120_000);

    it("a worker killed in the middle of a fan-out: its servers are taken over and every inbox gets the post", async () => {
      const c = await cluster(dialect, { servers: 12, followersPerServer: 2, delayMs: 400 });
      await Promise.all([c.startWorker(), c.startWorker(), c.startWorker()]);
      await waitFor(async () => (await owners(c)) === 3, 15_000, "the partitions to be shared out");
      await publishPost(c.web.server.lectern.context(), { text: "Survives a dead worker" });
      await waitFor(() => total(c.sinks) >= 4, 20_000, "the fan-out to start");
      c.workers[0].kill("SIGKILL");
      await waitFor(
        () => c.sinks.every((s) => new Set(s.requests.map((r) => r.path)).size === 2),
        45_000,
        "every inbox",
      );
      // Only what was in flight in the dead worker may have been sent twice.
      expect(total(c.sinks)).toBeLessThanOrEqual(24 + 4);
    }, 120_000);

    it("a scheduled post is published once with two workers", async () => {
      const c = await cluster(dialect, { servers: 2, followersPerServer: 1, delayMs: 0 });
      await Promise.all([c.startWorker(), c.startWorker()]);
      const db = c.web.server.lectern.db;
      const at = Date.now() + 1_500;
      await db.run(
        sql`INSERT INTO scheduled_posts (id, source, language, summary, sensitive, attachments, publish_at, time_zone, created_at)
          VALUES ('01900000-0000-7000-8000-000000000001', 'On time, once', 'en', NULL, ${false}, '[]', ${at}, 'UTC', ${Date.now()})`,
      );
      await waitFor(() => total(c.sinks) >= 2, 20_000, "the scheduled post");
      await new Promise((r) => setTimeout(r, 2_500));
      expect(total(c.sinks)).toBe(2);
      expect(await scalar(db, "SELECT count(*) FROM posts")).toBe(1);
      expect(await scalar(db, "SELECT count(*) FROM scheduled_posts")).toBe(0);
    }, 60_000);
  });
}
