import { createHash, randomBytes } from "node:crypto";
import { createRestAPIClient, type mastodon } from "masto";
import generator from "megalodon";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listAudit } from "../src/product/access/audit.ts";
import { publishDelete, publishPost } from "../src/product/publish.ts";
import { runCli } from "./helpers/cli.ts";
import { signIn } from "./helpers/desk.ts";
import { type FollowerServer, startFollowerServer } from "./helpers/follower.ts";
import { startTestLectern, type TestLectern, tempDir } from "./helpers/lectern.ts";
import { scalar } from "./helpers/rows.ts";

type Json = Record<string, any>;

// The author's side of the Mastodon client API, driven by two independent client libraries
// (masto.js and megalodon), authorised through the desk's sign-in and consent page.
describe("the Mastodon client API", () => {
  let tmp: ReturnType<typeof tempDir>;
  let lectern: TestLectern;
  let remote: FollowerServer;
  let token = "";
  let masto: mastodon.rest.Client;
  const REDIRECT = "http://127.0.0.1:1/callback";
  const origin = () => lectern.origin.origin;

  beforeAll(async () => {
    tmp = tempDir();
    lectern = await startTestLectern(tmp.dir);
    remote = await startFollowerServer({ users: ["fan"] });
    await remote.follow("fan", lectern.actorId);
    await remote.waitForActivity((a) => a.type === "Accept");
  });
  afterAll(async () => {
    await remote?.close();
    await lectern?.stop();
    tmp?.remove();
  });

  it("registers an app, is allowed through the desk (code with PKCE), and gets a token", async () => {
    const anonymous = createRestAPIClient({ url: origin() });
    const app = await anonymous.v1.apps.create({
      clientName: "Test Poster",
      redirectUris: REDIRECT,
      scopes: "read write",
    });
    expect(app.clientId).toBeTruthy();
    const verifier = randomBytes(32).toString("base64url");
    const challenge = createHash("sha256").update(verifier).digest("base64url");
    const query = new URLSearchParams({
      client_id: app.clientId as string,
      redirect_uri: REDIRECT,
      response_type: "code",
      scope: "read write",
      state: "xyz",
      code_challenge: challenge,
      code_challenge_method: "S256",
    });
    // Not signed in: sent to the desk's sign-in, which comes back here.
    const first = await fetch(`${origin()}/oauth/authorize?${query}`, { redirect: "manual" });
    expect(first.status).toBe(303);
    expect(first.headers.get("location")).toBe(`/admin/login?next=${encodeURIComponent(`/oauth/authorize?${query}`)}`);
    const cookie = await signIn(lectern);
    const consent = await (await fetch(`${origin()}/oauth/authorize?${query}`, { headers: { cookie } })).text();
    expect(consent).toContain("Allow Test Poster to use this account?");
    const csrf = /name="_csrf" value="([^"]+)"/.exec(consent)?.[1] as string;
    const allowed = await fetch(`${origin()}/oauth/authorize`, {
      method: "POST",
      redirect: "manual",
      headers: { cookie, origin: origin(), "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ _csrf: csrf, decision: "allow", ...Object.fromEntries(query) }),
    });
    // Back to the app by a page that moves on by itself (a meta refresh, and a link).
    expect(allowed.status).toBe(200);
    const backTo = (html: string) => (/id="back-to-app" href="([^"]+)"/.exec(html)?.[1] ?? "").replaceAll("&amp;", "&");
    const back = new URL(backTo(await allowed.text()));
    expect(back.origin + back.pathname).toBe(REDIRECT);
    expect(back.searchParams.get("state")).toBe("xyz");
    const code = back.searchParams.get("code") as string;
    const exchange = (v: string) =>
      fetch(`${origin()}/oauth/token`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          grant_type: "authorization_code",
          code,
          client_id: app.clientId,
          client_secret: app.clientSecret,
          redirect_uri: REDIRECT,
          code_verifier: v,
        }),
      });
    const wrong = await exchange("not the verifier");
    expect(wrong.status).toBe(400);
    expect(((await wrong.json()) as Json).error).toBe("invalid_grant");
    // The code was spent by the failed try: a new consent is needed; this run asks again.
    const again = await fetch(`${origin()}/oauth/authorize`, {
      method: "POST",
      redirect: "manual",
      headers: { cookie, origin: origin(), "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ _csrf: csrf, decision: "allow", ...Object.fromEntries(query) }),
    });
    const code2 = new URL(backTo(await again.text())).searchParams.get("code") as string;
    const res = await fetch(`${origin()}/oauth/token`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        grant_type: "authorization_code",
        code: code2,
        client_id: app.clientId as string,
        client_secret: app.clientSecret as string,
        redirect_uri: REDIRECT,
        code_verifier: verifier,
      }),
    });
    expect(res.status).toBe(200);
    const answer = (await res.json()) as Json;
    expect(answer.token_type).toBe("Bearer");
    expect(answer.scope).toBe("read write");
    token = answer.access_token;
    masto = createRestAPIClient({ url: origin(), accessToken: token });
    const me = await masto.v1.accounts.verifyCredentials();
    expect(me.acct).toBe(lectern.config.handle);
    expect(me.source?.privacy).toBe("public");
  });

  it("posts with a content warning, a described picture, edits, pins and deletes; the follower's server gets each", async () => {
    const status = await masto.v1.statuses.create({ status: "From the app", spoilerText: "Heads up" });
    const create = (
      await remote.waitForActivity((a) => a.type === "Create" && (a.object as Json).content.includes("From the app"))
    ).json as Json;
    expect(create.object.summary).toBe("Heads up");
    expect(status.spoilerText).toBe("Heads up");

    const png = await sharp({ create: { width: 64, height: 40, channels: 3, background: "#226699" } })
      .png()
      .toBuffer();
    const media = await masto.v2.media.create({
      file: new Blob([new Uint8Array(png)], { type: "image/png" }),
      description: "A blue rectangle",
      focus: "0.5,-0.25",
    });
    expect(media.description).toBe("A blue rectangle");
    await masto.v1.media.$select(media.id).update({ description: "A calm blue rectangle" });
    const withPicture = await masto.v1.statuses.create({ status: "With a picture", mediaIds: [media.id] });
    expect(withPicture.mediaAttachments[0].description).toBe("A calm blue rectangle");
    const note = (
      (
        await remote.waitForActivity(
          (a) => a.type === "Create" && (a.object as Json).content.includes("With a picture"),
        )
      ).json as Json
    ).object;
    const attachment = [note.attachment].flat()[0];
    expect(attachment.name).toBe("A calm blue rectangle");
    expect(attachment.focalPoint).toEqual([0.5, -0.25]);

    const edited = await masto.v1.statuses
      .$select(status.id)
      .update({ status: "From the app, edited", spoilerText: "Heads up" });
    expect(edited.editedAt).toBeTruthy();
    await remote.waitForActivity((a) => a.type === "Update" && (a.object as Json)?.content?.includes("edited"));
    // The edit history: the first version, then the current one (as Mastodon lists them).
    await masto.v1.statuses.$select(status.id).update({ status: "From the app, edited twice", spoilerText: "" });
    const history = await masto.v1.statuses.$select(status.id).history.list();
    expect(history.map((v) => v.content)).toEqual([
      "<p>From the app</p>",
      "<p>From the app, edited</p>",
      "<p>From the app, edited twice</p>",
    ]);
    expect(history.map((v) => v.spoilerText)).toEqual(["Heads up", "Heads up", ""]);
    expect(new Date(history[0].createdAt).getTime()).toBe(new Date(status.createdAt).getTime());
    expect(new Date(history[1].createdAt).getTime()).toBe(new Date(edited.editedAt as string).getTime());
    const pinned = await masto.v1.statuses.$select(withPicture.id).pin();
    expect(pinned.pinned).toBe(true);
    await remote.waitForActivity((a) => a.type === "Add");
    await masto.v1.statuses.$select(status.id).remove();
    await remote.waitForActivity((a) => a.type === "Delete");
    await expect(masto.v1.statuses.$select(status.id).fetch()).rejects.toThrow();
    // Deleted means deleted: no earlier version is left behind.
    expect(
      await scalar(lectern.server.lectern.db, "SELECT count(*) FROM post_versions WHERE post_id = ?", status.id),
    ).toBe(0);

    // A continuation of the author's own post is fine; a reply to anyone else is refused, nothing stored.
    const reply = await masto.v1.statuses.create({ status: "And another thing", inReplyToId: withPicture.id });
    expect(reply.inReplyToId).toBe(withPicture.id);
    const before = await scalar(lectern.server.lectern.db, "SELECT count(*) FROM posts");
    const refusal = (await masto.v1.statuses
      .create({ status: "Hello stranger", inReplyToId: "00000000-0000-7000-8000-000000000000" })
      .catch((e: unknown) => e)) as Json;
    // masto.js rejects with the response itself: Mastodon's 422 with its error message.
    expect(refusal.status).toBe(422);
    expect(((await refusal.json()) as Json).error).toMatch(/Replies are not possible/);
    expect(await scalar(lectern.server.lectern.db, "SELECT count(*) FROM posts")).toBe(before);
    const favourite = (await masto.v1.statuses
      .$select(withPicture.id)
      .favourite()
      .catch((e: unknown) => e)) as Json;
    expect(favourite.status).toBe(403);

    // Scheduled for later: listed as scheduled, not published.
    const later = new Date(Date.now() + 3 * 86_400_000).toISOString();
    const scheduled = (await masto.v1.statuses.create({ status: "Later on", scheduledAt: later })) as unknown as Json;
    expect(new Date(scheduled.scheduled_at ?? scheduled.scheduledAt).getTime()).toBeGreaterThan(Date.now());
    expect(await scalar(lectern.server.lectern.db, "SELECT count(*) FROM scheduled_posts")).toBe(1);

    // The audit log names the app.
    const { items } = await listAudit(lectern.server.lectern.db, 50);
    // The person who allowed the app is named, with the app beside them.
    expect(items.some((e) => e.action === "publish" && e.actor === "owner (via Test Poster)")).toBe(true);
    expect(items.some((e) => e.action === "app-authorize" && e.subject?.includes("Test Poster"))).toBe(true);
  });

  it("answers a typical app's start-up calls (megalodon) without an error", async () => {
    const client = generator("mastodon", origin(), token);
    const instance = await client.getInstance();
    expect(instance.data.configuration.statuses.max_characters).toBeGreaterThan(0);
    expect((await client.verifyAccountCredentials()).data.username).toBe(lectern.config.handle);
    const home = await client.getHomeTimeline();
    expect(home.data.length).toBeGreaterThan(0);
    expect(home.data[0].account.acct).toBe(lectern.config.handle);
    for (const call of [
      () => client.getNotifications(),
      () => client.getLists(),
      () => client.getFilters(),
      () => client.getMarkers(["home", "notifications"]),
      () => client.getInstanceAnnouncements(),
      () => client.getInstanceCustomEmojis(),
      () => client.getConversationTimeline(),
      () => client.getBookmarks(),
      () => client.getFavourites(),
      () => client.getFollowedTags(),
      () => client.getPreferences(),
      () => client.getAccountStatuses("1", { pinned: true }),
    ]) {
      const r = await call();
      expect(r.status).toBe(200);
    }
    for (const path of ["/api/v1/trends/tags", "/api/v2/filters", "/api/v1/followed_tags", "/api/v1/announcements"]) {
      const res = await fetch(`${origin()}${path}`, { headers: { authorization: `Bearer ${token}` } });
      expect(res.status, path).toBe(200);
    }
    // The new follower is the one notification; calls carry Mastodon's rate-limit headers.
    const notifications = await client.getNotifications();
    expect(notifications.data.map((n) => [n.type, n.account?.acct])).toEqual([
      ["follow", `fan@${remote.actorId("fan").host}`],
    ]);
    const limited = await fetch(`${origin()}/api/v1/timelines/home`, { headers: { authorization: `Bearer ${token}` } });
    expect(Number(limited.headers.get("x-ratelimit-limit"))).toBe(300);
    expect(Number(limited.headers.get("x-ratelimit-remaining"))).toBeLessThan(300);
    // Without a token, writing is refused in Mastodon's shape.
    const refused = await fetch(`${origin()}/api/v1/statuses`, {
      method: "POST",
      body: new URLSearchParams({ status: "x" }),
    });
    expect(refused.status).toBe(401);
    expect(((await refused.json()) as Json).error).toBeTruthy();
  });

  it("updates the profile and manages scheduled statuses through the API", async () => {
    const me = await masto.v1.accounts.updateCredentials({
      displayName: "Harbour Office (app)",
      note: "Posted from **an app**.",
      fieldsAttributes: [{ name: "Web", value: "https://harbour.example" }],
    });
    expect(me.displayName).toBe("Harbour Office (app)");
    const update = (
      await remote.waitForActivity((a) => a.type === "Update" && (a.object as Json)?.name === "Harbour Office (app)")
    ).json as Json;
    expect(update.object.summary).toContain("<strong>an app</strong>");
    expect(me.fields.map((f) => f.name)).toEqual(["Web"]);
    // A new avatar, as apps send it (multipart).
    const avatar = await sharp({ create: { width: 96, height: 96, channels: 3, background: "#aa7700" } })
      .png()
      .toBuffer();
    const withAvatar = await masto.v1.accounts.updateCredentials({
      avatar: new Blob([new Uint8Array(avatar)], { type: "image/png" }),
    });
    expect(withAvatar.avatar).toMatch(/\/media\/[0-9a-f]{64}\.png$/);
    const person = (await remote.waitForActivity((a) => a.type === "Update" && !!(a.object as Json)?.icon))
      .json as Json;
    expect(person.object.icon.url).toBe(withAvatar.avatar);
    // Followers, as accounts; the follower is "followed_by" in relationships.
    const followers = await masto.v1.accounts.$select("1").followers.list();
    expect(followers.map((f) => f.acct)).toEqual([`fan@${remote.actorId("fan").host}`]);
    const [rel] = await masto.v1.accounts.relationships.fetch({ id: [followers[0].id] });
    expect(rel.followedBy).toBe(true);
    const list = await masto.v1.scheduledStatuses.list();
    expect(list).toHaveLength(1);
    const later = new Date(Date.now() + 5 * 86_400_000);
    later.setUTCSeconds(0, 0);
    const moved = await masto.v1.scheduledStatuses.$select(list[0].id).update({ scheduledAt: later.toISOString() });
    expect(new Date(moved.scheduledAt).getTime()).toBe(later.getTime());
    await masto.v1.scheduledStatuses.$select(list[0].id).remove();
    expect(await masto.v1.scheduledStatuses.list()).toHaveLength(0);
  });

  it("pages the account's statuses as apps poll them: max_id, since_id, min_id and the Link header", async () => {
    const ctx = lectern.server.lectern.context();
    const ids: string[] = [];
    for (let i = 1; i <= 5; i++) ids.push((await publishPost(ctx, { text: `Paged ${i}` })).id);
    const fetchPage = async (url: string) => {
      const res = await fetch(url);
      return { body: (await res.json()) as Json[], link: res.headers.get("link") ?? "" };
    };
    const get = (query: string) => fetchPage(`${origin()}/api/v1/accounts/1/statuses?${query}`);
    const texts = (body: Json[]) => body.map((s) => /Paged \d/.exec(s.content)?.[0] ?? s.content);

    const newest = await get("limit=2");
    expect(texts(newest.body)).toEqual(["Paged 5", "Paged 4"]);
    expect(newest.link).toContain(`max_id=${ids[3]}>; rel="next"`);
    expect(newest.link).toContain(`min_id=${ids[4]}>; rel="prev"`);
    const older = await fetchPage(/<([^>]+)>; rel="next"/.exec(newest.link)?.[1] as string);
    expect(texts(older.body)).toEqual(["Paged 3", "Paged 2"]);
    // Polling for what is new: nothing above the newest; the posts just above a post (min_id), or the
    // newest ones above it (since_id).
    expect((await get(`min_id=${ids[4]}`)).body).toEqual([]);
    expect(texts((await get(`min_id=${ids[0]}&limit=2`)).body)).toEqual(["Paged 3", "Paged 2"]);
    expect(texts((await get(`since_id=${ids[0]}&limit=2`)).body)).toEqual(["Paged 5", "Paged 4"]);
    // A deleted post keeps its place as a cursor; an id we never had names nothing.
    await publishDelete(ctx, ids[2]);
    expect(texts((await get(`max_id=${ids[2]}&limit=2`)).body)).toEqual(["Paged 2", "Paged 1"]);
    expect((await get("max_id=01900000-0000-7000-8000-00000000dead")).body).toEqual([]);
    // masto.js follows the Link header page by page, newest first, with nothing twice.
    const seen: string[] = [];
    for await (const page of masto.v1.accounts.$select("1").statuses.list({ limit: 2 })) {
      seen.push(...page.map((s) => s.id));
      if (seen.length > 40) break;
    }
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.slice(0, 4)).toEqual([ids[4], ids[3], ids[1], ids[0]]);
  });

  it("the desk lists the allowed app and revokes it; the CLI makes a token for scripts", async () => {
    const cookie = await signIn(lectern);
    const page = await (await fetch(`${origin()}/admin/security`, { headers: { cookie } })).text();
    expect(page).toContain("Apps allowed to use this account");
    expect(page).toContain("<td>Test Poster</td>");
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page)?.[1] as string;
    const app = /name="app" value="([^"]+)"/.exec(page)?.[1] as string;
    const revoked = await fetch(`${origin()}/admin/security/apps/revoke`, {
      method: "POST",
      redirect: "manual",
      headers: { cookie, origin: origin(), "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ _csrf: csrf, app }),
    });
    expect(revoked.status).toBe(303);
    const after = await fetch(`${origin()}/api/v1/accounts/verify_credentials`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(after.status).toBe(401);

    const cli = await runCli(["staff", "token", "owner", "--name", "Nightly script"], lectern.env);
    expect(cli.code, cli.stderr).toBe(0);
    const scripted = createRestAPIClient({ url: origin(), accessToken: cli.stdout.trim() });
    expect((await scripted.v1.accounts.verifyCredentials()).acct).toBe(lectern.config.handle);
  });
});
