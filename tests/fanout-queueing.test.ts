import { readFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { deliveryProgress } from "../src/delivery/progress.ts";
import { addFollower, deleteFollowerRow, markAccepted } from "../src/product/followers.ts";
import type { Database } from "../src/storage/database.ts";
import { migrate } from "../src/storage/migrate.ts";
import { openDatabase } from "../src/storage/open.ts";
import { sql } from "../src/storage/sql.ts";
import { runCli } from "./helpers/cli.ts";
import { crashScenarioOn, DIALECTS, databaseEnv, testDatabaseUrl } from "./helpers/databases.ts";
import { freePort, tempDir, testEnv, waitFor } from "./helpers/lectern.ts";
import { column, scalar } from "./helpers/rows.ts";
import { startLecternProcess } from "./helpers/started.ts";

/*
 * The delivery targets (one row per shared or personal inbox with its
 * follower count, kept by triggers) and the chunked queueing built on them
 * (delivery/fanout.ts), on both databases.
 */

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.shift()?.();
});

/** The targets as the followers say they should be: accepted followers per inbox they are reached at. */
async function expectedTargets(db: Database): Promise<Record<string, number>> {
  const rows = await db.all<{ inbox: string; n: number }>(
    sql`SELECT coalesce(shared_inbox, inbox) AS inbox, count(*) AS n FROM followers WHERE status = 'accepted' GROUP BY 1`,
  );
  return Object.fromEntries(rows.map((r) => [r.inbox, Number(r.n)]));
}

async function keptTargets(db: Database): Promise<Record<string, number>> {
  const rows = await db.all<{ inbox: string; n: number }>(
    sql`SELECT inbox, followers AS n FROM delivery_targets WHERE followers <> 0`,
  );
  return Object.fromEntries(rows.map((r) => [r.inbox, Number(r.n)]));
}

/** Loopback addresses only: these followers are never contacted, but a test never names another address. */
const hostOf = (k: number) => `127.0.0.${k + 1}:9`;
const actorOf = (i: number) => `http://${hostOf(i % 6)}/users/u${i}`;

describe.each(DIALECTS)("delivery targets on %s", (dialect) => {
  it("stay exact through follows, approvals, unfollows, moves to another inbox, blocks and unblocks racing each other", async () => {
    // PostgreSQL: four connections racing for real. SQLite has one writer at a time; one connection
    // interleaves the operations between its statements.
    const tmp = tempDir();
    cleanups.push(tmp.remove);
    const where = {
      databasePath: path.join(tmp.dir, "lectern.sqlite"),
      databaseUrl: dialect === "postgres" ? await testDatabaseUrl() : null,
    };
    const connections: Database[] = [];
    for (let i = 0; i < (dialect === "postgres" ? 4 : 1); i++) {
      const db = await openDatabase(where);
      cleanups.unshift(() => db.close());
      connections.push(db);
    }
    const first = connections[0];
    let seed = 42;
    const random = (n: number) => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return Math.floor((seed / 2 ** 31) * n);
    };
    const inboxOf = (i: number, variant: number) => {
      const host = hostOf(i % 6);
      // A third of the followers have no shared inbox; the rest use one of two per server (a server
      // moving its shared inbox), so a change of inbox moves a follower between targets.
      if (variant === 0) return { inbox: `http://${host}/users/u${i}/inbox`, sharedInbox: null };
      return { inbox: `http://${host}/users/u${i}/inbox`, sharedInbox: `http://${host}/inbox${variant}` };
    };
    const operation = async (db: Database, step: number): Promise<void> => {
      const i = random(40);
      const actorIri = actorOf(i);
      const kind = random(40);
      switch (kind < 18 ? 0 : kind < 24 ? 2 : kind < 30 ? 3 : kind < 36 ? 4 : kind === 36 ? 5 : 6) {
        case 0:
          await addFollower(db, {
            actorIri,
            followIri: `${actorIri}#follow${step}`,
            ...inboxOf(i, random(3)),
            handle: null,
            status: random(3) === 0 ? "pending" : "accepted",
          });
          return;
        case 2:
          await markAccepted(db, actorIri);
          return;
        case 3:
          await deleteFollowerRow(db, actorIri);
          return;
        case 4: {
          // The follower moved to a new account on another server: the old row goes, the new one comes.
          const j = random(40);
          await deleteFollowerRow(db, actorIri);
          await addFollower(db, { actorIri: actorOf(j), followIri: null, ...inboxOf(j, 1 + random(2)), handle: null });
          return;
        }
        case 5: {
          // A block of the whole server removes its followers (as blockDomain does).
          const host = hostOf(random(6));
          await db.run(sql`DELETE FROM followers WHERE host = ${host}`);
          return;
        }
        default:
          // The same follower again (a repeated Follow): no change to the targets.
          await addFollower(db, { actorIri, followIri: null, ...inboxOf(i, 1), handle: null });
      }
    };
    let step = 0;
    await Promise.all(
      connections.map(async (db) => {
        for (let k = 0; k < 300; k++) await operation(db, step++);
      }),
    );
    const expected = await expectedTargets(first);
    expect(Object.keys(expected).length).toBeGreaterThan(5);
    expect(await keptTargets(first)).toEqual(expected);
    expect(Number(await scalar(first, "SELECT count(*) FROM delivery_targets WHERE followers < 0"))).toBe(0);
    // Each target belongs to the partition of its server, as the deliveries do.
    const wrong = await first.all(
      sql`SELECT inbox FROM delivery_targets WHERE partition <> lectern_partition(host, 64) LIMIT 1`,
    );
    expect(wrong).toEqual([]);
  }, 60_000);

  it("are built from today's followers by the upgrade, which also folds finished deliveries into counts", async () => {
    const tmp = tempDir();
    cleanups.push(tmp.remove);
    const where = {
      databasePath: path.join(tmp.dir, "lectern.sqlite"),
      databaseUrl: dialect === "postgres" ? await testDatabaseUrl() : null,
    };
    const journal = JSON.parse(readFileSync(`drizzle/${dialect}/meta/_journal.json`, "utf8")) as {
      entries: { tag: string }[];
    };
    const before = journal.entries.findIndex((e) => e.tag.endsWith("_delivery_targets"));
    expect(before).toBeGreaterThan(0);
    const db =
      dialect === "postgres"
        ? new (await import("../src/storage/postgres.ts")).PostgresDatabase(where.databaseUrl as string)
        : new (await import("../src/storage/sqlite.ts")).SqliteDatabase(where.databasePath);
    cleanups.unshift(() => db.close());
    await migrate(db, { first: before });
    // The schema of the version before: followers, and deliveries marked delivered or being sent.
    for (let i = 0; i < 30; i++) {
      const { inbox, sharedInbox } =
        i % 3 === 0
          ? { inbox: `http://${hostOf(i % 6)}/users/u${i}/inbox`, sharedInbox: null }
          : { inbox: `http://${hostOf(i % 6)}/users/u${i}/inbox`, sharedInbox: `http://${hostOf(i % 6)}/inbox` };
      await db.run(
        sql`INSERT INTO followers (actor_iri, inbox, shared_inbox, host, status, created_at)
            VALUES (${actorOf(i)}, ${inbox}, ${sharedInbox}, ${hostOf(i % 6)}, ${i % 5 === 0 ? "pending" : "accepted"}, 1)`,
      );
    }
    await db.run(
      sql`INSERT INTO outgoing (id, activity_iri, kind, post_id, body, pruned_delivered, created_at)
          VALUES (1, 'http://127.0.0.1:9/a', 'Create', 'p1', '{}', 5, 1)`,
    );
    for (const [i, status] of ["delivered", "delivered", "sending", "pending", "failed"].entries()) {
      await db.run(
        sql`INSERT INTO deliveries (outgoing_id, post_id, inbox, host, status, next_attempt_at, updated_at, owner)
            VALUES (1, 'p1', ${`http://${hostOf(i)}/inbox`}, ${hostOf(i)}, ${status}, 1, 1, ${status === "sending" ? "w" : null})`,
      );
    }
    await migrate(db);
    expect(await keptTargets(db)).toEqual(await expectedTargets(db));
    // Eight accepted followers with a personal inbox, four servers with a shared one.
    expect(Object.keys(await keptTargets(db)).length).toBe(8 + 4);
    // Ten queued, seven of them delivered (five pruned before, two rows); nothing marked as being sent.
    expect(Number(await scalar(db, "SELECT queued FROM outgoing WHERE id = 1"))).toBe(10);
    expect(await deliveryProgress(db, "p1")).toMatchObject({ due: 10, delivered: 7, refused: 1, waiting: 2 });
    expect((await column(db, "SELECT status FROM deliveries ORDER BY id")).map(String)).toEqual([
      "pending",
      "pending",
      "failed",
    ]);
    expect(await db.get(sql`SELECT id FROM outgoing WHERE queued_all = ${false}`)).toBeUndefined();
    // And the triggers keep them from now on.
    await deleteFollowerRow(db, actorOf(1));
    expect(await keptTargets(db)).toEqual(await expectedTargets(db));
  }, 60_000);

  // 50,000 in the test suite (its time budget); LECTERN_TEST_TARGETS=100000 npm test -- tests/fanout-queueing.test.ts
  // for the full size.
  it.runIf(crashScenarioOn(dialect))(
    "a SIGKILL in the middle of queueing a post for 50,000+ servers: every server is queued exactly once",
    async () => {
      const tmp = tempDir();
      cleanups.push(tmp.remove);
      const port = await freePort();
      const env = testEnv(tmp.dir, port, await databaseEnv(dialect));
      const db = await openDatabase({
        databaseUrl: env.LECTERN_DATABASE_URL ?? null,
        databasePath: path.join(tmp.dir, "lectern.sqlite"),
      });
      cleanups.unshift(() => db.close());
      // N followers on 500 servers, each with a personal inbox (N targets), made in SQL. The
      // servers are paused (a probe due next year), so nothing is sent: the test counts what was queued.
      const N = Number(process.env.LECTERN_TEST_TARGETS ?? 50_000);
      const series =
        dialect === "postgres"
          ? sql`SELECT g AS i FROM generate_series(0, ${N - 1}) AS g`
          : sql`WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < ${N - 1}) SELECT i FROM s`;
      const host = sql.raw("'127.0.0.1:' || CAST(1000 + (i % 500) AS text)");
      await db.run(
        sql`INSERT INTO followers (actor_iri, inbox, host, status, created_at)
          SELECT 'http://' || ${host} || '/users/u' || CAST(i AS text),
                 'http://' || ${host} || '/users/u' || CAST(i AS text) || '/inbox', ${host}, 'accepted', 1
          FROM (${series}) AS numbers`,
      );
      const nextYear = Date.now() + 365 * 86_400_000;
      await db.run(
        sql`INSERT INTO servers (host, failing_since, failure_days, probe_at)
          SELECT DISTINCT host, 1, 9, CAST(${nextYear} AS bigint) FROM followers`,
      );
      expect(Number(await scalar(db, "SELECT count(*) FROM delivery_targets WHERE followers = 1"))).toBe(N);

      let lectern = await startLecternProcess({ ...env, LECTERN_DELIVERY_WORKERS: "1" });
      cleanups.unshift(() => lectern.stop());
      const posted = await runCli(["post", "--text", "Queued once"], env);
      expect(posted.code, posted.stderr).toBe(0);
      // Killed once some of it is queued and before all of it is.
      const queued = async () =>
        Number(
          await scalar(
            db,
            "SELECT count(*) FROM deliveries d JOIN outgoing o ON o.id = d.outgoing_id WHERE o.kind = 'Create'",
          ),
        );
      await waitFor(async () => (await queued()) > 0, 30_000, "queueing to start");
      for (const pid of lectern.pids()) {
        try {
          process.kill(pid, "SIGKILL");
        } catch (error) {
          // A process of the tree that ended between the listing and the kill.
          if ((error as NodeJS.ErrnoException).code !== "ESRCH") throw error;
        }
      }
      const atKill = await queued();
      expect(atKill).toBeGreaterThan(0);
      expect(atKill).toBeLessThan(N);
      expect(await db.get(sql`SELECT id FROM outgoing WHERE kind = 'Create' AND queued_all = ${false}`)).toBeDefined();

      lectern = await startLecternProcess({ ...env, LECTERN_DELIVERY_WORKERS: "1" });
      cleanups.unshift(() => lectern.stop());
      await waitFor(
        async () =>
          (await db.get(sql`SELECT id FROM outgoing WHERE kind = 'Create' AND queued_all = ${true}`)) !== undefined,
        60_000,
        "queueing to finish after the restart",
      );
      expect(await queued()).toBe(N);
      expect(
        Number(
          await scalar(
            db,
            "SELECT count(DISTINCT inbox) FROM deliveries d JOIN outgoing o ON o.id = d.outgoing_id WHERE o.kind = 'Create'",
          ),
        ),
      ).toBe(N);
      const status = await runCli(["status"], env);
      expect(status.stdout).toContain("fan-outs being queued: 0");
      console.log(`${dialect}: killed with ${atKill} of ${N} deliveries queued; ${N} after the restart, each once`);
    },
    180_000,
  );
});
