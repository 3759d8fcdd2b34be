import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tokenForScript } from "../src/product/access/oauth.ts";
import { findStaff } from "../src/product/access/staff.ts";
import type { Channel } from "../src/product/outbox.ts";
import type { Post } from "../src/product/posts.ts";
import { runCli } from "./helpers/cli.ts";
import { signIn } from "./helpers/desk.ts";
import { startTestLectern, type TestLectern, tempDir, waitFor } from "./helpers/lectern.ts";

type Json = Record<string, any>;

/** A second way out, as an email or push sender would be one: it writes down each post fact it hears. */
function recorder(): Channel & { heard: string[] } {
  const heard: string[] = [];
  return {
    heard,
    postPublished: async (post: Post) => async () => void heard.push(`published ${post.id}`),
    postEdited: async (post: Post) => void heard.push(`edited ${post.id}`),
    postDeleted: async (post: Post) => void heard.push(`deleted ${post.id}`),
  };
}

const count = (heard: string[], fact: string) => heard.filter((h) => h === fact).length;

// Publishing is one event that every channel hears: a post from the desk, the CLI, an app and the scheduler
// reaches a second channel registered beside the fediverse once, and so do its edit and its deletion, also
// when the server was stopped while the post was written.
describe("a second channel beside the fediverse", () => {
  let tmp: ReturnType<typeof tempDir>;
  let lectern: TestLectern;
  let channel: ReturnType<typeof recorder>;
  let clock = Date.now();
  const origin = () => lectern.origin.origin;
  let token = "";
  let cookie = "";

  beforeAll(async () => {
    tmp = tempDir();
    channel = recorder();
    lectern = await startTestLectern(tmp.dir, { channels: [channel], now: () => clock });
    cookie = await signIn(lectern); // first: setting the password would end the token made below
    const owner = await findStaff(lectern.server.lectern.db, "owner");
    token = await tokenForScript(lectern.server.lectern.db, owner?.id as number, "Channel test", "read write");
  });
  afterAll(async () => {
    await lectern?.stop();
    tmp?.remove();
  });

  const api = async (method: string, path: string, body?: unknown) =>
    (await (
      await fetch(new URL(path, origin()), {
        method,
        headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      })
    ).json()) as Json;
  const idOf = (url: string) => url.split("/").pop() as string;

  it("hears each post published from the desk, the CLI, an app and the scheduler once, then its edit and deletion", async () => {
    const ids: string[] = [];
    // The desk.
    const page = await (await fetch(new URL("/admin", origin()), { headers: { cookie } })).text();
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page)?.[1] as string;
    const desk = await fetch(new URL("/admin/posts", origin()), {
      method: "POST",
      redirect: "manual",
      headers: { cookie, Origin: origin(), "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ _csrf: csrf, text: "From the desk", action: "publish" }),
    });
    expect(desk.status).toBe(303);
    ids.push(/\/admin\/posts\/([0-9a-f-]{36})/.exec(desk.headers.get("location") ?? "")?.[1] as string);
    // The CLI (another process: the server's worker claims the post).
    const cli = await runCli(["post", "--text", "From the command line"], lectern.env);
    expect(cli.code, cli.stderr).toBe(0);
    ids.push(idOf(cli.stdout.trim()));
    // An app.
    ids.push((await api("POST", "/api/v1/statuses", { status: "From an app" })).id);
    // The scheduler, ten minutes on.
    const scheduled = await api("POST", "/api/v1/statuses", {
      status: "From the scheduler",
      scheduled_at: new Date(clock + 10 * 60_000).toISOString(),
    });
    expect(scheduled.scheduled_at, JSON.stringify(scheduled)).toBeTruthy();
    clock += 11 * 60_000;
    const fromScheduler = await waitFor(
      async () =>
        (await api("GET", "/api/v1/timelines/home")).find((s: Json) => s.content.includes("From the scheduler"))?.id,
      10_000,
      "the scheduled post",
    );
    ids.push(fromScheduler);
    for (const id of ids) await waitFor(() => count(channel.heard, `published ${id}`) === 1, 10_000, `post ${id}`);

    // Edited and deleted through the app: heard once each.
    for (const id of ids) {
      await api("PUT", `/api/v1/statuses/${id}`, { status: "Edited" });
      await api("DELETE", `/api/v1/statuses/${id}`);
    }
    await new Promise((r) => setTimeout(r, 500)); // a worker round: nothing is heard twice
    for (const id of ids) {
      expect(count(channel.heard, `published ${id}`)).toBe(1);
      expect(count(channel.heard, `edited ${id}`)).toBe(1);
      expect(count(channel.heard, `deleted ${id}`)).toBe(1);
    }
  });

  it("hears a post written while the server was stopped once, after it starts; none heard before is heard again", async () => {
    const before = channel.heard.length;
    await lectern.stop();
    const cli = await runCli(["post", "--text", "Written while stopped"], lectern.env);
    expect(cli.code, cli.stderr).toBe(0);
    const id = idOf(cli.stdout.trim());
    const after = recorder();
    lectern = await startTestLectern(tmp.dir, { port: Number(lectern.origin.port), channels: [after] });
    await waitFor(() => count(after.heard, `published ${id}`) === 1, 10_000, "the post written while stopped");
    await new Promise((r) => setTimeout(r, 500));
    expect(after.heard, JSON.stringify(after.heard)).toEqual([`published ${id}`]);
    expect(channel.heard.length).toBe(before);
  });
});
