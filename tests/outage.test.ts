import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deliveryProgress } from "../src/delivery/progress.ts";
import { addFollower } from "../src/product/followers.ts";
import { publishPost } from "../src/product/publish.ts";
import { sql } from "../src/storage/sql.ts";
import { startTestLectern, type TestLectern, tempDir, waitFor } from "./helpers/lectern.ts";
import { type PostgresServer, startPostgres } from "./helpers/postgres-server.ts";
import { type Sink, startSink } from "./helpers/sink.ts";

/** A PostgreSQL of its own, stopped and started again while Lectern runs. */
describe("PostgreSQL restarting while Lectern runs", () => {
  let pg: PostgresServer;
  let lectern: TestLectern;
  let sink: Sink;
  const tmp = tempDir();

  beforeAll(async () => {
    pg = await startPostgres();
    lectern = await startTestLectern(tmp.dir, { env: { LECTERN_DATABASE_URL: pg.url } });
    sink = await startSink();
    await addFollower(lectern.server.lectern.db, {
      actorIri: `${sink.origin.origin}/users/a`,
      followIri: null,
      inbox: sink.inbox("/users/a/inbox"),
      sharedInbox: sink.inbox(),
      handle: null,
    });
  });
  afterAll(async () => {
    await lectern?.stop();
    await sink?.close();
    await pg?.stop();
    tmp.remove();
  });

  it("answers 503 with Retry-After while it is away, then serves and delivers again; nothing is lost", async () => {
    const ctx = lectern.server.lectern.context();
    const before = await publishPost(ctx, { text: "Before the outage" });
    await waitFor(() => sink.requests.length === 1, 15_000, "the first post");
    // Recorded as delivered before the database goes (a success not yet written when it goes is sent again).
    await waitFor(
      async () => (await deliveryProgress(lectern.server.lectern.db, before.id)).delivered === 1,
      15_000,
      "the first delivery to be recorded",
    );

    const ready = await fetch(new URL("/readyz", lectern.origin));
    expect([ready.status, await ready.text(), ready.headers.get("cache-control")]).toEqual([200, "ready", "no-store"]);
    await pg.halt();
    // Not ready while the database is away (and says why), yet alive.
    const away = await fetch(new URL("/readyz", lectern.origin));
    expect(away.status).toBe(503);
    expect(await away.text()).toMatch(/^not ready\ndatabase: /);
    expect((await fetch(new URL("/livez", lectern.origin))).status).toBe(200);
    const during = await fetch(new URL("/", lectern.origin), { headers: { Accept: "text/html" } });
    expect(during.status).toBe(503);
    expect(during.headers.get("retry-after")).toMatch(/^\d+$/);
    const signin = await fetch(new URL("/admin/login", lectern.origin), {
      method: "POST",
      body: new URLSearchParams({ username: "owner", password: "whatever" }),
      headers: { Origin: lectern.origin.origin },
    });
    expect(signin.status).toBe(503);
    // The workers back off instead of crashing; the server is still up.
    await new Promise((r) => setTimeout(r, 1_500));
    expect((await fetch(new URL("/health", lectern.origin))).status).toBe(200);

    await pg.resume();
    // The first request after the restart waits for the driver to give up its dead connections
    // (10–20 s here); it is answered then, and the ones after at once.
    await waitFor(
      async () => (await fetch(new URL("/", lectern.origin), { headers: { Accept: "text/html" } })).status === 200,
      45_000,
      "pages to come back",
    );
    await waitFor(async () => (await fetch(new URL("/readyz", lectern.origin))).status === 200, 30_000, "ready again");
    await publishPost(ctx, { text: "After the outage" });
    // The workers' partition leases ran out during the outage: they are taken again first (slower on a busy machine).
    await waitFor(() => sink.requests.length === 2, 40_000, "the second post").catch(async (error) => {
      // Where it stands, for whoever reads a failure: the post, its deliveries, the workers' leases.
      const db = lectern.server.lectern.db;
      console.error({
        posts: await db.all(sql`SELECT id, queued_at, deleted_at FROM posts ORDER BY published_at`),
        deliveries: await db.all(sql`SELECT id, status, attempts, last_error, next_attempt_at FROM deliveries`),
        leases: await db.all(sql`SELECT name, owner, expires_at FROM leases WHERE name LIKE 'worker:%'`),
        now: Date.now(),
      });
      throw error;
    });
    expect(JSON.parse(sink.requests[1].body).object.content).toContain("After the outage");
  }, 120_000);
});
