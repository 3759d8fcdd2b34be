import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listAudit } from "../src/product/access/audit.ts";
import { tokenForScript } from "../src/product/access/oauth.ts";
import { createStaff } from "../src/product/access/staff.ts";
import { publishPost } from "../src/product/publish.ts";
import { DIALECTS } from "./helpers/databases.ts";
import { signIn } from "./helpers/desk.ts";
import { startTestLectern, type TestLectern, tempDir, waitFor } from "./helpers/lectern.ts";
import { createsWith, followFromSinks, type Sink, startSink } from "./helpers/sink.ts";

const creates = createsWith;

// A second pair of eyes: with the approval rule on, an editor's post goes out only when the owner approves it.
describe.each(DIALECTS)("approval of editors' posts on %s", (dialect) => {
  let tmp: ReturnType<typeof tempDir>;
  let lectern: TestLectern;
  let sink: Sink;
  let owner: string;
  let editor: string;
  let editorId: number;
  const origin = () => lectern.origin.origin;
  const csrfOf = async (cookie: string) =>
    /name="_csrf" value="([^"]+)"/.exec(
      await (await fetch(new URL("/admin", origin()), { headers: { Cookie: cookie } })).text(),
    )?.[1] as string;
  const post = async (cookie: string, path: string, body: Record<string, string>) =>
    fetch(new URL(path, origin()), {
      method: "POST",
      redirect: "manual",
      headers: { Cookie: cookie, Origin: origin(), "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ _csrf: await csrfOf(cookie), ...body }),
    });
  const writePage = async (cookie: string) =>
    (await fetch(new URL("/admin", origin()), { headers: { Cookie: cookie } })).text();

  beforeAll(async () => {
    tmp = tempDir();
    lectern = await startTestLectern(tmp.dir, { dialect });
    sink = await startSink();
    const db = lectern.server.lectern.db;
    await followFromSinks(db, [sink]);
    editorId = (await createStaff(db, { username: "ed", role: "editor", password: "the editor's password" })).staff.id;
    owner = await signIn(lectern);
    const login = await fetch(new URL("/admin/login", origin()), {
      method: "POST",
      redirect: "manual",
      headers: { Origin: origin(), "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ username: "ed", password: "the editor's password" }),
    });
    editor = (login.headers.get("set-cookie") ?? "").split(";")[0];
    expect((await post(owner, "/admin/staff/approval", { required: "1" })).status).toBe(303);
  });
  afterAll(async () => {
    await lectern?.stop();
    await sink?.close();
    tmp?.remove();
  });

  it("holds an editor's post until the owner approves it; the audit log names both people", async () => {
    const sent = await post(editor, "/admin/posts", { text: "Needs a second look", action: "publish" });
    expect([sent.status, sent.headers.get("location")]).toEqual([303, "/admin?notice=awaiting"]);
    const mine = await writePage(editor);
    // Before sending, the Write page says who a post reaches.
    expect(mine).toMatch(/<p class="hint audience-preview">Reaches 1 followers on 1 servers; leaves at once\.<\/p>/);
    expect(mine).toContain("Your posts waiting for approval");
    expect(mine).toContain("Waiting for the owner.");
    const id = /data-review="([^"]+)"/.exec(mine)?.[1] as string;
    // The editor cannot approve it, nor can their app publish around the rule.
    expect((await post(editor, `/admin/posts/${id}/approve`, {})).status).toBe(403);
    const token = await tokenForScript(lectern.server.lectern.db, editorId, "Editor's app", "read write");
    const api = await fetch(new URL("/api/v1/statuses", origin()), {
      method: "POST",
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
      body: JSON.stringify({ status: "Around the rule" }),
    });
    expect(api.status).toBe(403);
    expect(((await api.json()) as { error: string }).error).toContain("need the owner's approval");
    await new Promise((r) => setTimeout(r, 1500));
    expect(creates(sink, "second look")).toHaveLength(0);
    expect(creates(sink, "Around the rule")).toHaveLength(0);

    // The owner sees what would be sent, and to whom.
    const queue = await writePage(owner);
    expect(queue).toContain("Waiting for your approval");
    expect(queue).toContain("Needs a second look");
    expect(queue).toMatch(/Reaches 1 followers on 1 servers; leaves at once\./);
    // The owner may change it first (the editor may not); what Approve sends is the owner's version.
    expect((await fetch(new URL(`/admin/posts/${id}/review`, origin()), { headers: { Cookie: editor } })).status).toBe(
      403,
    );
    const form = await (
      await fetch(new URL(`/admin/posts/${id}/review`, origin()), { headers: { Cookie: owner } })
    ).text();
    expect(form).toContain("Needs a second look");
    const edited = await post(owner, `/admin/posts/${id}/review`, {
      text: "Needs a second look, tightened",
      language: "en",
      action: "publish",
    });
    expect(edited.headers.get("location")).toBe("/admin?notice=edited-awaiting");
    expect(creates(sink, "second look")).toHaveLength(0);
    const approved = await post(owner, `/admin/posts/${id}/approve`, {});
    expect(approved.headers.get("location")).toBe("/admin?notice=approved-post");
    await waitFor(() => creates(sink, "second look").length === 1, 10_000, "the approved post");
    expect(creates(sink, "second look, tightened")).toHaveLength(1);
    // Twice: already decided, nothing sent twice.
    expect((await post(owner, `/admin/posts/${id}/approve`, {})).headers.get("location")).toBe("/admin?error=decided");
    await new Promise((r) => setTimeout(r, 1000));
    expect(creates(sink, "second look")).toHaveLength(1);
    const log = (await listAudit(lectern.server.lectern.db, 50)).items;
    expect(log.some((e) => e.action === "submit-for-approval" && e.actor === "ed")).toBe(true);
    expect(log.some((e) => e.action === "approve" && e.actor === "owner" && e.subject === id)).toBe(true);
    expect(log.some((e) => e.action === "edit-awaiting" && e.actor === "owner" && e.subject === id)).toBe(true);
  });

  it("two desks approving at once, or one approving as the other declines: one decision, one Create", async () => {
    for (const [first, second] of [
      ["approve", "approve"],
      ["approve", "decline"],
    ] as const) {
      const text = `Raced ${first} and ${second}`;
      await post(editor, "/admin/posts", { text, action: "publish" });
      const page = await writePage(owner);
      const id = new RegExp(`data-review="([^"]+)"(?:(?!data-review)[\\s\\S])*${text}`).exec(page)?.[1] as string;
      const answers = await Promise.all(
        [first, second].map((action) => post(owner, `/admin/posts/${id}/${action}`, { note: "raced" })),
      );
      const locations = answers.map((r) => r.headers.get("location"));
      expect(locations.filter((l) => l === "/admin?error=decided")).toHaveLength(1);
      await new Promise((r) => setTimeout(r, 1500));
      const approvedOnce = locations.includes("/admin?notice=approved-post");
      expect(creates(sink, text)).toHaveLength(approvedOnce ? 1 : 0);
    }
  });

  it("a declined post is never sent, and its editor reads the note", async () => {
    await post(editor, "/admin/posts", { text: "Maybe not this one", action: "publish" });
    const id = /data-review="([^"]+)"/.exec(await writePage(owner))?.[1] as string;
    const declined = await post(owner, `/admin/posts/${id}/decline`, { note: "Not today, thanks" });
    expect(declined.headers.get("location")).toBe("/admin?notice=declined-post");
    const mine = await writePage(editor);
    expect(mine).toContain("<strong>Declined</strong>: Not today, thanks");
    expect((await post(owner, `/admin/posts/${id}/approve`, {})).headers.get("location")).toBe("/admin?error=decided");
    await new Promise((r) => setTimeout(r, 1500));
    expect(creates(sink, "Maybe not")).toHaveLength(0);
    await post(editor, `/admin/posts/${id}/discard`, {});
    expect(await writePage(editor)).not.toContain("Maybe not this one");
  });

  it("under the rule an editor cannot change what is out or approved: edits wait for the owner, apps get 403", async () => {
    const ctx = lectern.server.lectern.context();
    const published = await publishPost(ctx, { text: "The owner's own words" });
    await waitFor(() => creates(sink, "owner's own words").length === 1, 20_000, "the post at the follower");
    const updates = () => sink.requests.filter((r) => JSON.parse(r.body).type === "Update");
    const before = updates().length;
    // The app: neither an edit nor a post scheduled for later.
    const token = await tokenForScript(lectern.server.lectern.db, editorId, "Editor's phone", "read write");
    const api = (method: string, path: string, body: object) =>
      fetch(new URL(path, origin()), {
        method,
        headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
        body: JSON.stringify(body),
      });
    expect((await api("PUT", `/api/v1/statuses/${published.id}`, { status: "Words put in the mouth" })).status).toBe(
      403,
    );
    const later = new Date(Date.now() + 3 * 86_400_000).toISOString();
    expect((await api("POST", "/api/v1/statuses", { status: "Later, unseen", scheduled_at: later })).status).toBe(403);
    // The desk: the change is kept as a draft for the owner; nothing goes out.
    const edited = await post(editor, `/admin/posts/${published.id}`, {
      text: "Words put in the mouth",
      language: "en",
      action: "publish",
    });
    expect(edited.headers.get("location")).toBe(`/admin/posts/${published.id}/edit?notice=edit-awaiting`);
    await new Promise((r) => setTimeout(r, 1500));
    expect(updates()).toHaveLength(before);
    const queue = await writePage(owner);
    expect(queue).toContain("Changes saved as drafts");
    expect(queue).toMatch(/Words put in the mouth<\/blockquote>\s*<p class="hint">Saved by ed/);
    const ownersView = await (
      await fetch(new URL(`/admin/posts/${published.id}/edit`, origin()), { headers: { Cookie: owner } })
    ).text();
    expect(ownersView).toContain("These are changes by ed, saved as a draft");
    // The owner publishes them (or would discard them): one Update.
    await post(owner, `/admin/posts/${published.id}`, {
      text: "Words put in the mouth",
      language: "en",
      action: "publish",
    });
    await waitFor(() => updates().length === before + 1, 20_000, "the owner's published edit");

    // A scheduled post the owner approved goes back to the queue when the editor changes it.
    const day = new Date(Date.now() + 2 * 86_400_000).toISOString().slice(0, 10);
    await post(editor, "/admin/posts", {
      text: "Scheduled, then changed",
      date: day,
      time: "10:00",
      timeZone: "UTC",
      action: "publish",
    });
    const id = /data-review="([^"]+)"(?:(?!data-review)[\s\S])*Scheduled, then changed/.exec(
      await writePage(owner),
    )?.[1] as string;
    await post(owner, `/admin/posts/${id}/approve`, {});
    expect(await writePage(owner)).not.toContain(`data-review="${id}"`);
    const changed = await post(editor, `/admin/scheduled/${id}`, {
      text: "Scheduled, then changed again",
      date: day,
      time: "10:00",
      timeZone: "UTC",
      language: "en",
      action: "publish",
    });
    expect(changed.headers.get("location")).toBe("/admin?notice=awaiting");
    expect(await writePage(owner)).toMatch(
      new RegExp(`data-review="${id}"(?:(?!data-review)[\\s\\S])*Scheduled, then changed again`),
    );
  });

  it("an edit saved as a draft is shown only on its edit page and sent nowhere until it is published", async () => {
    const ctx = lectern.server.lectern.context();
    const published = await publishPost(ctx, { text: "The first wording" });
    const url = lectern.server.lectern.data.urls.post(published.id);
    await waitFor(() => creates(sink, "The first wording").length === 1, 20_000, "the post at the follower");
    const saved = await post(owner, `/admin/posts/${published.id}`, {
      text: "A second wording, unfinished",
      action: "draft",
    });
    expect([saved.status, saved.headers.get("location")]).toEqual([
      303,
      `/admin/posts/${published.id}/edit?notice=edit-draft`,
    ]);
    const editPage = await (
      await fetch(new URL(`/admin/posts/${published.id}/edit`, origin()), { headers: { Cookie: owner } })
    ).text();
    expect(editPage).toContain("A second wording, unfinished");
    expect(editPage).toContain("saved as a draft");
    // Nowhere else: the page, the object, the followers' servers.
    await new Promise((r) => setTimeout(r, 1500));
    expect(await (await fetch(url, { headers: { Accept: "text/html" } })).text()).not.toContain("second wording");
    expect(await (await fetch(url, { headers: { Accept: "application/activity+json" } })).text()).toContain(
      "The first wording",
    );
    expect(
      sink.requests.filter((r) => JSON.parse(r.body).type === "Update" && r.body.includes("wording")),
    ).toHaveLength(0);
    // Published as the edit: one Update, and the draft is gone.
    await post(owner, `/admin/posts/${published.id}`, { text: "A second wording, final", action: "publish" });
    await waitFor(
      () => sink.requests.some((r) => JSON.parse(r.body).type === "Update" && r.body.includes("second wording, final")),
      20_000,
      "the edit at the follower",
    );
    const after = await (
      await fetch(new URL(`/admin/posts/${published.id}/edit`, origin()), { headers: { Cookie: owner } })
    ).text();
    expect(after).not.toContain("saved as a draft");
    const log = (await listAudit(lectern.server.lectern.db, 20)).items;
    expect(log.some((e) => e.action === "edit-draft" && e.actor.includes("owner"))).toBe(true);
  });
});
