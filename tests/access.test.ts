import { createRestAPIClient } from "masto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listAudit } from "../src/product/access/audit.ts";
import { tokenForScript } from "../src/product/access/oauth.ts";
import { ownerOnly, ROLE_PERMISSIONS } from "../src/product/access/roles.ts";
import { createStaff, findStaff, removeStaff, setStaffPassword } from "../src/product/access/staff.ts";
import { needOf } from "../src/web/access.ts";
import { createApp } from "../src/web/app.ts";
import { runCli } from "./helpers/cli.ts";
import { startTestLectern, type TestLectern, tempDir } from "./helpers/lectern.ts";

type Json = Record<string, any>;
const SAMPLE: Record<string, string> = {
  id: "0193a6f0-0000-7000-8000-000000000000",
  tag: "news",
};

/** A route's path with sample values for its parameters (`/admin/posts/:id` → a post id). */
const sample = (route: string) => route.replace(/:(\w+)(\{[^}]*\})?/g, (_, name: string) => SAMPLE[name] ?? "x");

// One authorization rule for every door: the table in web/access.ts names what each desk and API route
// needs, a person's role (product/access/roles.ts) decides, and the same answer comes from the desk and the API.
describe("one authorization rule for the desk and the Mastodon API", () => {
  let tmp: ReturnType<typeof tempDir>;
  let lectern: TestLectern;
  const origin = () => lectern.origin.origin;
  /** Every route of the desk and the API the app mounts, as [method, path]. */
  let routes: [string, string][] = [];

  const signInAs = async (username: string, password: string) => {
    const res = await fetch(new URL("/admin/login", origin()), {
      method: "POST",
      redirect: "manual",
      headers: { Origin: origin(), "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ username, password }),
    });
    const cookie = (res.headers.get("set-cookie") ?? "").split(";")[0];
    expect(cookie, `sign-in of ${username}: ${res.status}`).toMatch(/^lectern_session=./);
    return cookie;
  };
  const api = (token: string, method: string, path: string, body?: unknown) =>
    fetch(new URL(path, origin()), {
      method,
      headers: {
        Authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { "Content-Type": "application/json" }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  const desk = (cookie: string, method: string, path: string) =>
    fetch(new URL(path, origin()), {
      method,
      redirect: "manual",
      headers: { Cookie: cookie, Origin: origin(), "Content-Type": "application/x-www-form-urlencoded" },
      body: method === "GET" || method === "HEAD" ? undefined : "",
    });

  beforeAll(async () => {
    tmp = tempDir();
    lectern = await startTestLectern(tmp.dir);
    const app = createApp(lectern.server.lectern);
    const seen = new Set<string>();
    for (const r of app.routes) {
      if (r.method === "ALL" || !/^\/(admin|api)(\/|$)/.test(r.path)) continue;
      const key = `${r.method} ${r.path}`;
      if (!seen.has(key)) routes.push([r.method, r.path]);
      seen.add(key);
    }
    routes = routes.sort();
  });
  afterAll(async () => {
    await lectern?.stop();
    tmp?.remove();
  });

  it("names every desk and API route in the one table", () => {
    expect(routes.length).toBeGreaterThan(60);
    const unnamed = routes.filter(([method, path]) => needOf(method, sample(path)) === undefined);
    expect(unnamed).toEqual([]);
    // The owner has every permission; an editor writes posts and nothing else.
    expect(ROLE_PERMISSIONS.editor).toEqual(["posts"]);
    for (const p of ROLE_PERMISSIONS.owner) expect(ownerOnly(p)).toBe(p !== "posts");
  });

  it("refuses an editor every owner-only route, at the desk and through the API, and lets them write", async () => {
    const db = lectern.server.lectern.db;
    await createStaff(db, { username: "alex", role: "editor", password: "alex's long password" });
    const editor = (await findStaff(db, "alex")) as NonNullable<Awaited<ReturnType<typeof findStaff>>>;
    const cookie = await signInAs("alex", "alex's long password");
    const token = await tokenForScript(db, editor.id, "Editor's app", "read write follow push");
    const ownerOnlyRoutes = routes.filter(([m, p]) => {
      const need = needOf(m, sample(p));
      return need !== undefined && need !== "public" && need !== "signed-in" && ownerOnly(need);
    });
    expect(ownerOnlyRoutes.length).toBeGreaterThan(20);
    const answers: string[] = [];
    for (const [method, path] of ownerOnlyRoutes) {
      const res = path.startsWith("/api/")
        ? await api(token, method, sample(path))
        : await desk(cookie, method, sample(path));
      answers.push(`${res.status} ${method} ${path}`);
      if (path.startsWith("/api/"))
        expect((await res.json()) as Json).toEqual({ error: "This action is outside your role on this account" });
    }
    expect(answers.filter((a) => !a.startsWith("403 "))).toEqual([]);
    // What is theirs to do still works through both doors.
    expect((await desk(cookie, "GET", "/admin")).status).toBe(200);
    expect((await desk(cookie, "GET", "/admin/security")).status).toBe(200);
    // A reload after setting up an authenticator app goes back to the page, not to a 404.
    const reload = await desk(cookie, "GET", "/admin/security/totp");
    expect([reload.status, reload.headers.get("location")]).toEqual([303, "/admin/security"]);
    const posted = await api(token, "POST", "/api/v1/statuses", { status: "Written by an editor" });
    expect(posted.status).toBe(200);
    expect((await api(token, "GET", "/api/v1/accounts/verify_credentials")).status).toBe(200);
    // The profile is unchanged: the editor's update_credentials was refused.
    const actor = (await (
      await fetch(lectern.actorId, { headers: { Accept: "application/activity+json" } })
    ).json()) as Json;
    expect(actor.name).not.toBe("Taken over");
    expect(
      (await api(token, "PATCH", "/api/v1/accounts/update_credentials", { display_name: "Taken over" })).status,
    ).toBe(403);
    // The audit log names the person, with the app beside them.
    const { items } = await listAudit(db, 20);
    expect(items.find((e) => e.action === "publish")?.actor).toBe("alex (via Editor's app)");
  });

  it("a removed person's sessions and tokens end at once; so do the owner's on a new password", async () => {
    const db = lectern.server.lectern.db;
    await createStaff(db, { username: "sam", role: "owner", password: "sam's long password" });
    const sam = (await findStaff(db, "sam")) as NonNullable<Awaited<ReturnType<typeof findStaff>>>;
    const cookie = await signInAs("sam", "sam's long password");
    const token = await tokenForScript(db, sam.id, "Sam's app", "read write");
    const masto = createRestAPIClient({ url: origin(), accessToken: token });
    expect((await masto.v1.accounts.verifyCredentials()).username).toBe(lectern.config.handle);

    // A new password (through the product, as the desk's Security page and the CLI do): every token ends.
    await setStaffPassword(db, sam.id, "sam's new long password");
    expect((await api(token, "GET", "/api/v1/accounts/verify_credentials")).status).toBe(401);
    expect((await desk(cookie, "GET", "/admin")).status).toBe(303); // back to sign-in

    // Removed: a token made since ends, and their session too.
    const cookie2 = await signInAs("sam", "sam's new long password");
    const token2 = await tokenForScript(db, sam.id, "Sam's app", "read write");
    expect((await api(token2, "POST", "/api/v1/statuses", { status: "Still here" })).status).toBe(200);
    await removeStaff(db, sam.id);
    expect((await api(token2, "POST", "/api/v1/statuses", { status: "Gone but posting" })).status).toBe(401);
    expect((await api(token2, "PATCH", "/api/v1/accounts/update_credentials", { display_name: "x" })).status).toBe(401);
    expect((await desk(cookie2, "POST", "/admin/posts")).status).toBe(401);
  });

  it("the owner signs a person out everywhere from the CLI: their sessions and tokens end", async () => {
    const db = lectern.server.lectern.db;
    await createStaff(db, { username: "kim", role: "editor", password: "kim's long password" });
    const kim = (await findStaff(db, "kim")) as NonNullable<Awaited<ReturnType<typeof findStaff>>>;
    const cookie = await signInAs("kim", "kim's long password");
    const token = await tokenForScript(db, kim.id, "Kim's app", "read write");
    const out = await runCli(["staff", "sign-out", "kim"], lectern.env);
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout).toContain("Signed kim out everywhere");
    expect((await api(token, "GET", "/api/v1/accounts/verify_credentials")).status).toBe(401);
    expect((await desk(cookie, "GET", "/admin")).status).toBe(303);
  });

  it("never grants an app a scope it did not register", async () => {
    const made = (await (
      await fetch(new URL("/api/v1/apps", origin()), {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ client_name: "Reader", redirect_uris: "urn:ietf:wg:oauth:2.0:oob", scopes: "read" }),
      })
    ).json()) as Json;
    const owner = await signInAs("owner", await ownerPassword());
    const ask = (scope: string) =>
      fetch(
        new URL(
          `/oauth/authorize?${new URLSearchParams({ client_id: made.client_id, redirect_uri: "urn:ietf:wg:oauth:2.0:oob", response_type: "code", scope })}`,
          origin(),
        ),
        { headers: { Cookie: owner }, redirect: "manual" },
      );
    const wider = await ask("read write");
    expect(wider.status).toBe(400);
    expect(await wider.text()).toContain("did not register these scopes: write");
    expect((await ask("read")).status).toBe(200);
    expect((await ask("read:statuses")).status).toBe(200);
  });

  /** The owner's password, set for this test. */
  const ownerPassword = async () => {
    const db = lectern.server.lectern.db;
    const owner = (await findStaff(db, "owner")) as NonNullable<Awaited<ReturnType<typeof findStaff>>>;
    await setStaffPassword(db, owner.id, "the owner's long password");
    return "the owner's long password";
  };
});
