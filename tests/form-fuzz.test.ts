import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tokenForScript } from "../src/product/access/oauth.ts";
import { findStaff } from "../src/product/access/staff.ts";
import { createApp } from "../src/web/app.ts";
import { signIn } from "./helpers/desk.ts";
import { startTestLectern, type TestLectern, tempDir } from "./helpers/lectern.ts";

/** Broken bodies as clients (and attackers) send them: each with its Content-Type. */
function brokenBodies(csrf: string): [string, string, BodyInit][] {
  const boundary = "----fuzz";
  return [
    ["an empty multipart boundary", "multipart/form-data; boundary=", `--\r\n\r\n--`],
    ["a multipart form with no boundary", "multipart/form-data", "garbage"],
    [
      "a multipart form cut short",
      `multipart/form-data; boundary=${boundary}`,
      `--${boundary}\r\nContent-Disposition: form-data; name="_csrf"\r\n\r\n${csrf}\r\n--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="x.png"\r\nContent-Type: image/png\r\n\r\n\x89PNG`,
    ],
    [
      "a multipart part without a name",
      `multipart/form-data; boundary=${boundary}`,
      `--${boundary}\r\nContent-Disposition: form-data\r\n\r\nx\r\n--${boundary}--\r\n`,
    ],
    ["a form with broken percent-encoding", "application/x-www-form-urlencoded", `_csrf=${csrf}&text=%E0%A4%A&id=%`],
    [
      "a form with control characters and odd values",
      "application/x-www-form-urlencoded",
      new URLSearchParams({
        _csrf: csrf,
        next: "/oauth/authorize?x\r\nSet-Cookie: a=b",
        id: "99999999999999999999999",
        role: "god",
        username: "\u0000\r\n",
        text: "\u0000",
        date: "2026-13-45",
        time: "25:61",
        timeZone: "Mars/Olympus",
        required: "maybe",
        account: "@@@",
        target: "javascript:alert(1)",
        handle: "x".repeat(5000),
      }).toString(),
    ],
    ["broken JSON", "application/json", '{"status": "x", "media_ids": [1,'],
    ["JSON of the wrong shape", "application/json", '{"status": {"a": 1}, "media_ids": "x", "scheduled_at": 12}'],
    [
      "binary noise",
      "application/octet-stream",
      new Uint8Array(Array.from({ length: 512 }, (_, i) => (i * 131) % 256)),
    ],
    ["no body at all", "application/x-www-form-urlencoded", ""],
  ];
}

const sample = (route: string) =>
  route.replace(/:(\w+)(\{[^}]*\})?/g, (_, name: string) => (name === "id" ? "not-an-id" : "x"));

// Every route of the desk and the API (and OAuth's), sent broken bodies (reads: broken queries) by the owner (signed in, with the session's real
// CSRF token inside) and by a stranger: a 4xx each time, never a 5xx.
describe("broken bodies on every form and API route", () => {
  let tmp: ReturnType<typeof tempDir>;
  let lectern: TestLectern;
  let routes: [string, string][] = [];
  const origin = () => lectern.origin.origin;

  beforeAll(async () => {
    tmp = tempDir();
    lectern = await startTestLectern(tmp.dir);
    const seen = new Set<string>();
    for (const r of createApp(lectern.server.lectern).routes) {
      if (r.method === "ALL" || !/^\/(admin|api|oauth)(\/|$)/.test(r.path)) continue;
      if (!seen.has(`${r.method} ${r.path}`)) routes.push([r.method, r.path]);
      seen.add(`${r.method} ${r.path}`);
    }
    // Sign-out routes last: they end the session the others use.
    routes = routes.sort((a, b) => Number(/logout|sign-out/.test(a[1])) - Number(/logout|sign-out/.test(b[1])));
  });
  afterAll(async () => {
    await lectern?.stop();
    tmp?.remove();
  });

  it("answers every broken body (and query) with a 4xx", async () => {
    expect(routes.length).toBeGreaterThan(80);
    const db = lectern.server.lectern.db;
    const owner = (await findStaff(db, "owner")) as NonNullable<Awaited<ReturnType<typeof findStaff>>>;
    let cookie = await signIn(lectern);
    const csrfOf = async () =>
      /name="_csrf" value="([^"]+)"/.exec(
        await (await fetch(new URL("/admin/security", origin()), { headers: { cookie } })).text(),
      )?.[1] ?? "";
    const failures: string[] = [];
    let sent = 0;
    for (const [method, route] of routes) {
      if ((await fetch(new URL("/admin", origin()), { headers: { cookie }, redirect: "manual" })).status !== 200)
        cookie = await signIn(lectern); // a route before ended the session
      const csrf = await csrfOf();
      // A token per route: the API's rate limit (300 calls in 5 minutes) is not what is tested here.
      const token = await tokenForScript(db, owner.id, "Fuzzer", "read write follow push");
      for (const [what, type, body] of method === "GET" ? brokenBodies(csrf).slice(0, 1) : brokenBodies(csrf)) {
        for (const as of ["owner", "stranger"] as const) {
          // Reads get the junk in their query instead.
          const query =
            method === "GET"
              ? `?${new URLSearchParams({ next: "/oauth/authorize?a\r\nb", max_id: "x'", since_id: "-1", min_id: "1e999", limit: "-5", before: "zz", notice: "\u0000", error: "<b>", at: "NaN", zone: "../../etc", client_id: "x".repeat(300), scope: "root" })}`
              : "";
          const res = await fetch(new URL(`${sample(route)}${query}`, origin()), {
            method,
            redirect: "manual",
            headers: {
              "Content-Type": type,
              Origin: origin(),
              ...(as === "owner" ? { Cookie: cookie, Authorization: `Bearer ${token}` } : {}),
            },
            body: method === "GET" || method === "HEAD" ? undefined : body,
          });
          sent++;
          if (res.status >= 500)
            failures.push(`${res.status} ${method} ${route} (${as}, ${what}): ${(await res.text()).slice(0, 120)}`);
          else await res.body?.cancel();
        }
      }
    }
    console.log(`${sent} broken requests to ${routes.length} routes`);
    expect(failures).toEqual([]);
  }, 120_000);
});
