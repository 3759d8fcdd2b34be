import path from "node:path";
import { testMessageQueue } from "@fedify/testing";
import { afterEach, describe, expect, it } from "vitest";
import { withDeadline } from "../src/delivery/deadline.ts";
import { LEASE_MS, PARTITIONS, PartitionLeases } from "../src/delivery/partitions.ts";
import { listVersions } from "../src/product/posts.ts";
import { publishDelete, publishEdit, publishPost } from "../src/product/publish.ts";
import { Temporal } from "../src/shared/temporal.ts";
import type { Database } from "../src/storage/database.ts";
import { DatabaseKvStore } from "../src/storage/kv.ts";
import { acquireLease, liveLeases } from "../src/storage/leases.ts";
import { openDatabase } from "../src/storage/open.ts";
import { DatabaseMessageQueue } from "../src/storage/queue.ts";
import { type Sql, sql } from "../src/storage/sql.ts";
import { DIALECTS, databaseEnv, freshDatabase, testDatabaseUrl } from "./helpers/databases.ts";
import { startTestLectern, tempDir, waitFor } from "./helpers/lectern.ts";
import { scalar } from "./helpers/rows.ts";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

describe.each(DIALECTS)("the message queue and key-value store on %s", (dialect) => {
  /** A fresh database (a SQLite file, or a new PostgreSQL database); every open() of it is another connection. */
  async function dbFile(): Promise<{ databasePath: string; databaseUrl: string | null }> {
    const tmp = tempDir();
    cleanups.push(tmp.remove);
    return {
      databasePath: path.join(tmp.dir, "lectern.sqlite"),
      databaseUrl: dialect === "postgres" ? await testDatabaseUrl() : null,
    };
  }

  async function open(where: { databasePath: string; databaseUrl: string | null }): Promise<Database> {
    const db = await openDatabase(where);
    cleanups.unshift(() => db.close());
    return db;
  }

  describe("DatabaseMessageQueue", () => {
    it("passes Fedify's message queue test suite, ordering keys included", async () => {
      const file = await dbFile();
      await testMessageQueue(
        async () => new DatabaseMessageQueue(await open(file), { pollMs: 20 }),
        ({ controller }) => controller.abort(),
        { testOrderingKey: true },
      );
    }, 60_000);

    it("keeps queued and delayed messages across a restart of the process", async () => {
      const file = await dbFile();
      const first = await open(file);
      const q1 = new DatabaseMessageQueue(first);
      await q1.enqueue({ n: 1 });
      // The delay counts from the enqueue (reopening the database may take a while on a loaded machine).
      const enqueued = Date.now();
      await q1.enqueue({ n: 2 }, { delay: Temporal.Duration.from({ milliseconds: 400 }) });
      await first.close();

      const q2 = new DatabaseMessageQueue(await open(file), { pollMs: 20 });
      const seen: { n: number; at: number }[] = [];
      const controller = new AbortController();
      const listening = q2.listen((m) => void seen.push({ ...(m as { n: number }), at: Date.now() - enqueued }), {
        signal: controller.signal,
      });
      await waitFor(() => seen.length === 2, 15_000, "both messages");
      controller.abort();
      await listening;
      expect(seen.map((s) => s.n)).toEqual([1, 2]);
      expect(seen[1].at).toBeGreaterThanOrEqual(400);
      expect((await q2.getDepth()).queued).toBe(0);
    });

    it("hands a message whose worker died to another worker once its lease runs out", async () => {
      const file = await dbFile();
      const db = await open(file);
      await new DatabaseMessageQueue(db).enqueue({ job: "deliver" });
      // A worker of a process that was then killed claimed it: a lease nobody renews.
      const claimedAt = Date.now();
      await db.run(sql`UPDATE queue SET locked_until = ${claimedAt + 400}`);

      const survivor = new DatabaseMessageQueue(await open(file), { leaseMs: 400, pollMs: 20 });
      const handled: { message: unknown; at: number }[] = [];
      const controller = new AbortController();
      const listening = survivor.listen((m) => void handled.push({ message: m, at: Date.now() }), {
        signal: controller.signal,
      });
      await waitFor(() => handled.length === 1, 3_000, "the survivor to take the message");
      controller.abort();
      await listening;
      expect(handled[0].message).toEqual({ job: "deliver" });
      expect(handled[0].at - claimedAt).toBeGreaterThanOrEqual(390);
    });

    it("renews the lease of a slow handler so no other worker takes its message", async () => {
      const file = await dbFile();
      const a = new DatabaseMessageQueue(await open(file), { leaseMs: 400, pollMs: 10 });
      const b = new DatabaseMessageQueue(await open(file), { leaseMs: 400, pollMs: 10 });
      await a.enqueue({ slow: true });
      let runs = 0;
      const controller = new AbortController();
      const handler = async () => {
        runs++;
        await new Promise((r) => setTimeout(r, 2_000)); // five leases long
      };
      const listening = [
        a.listen(handler, { signal: controller.signal }),
        b.listen(handler, { signal: controller.signal }),
      ];
      await waitFor(() => runs === 1, 2_000, "one worker to start");
      await new Promise((r) => setTimeout(r, 2_200));
      controller.abort();
      await Promise.all(listening);
      expect(runs).toBe(1);
      expect((await a.getDepth()).queued).toBe(0);
    });

    it("retries a message whose handler throws, then drops it after the last attempt", async () => {
      const db = await open(await dbFile());
      let now = Date.now();
      const q = new DatabaseMessageQueue(db, { pollMs: 10, maxHandlerAttempts: 3, now: () => now });
      await q.enqueue({ bad: true });
      let calls = 0;
      const controller = new AbortController();
      const listening = q.listen(
        () => {
          calls++;
          throw new Error("boom");
        },
        { signal: controller.signal },
      );
      await waitFor(
        async () => {
          now += 10_000; // past any retry delay
          return calls === 3 && (await scalar(db, "SELECT count(*) FROM queue")) === 0;
        },
        // 0.4 s alone; generous for a machine the whole suite loads.
        45_000,
        "three attempts",
      );
      controller.abort();
      await listening;
      expect(calls).toBe(3);
    });
  });

  describe("DatabaseKvStore", () => {
    it("gets, sets, deletes, expires, compares-and-swaps and lists by prefix", async () => {
      const kv = new DatabaseKvStore(await open(await dbFile()));
      await kv.set(["a", "b"], { x: 1 });
      await kv.set(["a", "b", "c"], [1, 2]);
      await kv.set(["a", "bc"], "not under a/b");
      await kv.set(["z"], 42, { ttl: Temporal.Duration.from({ milliseconds: 50 }) });
      expect(await kv.get(["a", "b"])).toEqual({ x: 1 });
      expect(await kv.get(["missing"])).toBeUndefined();
      expect(await kv.get(["z"])).toBe(42);

      const listed: unknown[] = [];
      for await (const e of kv.list(["a", "b"])) listed.push(e.key);
      expect(listed).toHaveLength(2);
      expect(listed).toEqual(
        expect.arrayContaining([
          ["a", "b"],
          ["a", "b", "c"],
        ]),
      );

      expect(await kv.cas(["a", "b"], { x: 2 }, "no")).toBe(false);
      expect(await kv.cas(["a", "b"], { x: 1 }, "yes")).toBe(true);
      expect(await kv.get(["a", "b"])).toBe("yes");
      expect(await kv.cas(["new"], undefined, 1)).toBe(true);

      await kv.delete(["a", "bc"]);
      expect(await kv.get(["a", "bc"])).toBeUndefined();

      await new Promise((r) => setTimeout(r, 80));
      expect(await kv.get(["z"])).toBeUndefined();
      expect(await kv.purgeExpired()).toBe(1);
    });
  });
});

describe.each(DIALECTS)("delivery partitions on %s", (dialect) => {
  it("are given up only when idle, and leave the worker's list before their lease goes", async () => {
    const db = await freshDatabase(dialect, cleanups);
    // Each partition given up must have left the worker's list before its lease is deleted: a claim
    // starting in between must not name a partition another worker may own by then.
    const stillListed: string[] = [];
    const watched = new Proxy(db, {
      get(target, key) {
        const value = Reflect.get(target, key);
        if (key !== "run") return typeof value === "function" ? value.bind(target) : value;
        return async (query: Sql) => {
          const name = query.values[0];
          if (query.strings[0].startsWith("DELETE FROM leases") && typeof name === "string") {
            if (a.current().includes(Number(name.slice("partition:".length)))) stillListed.push(name);
          }
          return await target.run(query);
        };
      },
    });
    let claiming = true; // a claim in progress, as the worker reports it: every partition is busy
    const a = new PartitionLeases(watched, "worker-a", { busy: () => claiming });
    await a.tick();
    expect(a.current()).toHaveLength(PARTITIONS);
    // A second worker comes alive: worker A's share is now half the partitions.
    await acquireLease(db, "worker:worker-b", "worker-b", LEASE_MS, Date.now());
    await a.tick();
    expect(a.current()).toHaveLength(PARTITIONS); // nothing given up under a claim

    claiming = false;
    await a.tick();
    expect(a.current()).toHaveLength(PARTITIONS / 2); // idle ones over the share are left for the new worker
    const held = await liveLeases(db, "partition:", Date.now());
    expect(held.filter((l) => l.owner === "worker-a")).toHaveLength(PARTITIONS / 2);
    expect(stillListed).toEqual([]);
  });
});

describe("a database call that never answers", () => {
  it("is given up after its deadline, so a delivery loop goes on; one that answers passes through", async () => {
    const started = Date.now();
    await expect(withDeadline(new Promise(() => {}), 200, "a lost query")).rejects.toThrow(
      /a lost query got no answer in 0.2 s/,
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    await expect(withDeadline(Promise.resolve(42), 200, "a quick query")).resolves.toBe(42);
    await expect(withDeadline(Promise.reject(new Error("refused")), 200, "a failed query")).rejects.toThrow("refused");
  });
});

describe.each(DIALECTS)("edit history on %s", (dialect) => {
  it("keeps each version an edit replaces, oldest first, and erases them with the post", async () => {
    const tmp = tempDir();
    cleanups.push(tmp.remove);
    const lectern = await startTestLectern(tmp.dir, { env: await databaseEnv(dialect) });
    cleanups.unshift(() => lectern.stop());
    const ctx = lectern.server.lectern.context();
    const post = await publishPost(ctx, { text: "First **draft**", summary: "CW", sensitive: true });
    await publishEdit(ctx, post.id, { text: "Second" });
    await publishEdit(ctx, post.id, { text: "Third", language: "de" });
    const versions = await listVersions(lectern.server.lectern.db, post.id);
    expect(versions.map((v) => [v.contentHtml, v.summary, v.sensitive, v.language])).toEqual([
      ["<p>First <strong>draft</strong></p>", "CW", true, "en"],
      ["<p>Second</p>", null, false, "en"],
    ]);
    expect(versions[0].at).toBe(post.publishedAt);
    expect(versions[1].at).toBeGreaterThan(post.publishedAt);
    await publishDelete(ctx, post.id);
    expect(await listVersions(lectern.server.lectern.db, post.id)).toEqual([]);
  });
});
