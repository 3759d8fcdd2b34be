import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { deliveryProgress, pruneDeliveries } from "../../src/delivery/progress.ts";
import { failingServers } from "../../src/delivery/status.ts";
import { addFollower, countFollowers } from "../../src/product/followers.ts";
import { publishPost } from "../../src/product/publish.ts";
import { openDatabase } from "../../src/storage/open.ts";
import { runCli } from "../helpers/cli.ts";
import { crashScenarioOn, databaseEnv, type TestDialect } from "../helpers/databases.ts";
import { signIn } from "../helpers/desk.ts";
import { startFollowerServer } from "../helpers/follower.ts";
import { freePort, startTestLectern, type TestLectern, tempDir, testEnv, waitFor } from "../helpers/lectern.ts";
import { column, scalar } from "../helpers/rows.ts";
import { followFromSinks, type Sink, startSink } from "../helpers/sink.ts";
import { processTree } from "../helpers/started.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()?.();
});

async function lecternWith(
  dialect: TestDialect,
  env: Record<string, string> = {},
  now?: () => number,
): Promise<TestLectern> {
  const tmp = tempDir();
  const lectern = await startTestLectern(tmp.dir, { env, now, dialect });
  cleanup.push(
    () => tmp.remove(),
    () => lectern.stop(),
  );
  return lectern;
}

async function sink(options: Parameters<typeof startSink>[0] = {}): Promise<Sink> {
  const s = await startSink(options);
  cleanup.push(() => s.close());
  return s;
}

/** A follower on a sink server, as a Follow would have stored it. */
async function follow(lectern: TestLectern, s: Sink, name: string, shared = true) {
  await addFollower(lectern.server.lectern.db, {
    actorIri: `${s.origin.origin}/users/${name}`,
    followIri: `${s.origin.origin}/follows/${name}`,
    inbox: s.inbox(`/users/${name}/inbox`),
    sharedInbox: shared ? s.inbox("/inbox") : null,
    handle: `@${name}@${s.origin.host}`,
  });
}

export function suite(dialects: readonly TestDialect[]): void {
  describe.each(dialects)("on %s", (dialect) => {
    describe("delivery you can trust", () => {
      it("keeps the followers behind a shared inbox that answers 410 Gone, and keeps trying it", async () => {
        const lectern = await lecternWith(dialect);
        // Its inbox answers 410 (a proxy misconfigured for a while); its accounts are fine.
        const gone = await sink({ behaviour: 410, getStatus: 200 });
        const alive = await sink();
        await follow(lectern, gone, "a");
        await follow(lectern, gone, "b");
        await follow(lectern, alive, "c");
        const post = await publishPost(lectern.server.lectern.context(), { text: "Anyone there?" });
        await waitFor(() => gone.requests.length >= 2, 15_000, "the 410 server to be tried again");
        // One request per server (its shared inbox); a status code never removes anyone.
        expect(new Set(gone.requests.map((r) => r.path))).toEqual(new Set(["/inbox"]));
        expect(await countFollowers(lectern.server.lectern.db)).toBe(3);
        // The desk shows the server as not answering, with the two followers waiting behind it.
        const failing = await failingServers(lectern.server.lectern.db);
        expect(failing).toHaveLength(1);
        expect(failing[0]).toMatchObject({ followers: 2, paused: false });
        const cookie = await signIn(lectern);
        const page = await (await fetch(new URL("/admin/followers", lectern.origin), { headers: { cookie } })).text();
        expect(page).toContain("Servers not answering");
        expect(page).toMatch(/Followers over 30 days: \d+ on [^,]+, 3 today\./);
        expect(page).toMatch(new RegExp(`<td>${failing[0].host.replace(/[.]/g, "\\.")}</td><td>2</td>`));
        await waitFor(
          async () => (await deliveryProgress(lectern.server.lectern.db, post.id)).delivered === 1,
          15_000,
          "the live server",
        );
        expect(alive.requests).toHaveLength(1);
        expect(await deliveryProgress(lectern.server.lectern.db, post.id)).toMatchObject({ due: 2, delivered: 1 });
        // The posts list shows each post's reach.
        const posts = await (await fetch(new URL("/admin/posts", lectern.origin), { headers: { cookie } })).text();
        expect(posts).toContain(">1/2 servers</a>");
        // A success leaves no row behind (it is counted on the activity); the post's progress stays whole.
        gone.behaviour = 202;
        await waitFor(
          async () => (await deliveryProgress(lectern.server.lectern.db, post.id)).delivered === 2,
          15_000,
          "the recovered server",
        );
        expect(await scalar(lectern.server.lectern.db, "SELECT count(*) FROM deliveries")).toBe(0);
        expect(await pruneDeliveries(lectern.server.lectern.db, 0, Date.now() + 1000)).toBe(0);
        expect(await deliveryProgress(lectern.server.lectern.db, post.id)).toMatchObject({ due: 2, delivered: 2 });
      });

      it("keeps every follower behind a shared inbox answering 410, and removes exactly the follower whose actor is gone", async () => {
        const lectern = await lecternWith(dialect);
        // A real server whose users follow: its shared inbox answers 410 (a misconfigured proxy), its actors 200.
        const server = await startFollowerServer({ users: ["ann", "ben"] });
        cleanup.push(() => server.close());
        for (const user of ["ann", "ben"]) {
          await server.follow(user, lectern.actorId);
          await server.waitForActivity(
            (a) => a.type === "Accept" && (a.object as { actor?: string }).actor?.endsWith(user) === true,
          );
        }
        server.setInboxStatus(410);
        // An account that is really gone: its inbox and its actor answer 410.
        const gone = await sink({ behaviour: 410 });
        await follow(lectern, gone, "ghost", false);
        await publishPost(lectern.server.lectern.context(), { text: "Who is still there?" });
        await waitFor(
          async () => (await countFollowers(lectern.server.lectern.db)) === 2,
          15_000,
          "the gone follower to go",
        );
        await new Promise((r) => setTimeout(r, 1_000));
        const left = await column(lectern.server.lectern.db, "SELECT actor_iri FROM followers ORDER BY actor_iri");
        expect(left).toEqual([server.actorId("ann").href, server.actorId("ben").href]);
        // The gone account's actor was asked, once.
        expect(gone.requests.filter((r) => r.path === "/users/ghost").length).toBe(1);
      }, 60_000);

      it("retries a server answering 500 three times, then delivers once when it answers 202", async () => {
        const lectern = await lecternWith(dialect);
        const flaky = await sink({ behaviour: (n) => (n < 3 ? 500 : 202) });
        await follow(lectern, flaky, "f");
        const post = await publishPost(lectern.server.lectern.context(), { text: "Third time lucky" });
        await waitFor(() => flaky.requests.some((r) => r.status === 202), 20_000, "the fourth attempt");
        await new Promise((r) => setTimeout(r, 800));
        expect(flaky.requests.map((r) => r.status)).toEqual([500, 500, 500, 202]);
        // The same activity every time, signed anew at each attempt.
        expect(new Set(flaky.requests.map((r) => JSON.parse(r.body).id)).size).toBe(1);
        expect(new Set(flaky.requests.map((r) => r.headers.date)).size).toBeGreaterThan(1);
        expect(await deliveryProgress(lectern.server.lectern.db, post.id)).toMatchObject({
          due: 1,
          delivered: 1,
          failing: 0,
        });

        const cli = await runCli(["deliveries", new URL(`/posts/${post.id}`, lectern.origin).href], lectern.env);
        expect(cli.stdout).toContain("1/1 servers reached (100%)");
      }, 60_000);

      it("does not let a blackholed server delay a healthy one beyond the timeout", async () => {
        const lectern = await lecternWith(dialect, {
          LECTERN_DELIVERY_TIMEOUT_SECONDS: "10",
          LECTERN_DELIVERY_CONCURRENCY: "2",
        });
        const holes = await Promise.all([
          sink({ behaviour: "blackhole" }),
          sink({ behaviour: "blackhole" }),
          sink({ behaviour: "blackhole" }),
        ]);
        const healthy = await sink();
        for (const [i, h] of holes.entries()) await follow(lectern, h, `hole${i}`);
        await follow(lectern, healthy, "ok");
        const started = Date.now();
        const post = await publishPost(lectern.server.lectern.context(), { text: "Through the noise" });
        await waitFor(() => healthy.requests.length === 1, 15_000, "the healthy server");
        // Three holes and only two fast slots: a hole stops holding its slot after 2 s, long before
        // its 10 s timeout, so the healthy server waits at most that.
        expect(Date.now() - started).toBeLessThan(5000);
        await waitFor(
          async () => (await deliveryProgress(lectern.server.lectern.db, post.id)).failing === 3,
          30_000,
          "the holes to time out",
        );
        const failures = (await deliveryProgress(lectern.server.lectern.db, post.id)).failures;
        expect(failures.every((f) => /timeout|Timeout|aborted/i.test(f.lastError ?? ""))).toBe(true);
      }, 60_000);

      it("pauses a server that keeps failing, and resumes it by itself when it answers a probe", async () => {
        let offset = 0;
        const now = () => Date.now() + offset;
        const lectern = await lecternWith(
          dialect,
          { LECTERN_DELIVERY_PAUSE_AFTER_DAYS: "1", LECTERN_DELIVERY_RETRY_INITIAL_SECONDS: "0.1" },
          now,
        );
        const down = await sink({ behaviour: 503 });
        await follow(lectern, down, "d");
        const ctx = lectern.server.lectern.context();
        await publishPost(ctx, { text: "First" }, now());
        await waitFor(() => down.requests.length === 1, 15_000, "the first attempt");
        const paused = () =>
          scalar(lectern.server.lectern.db, "SELECT probe_at FROM servers WHERE host = ?", down.origin.host);
        await waitFor(async () => (await paused()) != null, 15_000, "the server to be paused");
        await publishPost(ctx, { text: "Second" }, now());
        await new Promise((r) => setTimeout(r, 800));
        expect(down.requests).toHaveLength(1); // paused: not contacted for the new post, nor retried
        down.behaviour = 202;
        offset = 13 * 3600_000; // the probe is due
        await waitFor(
          () => down.requests.filter((r) => r.status === 202).length === 2,
          15_000,
          "both posts after the probe",
        );
        expect(await paused()).toBeNull();
      }, 60_000);
    });

    describe("crash safety", () => {
      const SERVERS = 16;
      /** Slow follower servers and a server started as `npm start` starts it, on this database. */
      async function slowFanOut() {
        const tmp = tempDir();
        cleanup.push(() => tmp.remove());
        const port = await freePort();
        const env: Record<string, string> = {
          ...testEnv(tmp.dir, port, await databaseEnv(dialect)),
          LECTERN_DELIVERY_CONCURRENCY: "4",
          LECTERN_DELIVERY_PER_SERVER: "1",
          // One delivering process (the supervised ones serve the web): 4 requests in flight at most.
          LECTERN_DELIVERY_WORKERS: "1",
          // What the killed processes were sending comes free when its lease runs out: connect + request
          // timeouts + 10 s (1 + 2 + 10 s here).
          LECTERN_DELIVERY_CONNECT_TIMEOUT_SECONDS: "1",
          LECTERN_DELIVERY_TIMEOUT_SECONDS: "2",
        };
        // 16 follower servers, each slow to answer, so the fan-out takes a while.
        const sinks = await Promise.all(Array.from({ length: SERVERS }, () => sink({ delayMs: 400 })));
        const db = await openDatabase({
          databaseUrl: env.LECTERN_DATABASE_URL ?? null,
          databasePath: `${tmp.dir}/lectern.sqlite`,
        });
        await followFromSinks(db, sinks);
        await db.close();
        const start = async (): Promise<ChildProcess> => {
          const child = spawn(process.execPath, ["src/main.ts"], {
            cwd: ROOT,
            env: { PATH: process.env.PATH ?? "", ...env },
            stdio: ["ignore", "pipe", "pipe"],
          });
          cleanup.push(() => void child.kill("SIGKILL"));
          await new Promise<void>((resolve, reject) => {
            child.stdout?.on("data", (d: Buffer) => d.toString().includes("listening") && resolve());
            child.once("exit", (code) => reject(new Error(`server exited with ${code}`)));
          });
          return child;
        };
        const received = () => sinks.filter((s) => s.requests.length > 0).length;
        const requests = () => sinks.reduce((n, s) => n + s.requests.length, 0);
        const ids = () => new Set(sinks.flatMap((s) => s.requests.map((r) => JSON.parse(r.body).id)));
        const everyServerGot = (n: number) =>
          sinks.every((s) => new Set(s.requests.map((r) => JSON.parse(r.body).id)).size >= n);
        const tree = (child: ChildProcess) => processTree(child.pid as number);
        const kill = (pid: number) => {
          try {
            process.kill(pid, "SIGKILL");
          } catch {}
        };
        return { env, start, received, requests, ids, everyServerGot, tree, kill };
      }
      const exit = (child: ChildProcess) => new Promise((r) => child.once("exit", (code, signal) => r(code ?? signal)));

      it.runIf(crashScenarioOn(dialect))(
        "SIGTERM in the middle of a fan-out: nothing lost, nothing sent twice; SIGKILL: every server still gets it",
        async () => {
          const f = await slowFanOut();
          let server = await f.start();
          expect((await runCli(["post", "--text", "Survives a stop"], f.env)).code).toBe(0);
          await waitFor(() => f.received() >= 2, 20_000, "the fan-out to start");
          const stopping = Date.now();
          server.kill("SIGTERM");
          // Every process of the tree ends, the requests in flight answered and recorded, within the deadline.
          expect(await exit(server)).toBe(0);
          expect(Date.now() - stopping).toBeLessThan(15_000);
          expect(f.requests()).toBeLessThan(SERVERS);
          // No lease is left to run out: the next start sends the rest at once.
          const restarted = Date.now();
          server = await f.start();
          await waitFor(() => f.received() === SERVERS, 20_000, "every server after the restart");
          expect(Date.now() - restarted).toBeLessThan(12_000);
          await new Promise((r) => setTimeout(r, 1_000));
          expect(f.ids().size).toBe(1);
          expect(f.requests()).toBe(SERVERS);

          // A second post, and a SIGKILL while it goes out: what the dead processes held is taken over.
          expect((await runCli(["post", "--text", "Survives a crash"], f.env)).code).toBe(0);
          await waitFor(() => f.requests() >= SERVERS + 2, 20_000, "the second fan-out to start");
          expect(f.requests()).toBeLessThan(2 * SERVERS);
          for (const pid of f.tree(server)) f.kill(pid);
          await exit(server);
          server = await f.start();
          await waitFor(() => f.ids().size === 2 && f.everyServerGot(2), 45_000, "every server after the crash");
          // Duplicates are at most what was in flight at the kill (4).
          expect(f.requests()).toBeLessThanOrEqual(2 * SERVERS + 4);
          server.kill("SIGTERM");
          await exit(server);
        },
        120_000,
      );
    });
  });
}
