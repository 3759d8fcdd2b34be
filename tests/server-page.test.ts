import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { recordSample } from "../src/delivery/samples.ts";
import { createStaff } from "../src/product/access/staff.ts";
import { addFollower } from "../src/product/followers.ts";
import { publishPost } from "../src/product/publish.ts";
import { sql } from "../src/storage/sql.ts";
import { signIn } from "./helpers/desk.ts";
import { startTestLectern, type TestLectern, tempDir, waitFor } from "./helpers/lectern.ts";
import { type Sink, startSink } from "./helpers/sink.ts";

// The desk's Server page: what the owner looks at when posts seem slow to arrive.
describe("the desk's Server page", () => {
  let tmp: ReturnType<typeof tempDir>;
  let lectern: TestLectern;
  let healthy: Sink;
  let failing: Sink;

  beforeAll(async () => {
    tmp = tempDir();
    lectern = await startTestLectern(tmp.dir, { env: { LECTERN_DELIVERY_MAX_ATTEMPTS: "50" } });
    healthy = await startSink();
    failing = await startSink({ behaviour: 500, host: "127.0.0.2" });
    for (const [i, s] of [healthy, failing].entries())
      await addFollower(lectern.server.lectern.db, {
        actorIri: `${s.origin.origin}/users/u${i}`,
        followIri: null,
        inbox: s.inbox("/users/u/inbox"),
        sharedInbox: s.inbox(),
        handle: null,
      });
  });
  afterAll(async () => {
    await lectern?.stop();
    await healthy?.close();
    await failing?.close();
    tmp?.remove();
  });

  it("shows the backlog and pace over time, why deliveries fail, and the failing server's last error", async () => {
    const db = lectern.server.lectern.db;
    await publishPost(lectern.server.lectern.context(), { text: "Watched from the desk" });
    await waitFor(() => healthy.requests.length === 1 && failing.requests.length >= 2, 20_000, "a success and retries");
    // Samples as a worker writes them each minute: three minutes of history.
    const now = Date.now();
    for (const at of [now - 120_000, now - 60_000, now]) await recordSample(db, at);
    expect(Number((await db.get<{ n: number }>(sql`SELECT count(*) AS n FROM server_samples`))?.n)).toBe(3);

    const cookie = await signIn(lectern);
    const res = await fetch(new URL("/admin/server", lectern.origin), { headers: { Cookie: cookie } });
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toMatch(
      /<figure class="card chart" id="chart-backlog"><figcaption>Deliveries waiting: \d+ deliveries now, at most \d+ over the 3 minutes shown\.<\/figcaption><svg/,
    );
    expect(html).toContain('id="chart-pace"');
    expect(html).toMatch(/<td>server error \(5xx\)<\/td><td>1<\/td><td>1<\/td>/);
    expect(html).toContain(`<td>${failing.origin.host}</td>`);
    expect(html).toContain("<code>HTTP 500");
    expect(html).toMatch(/Database: [\d.]+ (kB|MB)/);
    expect(html).toContain('<a href="/admin/server">Server</a>');
    // Samples older than a week are forgotten when the next is written.
    await recordSample(db, now + 8 * 86_400_000);
    expect(Number((await db.get<{ n: number }>(sql`SELECT count(*) AS n FROM server_samples`))?.n)).toBe(1);
  });

  it("is the owner's: an editor is refused", async () => {
    await createStaff(lectern.server.lectern.db, { username: "ed", role: "editor", password: "the editor's password" });
    const login = await fetch(new URL("/admin/login", lectern.origin), {
      method: "POST",
      redirect: "manual",
      headers: { Origin: lectern.origin.origin, "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ username: "ed", password: "the editor's password" }),
    });
    const cookie = (login.headers.get("set-cookie") ?? "").split(";")[0];
    const res = await fetch(new URL("/admin/server", lectern.origin), { headers: { Cookie: cookie } });
    expect(res.status).toBe(403);
    expect(await res.text()).not.toContain("Why deliveries fail");
  });
});
