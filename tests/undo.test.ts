import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listAudit } from "../src/product/access/audit.ts";
import { tokenForScript } from "../src/product/access/oauth.ts";
import { findStaff } from "../src/product/access/staff.ts";
import { submitPost, undoPost } from "../src/product/undo.ts";
import { openDatabase } from "../src/storage/open.ts";
import { runCli } from "./helpers/cli.ts";
import { crashScenarioOn, DIALECTS, databaseEnv } from "./helpers/databases.ts";
import { signIn } from "./helpers/desk.ts";
import { freePort, startTestLectern, type TestLectern, tempDir, testEnv, waitFor } from "./helpers/lectern.ts";
import { createsWith, followFromSinks, type Sink, startSink } from "./helpers/sink.ts";
import { processTree, startLecternProcess } from "./helpers/started.ts";

const AP = { Accept: "application/activity+json" };
const creates = createsWith;

// publish.undo_seconds: a post waits, undoable, before anything of it leaves or shows.
describe.each(DIALECTS)("the undo window on %s", (dialect) => {
  let tmp: ReturnType<typeof tempDir>;
  let lectern: TestLectern;
  let sink: Sink;
  const get = (path: string, headers: Record<string, string> = {}) => fetch(new URL(path, lectern.origin), { headers });

  beforeAll(async () => {
    tmp = tempDir();
    // Long enough for a CLI command to run inside it on a loaded machine.
    lectern = await startTestLectern(tmp.dir, { dialect, env: { LECTERN_UNDO_SECONDS: "6" } });
    sink = await startSink();
    await followFromSinks(lectern.server.lectern.db, [sink]);
  });
  afterAll(async () => {
    await lectern?.stop();
    await sink?.close();
    tmp?.remove();
  });

  it("shows and sends nothing during the window, then goes out once under the id it was given", async () => {
    const posted = await runCli(["post", "--text", "Held for six seconds"], lectern.env);
    expect(posted.code, posted.stderr).toBe(0);
    const url = new URL(posted.stdout.trim());
    const id = url.pathname.split("/").pop() as string;
    expect(posted.stderr).toContain(`to take it back: npm run -s lectern -- undo ${id}`);
    // In its window: on no page, feed, outbox or inbox.
    await new Promise((r) => setTimeout(r, 1000));
    expect((await get(url.pathname, AP)).status).toBe(404);
    expect((await get(url.pathname, { Accept: "text/html" })).status).toBe(404);
    expect(await (await get("/feed.atom")).text()).not.toContain("Held for six seconds");
    expect(await (await get("/users/desk/outbox?cursor=newest", AP)).text()).not.toContain("Held for six");
    expect(await (await get("/api/v1/timelines/public")).text()).not.toContain("Held for six");
    expect(creates(sink, "Held for six")).toHaveLength(0);
    // At the deadline it leaves, once.
    await waitFor(() => creates(sink, "Held for six").length === 1, 10_000, "the post at its deadline");
    expect(JSON.parse(creates(sink, "Held for six")[0].body).object.id).toBe(url.href);
    expect((await get(url.pathname, AP)).status).toBe(200);
    await new Promise((r) => setTimeout(r, 1500));
    expect(creates(sink, "Held for six")).toHaveLength(1);
    // Too late to undo now: said, and nothing changes.
    const late = await runCli(["undo", id], lectern.env);
    expect(late.code).toBe(65);
    expect(late.stderr).toContain("this post is already out");
  });

  it("Undo inside the window leaves no trace; a second Undo says so", async () => {
    const { post } = await submitPost(lectern.server.lectern.context(), { text: "Taken back in time" });
    const url = lectern.server.lectern.data.urls.post(post.id).href;
    // Taken back in-process (a CLI start on a loaded machine can outlast the window); the CLI's own undo is
    // what answers the second try below, and the late one in the test above.
    await undoPost(lectern.server.lectern.data, post.id);
    const again = await runCli(["undo", url], lectern.env);
    expect(again.code).toBe(65);
    expect(again.stderr).toContain("there is no post waiting with that id");
    await new Promise((r) => setTimeout(r, 7000));
    expect(creates(sink, "Taken back")).toHaveLength(0);
    expect((await get(new URL(url).pathname, AP)).status).toBe(404);
  });

  it("an app's post waits too: the app gets the status as it will be, under the id it keeps", async () => {
    const db = lectern.server.lectern.db;
    const owner = (await findStaff(db, "owner")) as { id: number };
    const token = await tokenForScript(db, owner.id, "Undo app", "read write");
    const res = await fetch(new URL("/api/v1/statuses", lectern.origin), {
      method: "POST",
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
      body: JSON.stringify({ status: "From an app, held" }),
    });
    expect(res.status).toBe(200);
    const status = (await res.json()) as { id: string; url: string; content: string };
    expect(status.content).toContain("From an app, held");
    expect((await get(`/api/v1/statuses/${status.id}`)).status).toBe(404);
    await waitFor(() => creates(sink, "From an app, held").length === 1, 10_000, "the app's post at its deadline");
    expect((await get(`/api/v1/statuses/${status.id}`)).status).toBe(200);
    expect(JSON.parse(creates(sink, "From an app, held")[0].body).object.url).toBe(status.url);
  });

  it("the desk counts down, and Send now publishes at once, in the audit log with the person", async () => {
    const cookie = await signIn(lectern);
    const origin = lectern.origin.origin;
    const form = (body: Record<string, string>) =>
      fetch(new URL("/admin/posts", origin), {
        method: "POST",
        redirect: "manual",
        headers: { Cookie: cookie, Origin: origin, "Content-Type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams(body),
      });
    const page = await (await get("/admin", { Cookie: cookie })).text();
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page)?.[1] as string;
    const sent = await form({ _csrf: csrf, text: "From the desk, sent early", action: "publish" });
    expect([sent.status, sent.headers.get("location")]).toEqual([303, "/admin?notice=held"]);
    const write = await (await get("/admin?notice=held", { Cookie: cookie })).text();
    expect(write).toContain("Sent. It goes out when its undo window ends");
    expect(write).toContain("<h2>Sending soon</h2>");
    const id = /data-held="([^"]+)"/.exec(write)?.[1] as string;
    expect(write).toMatch(/Sending at <time datetime="[^"]+">\d\d:\d\d:\d\d UTC<\/time>/);
    const now = await fetch(new URL(`/admin/posts/${id}/send-now`, origin), {
      method: "POST",
      redirect: "manual",
      headers: { Cookie: cookie, Origin: origin, "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ _csrf: csrf }),
    });
    expect([now.status, now.headers.get("location")]).toEqual([303, `/admin/posts/${id}?notice=published`]);
    expect((await get(`/posts/${id}`, AP)).status).toBe(200);
    await waitFor(() => creates(sink, "sent early").length === 1, 5_000, "the post sent now");
    // Undo after it went: too late, nothing changes.
    const late = await fetch(new URL(`/admin/posts/${id}/undo`, origin), {
      method: "POST",
      redirect: "manual",
      headers: { Cookie: cookie, Origin: origin, "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ _csrf: csrf }),
    });
    expect(late.headers.get("location")).toBe("/admin?error=undo-late");
    const log = await listAudit(lectern.server.lectern.db, 20);
    expect(log.items.some((e) => e.action === "send-now" && e.actor === "owner" && e.subject?.endsWith(id))).toBe(true);
  });
});

// A post in its window survives a crash of every process, and leaves exactly once after it.
describe("a held post across a SIGKILL", () => {
  it.each(DIALECTS.filter(crashScenarioOn))(
    "on %s: leaves once after the restart",
    async (dialect) => {
      const tmp = tempDir();
      const sink = await startSink();
      try {
        const env: Record<string, string> = {
          ...testEnv(tmp.dir, await freePort(), await databaseEnv(dialect)),
          LECTERN_UNDO_SECONDS: "2",
          LECTERN_WEB_PROCESSES: "1",
          LECTERN_DELIVERY_WORKERS: "1",
        };
        const db = await openDatabase({
          databaseUrl: env.LECTERN_DATABASE_URL ?? null,
          databasePath: `${tmp.dir}/lectern.sqlite`,
        });
        await followFromSinks(db, [sink]);
        await db.close();
        let server = await startLecternProcess(env);
        expect((await runCli(["post", "--text", "Held through a crash"], env)).code).toBe(0);
        for (const pid of processTree(server.process.pid as number).reverse()) process.kill(pid, "SIGKILL");
        await new Promise((r) => setTimeout(r, 2500));
        expect(creates(sink, "through a crash")).toHaveLength(0);
        server = await startLecternProcess(env);
        await waitFor(() => creates(sink, "through a crash").length === 1, 15_000, "the held post after the restart");
        await new Promise((r) => setTimeout(r, 1500));
        expect(creates(sink, "through a crash")).toHaveLength(1);
        await server.stop();
      } finally {
        await sink.close();
        tmp.remove();
      }
    },
    60_000,
  );
});
