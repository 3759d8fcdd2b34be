import { writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deleteUnconfirmed } from "../src/readers/subscribers.ts";
import { runCli } from "./helpers/cli.ts";
import { signIn } from "./helpers/desk.ts";
import { startTestLectern, type TestLectern, tempDir, waitFor } from "./helpers/lectern.ts";
import { column, scalar } from "./helpers/rows.ts";
import { startSmtpSink } from "./helpers/smtp.ts";

type Json = Record<string, any>;
const SECRET = "a shared secret for the provider's webhook";

// The other doors to email subscribers: Mastodon 4.6's API, the mail provider's bounce webhook, the CLI
// (import from Substack/Mailchimp, export, suppress, erase) and the owner's page in the desk. Subscribers are
// personal data: never in a log line, and the desk lists none of them.
describe("email subscribers through the API, the webhook, the CLI and the desk", () => {
  let tmp: ReturnType<typeof tempDir>;
  let smtp: Awaited<ReturnType<typeof startSmtpSink>>;
  let lectern: TestLectern;
  const origin = () => lectern.origin.origin;
  const db = () => lectern.server.lectern.db;

  beforeAll(async () => {
    tmp = tempDir();
    smtp = await startSmtpSink();
    lectern = await startTestLectern(tmp.dir, {
      env: {
        LECTERN_EMAIL_SMTP_URL: smtp.url,
        LECTERN_EMAIL_FROM: "news@lectern.example",
        LECTERN_EMAIL_WEBHOOK_SECRET: SECRET,
      },
    });
  }, 60_000);
  afterAll(async () => {
    await lectern?.stop();
    await smtp?.close();
    tmp?.remove();
  });

  it("subscribes through POST /api/v1/accounts/:id/email_subscriptions, anonymously, with double opt-in", async () => {
    const call = (id: string, body: unknown) =>
      fetch(new URL(`/api/v1/accounts/${id}/email_subscriptions`, origin()), {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body),
      });
    const ok = await call("1", { email: "app-reader@example.com" });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({});
    expect((await call("1", { email: "nope" })).status).toBe(422);
    expect((await call("1", {})).status).toBe(422);
    expect((await call("2", { email: "app-reader@example.com" })).status).toBe(404);
    const mail = await waitFor(() => smtp.to("app-reader@example.com")[0], 20_000, "confirmation");
    expect(mail.mail.subject).toMatch(/^Confirm your subscription/);
    expect(await scalar(db(), "SELECT status FROM email_subscribers WHERE address = ?", "app-reader@example.com")).toBe(
      "pending",
    );
  });

  it("deletes addresses left unconfirmed for seven days, and only those", async () => {
    const post = (email: string) =>
      fetch(new URL("/api/v1/accounts/1/email_subscriptions", origin()), {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ email }),
      });
    expect((await post("late-reader@example.com")).status).toBe(200);
    const pending = Number(await scalar(db(), "SELECT count(*) FROM email_subscribers WHERE status = 'pending'"));
    expect(pending).toBeGreaterThanOrEqual(2);
    // Six days on, nothing goes; eight days on, every pending address does.
    expect(await deleteUnconfirmed(db(), Date.now() + 6 * 86_400_000)).toBe(0);
    expect(await deleteUnconfirmed(db(), Date.now() + 8 * 86_400_000)).toBe(pending);
    expect(await scalar(db(), "SELECT count(*) FROM email_subscribers WHERE status = 'pending'")).toBe(0);
    // Asked again, the address gets a new confirmation as a stranger would.
    expect((await post("app-reader@example.com")).status).toBe(200);
    await waitFor(() => smtp.to("app-reader@example.com")[1], 20_000, "a second confirmation");
  });

  it("suppresses what the provider reports, only with the shared secret", async () => {
    const report = (auth: string, body: unknown) =>
      fetch(new URL("/email/bounces", origin()), {
        method: "POST",
        headers: { Authorization: auth, "Content-Type": "application/json" },
        body: JSON.stringify(body),
      });
    expect((await report("Bearer wrong", { email: "app-reader@example.com" })).status).toBe(401);
    expect((await report(`Bearer ${SECRET}`, { nothing: 1 })).status).toBe(400);
    const res = await report(`Bearer ${SECRET}`, { addresses: ["app-reader@example.com", "never@example.com"] });
    expect((await res.json()) as Json).toEqual({ suppressed: 1 });
    expect(await scalar(db(), "SELECT count(*) FROM email_subscribers WHERE status = 'suppressed'")).toBe(2);
    expect(await scalar(db(), "SELECT count(*) FROM email_subscribers WHERE address IS NOT NULL")).toBe(0);
  });

  it("imports a Mailchimp export (confirmed only when it says so), exports, suppresses and erases from the CLI", async () => {
    const file = path.join(tmp.dir, "members.csv");
    writeFileSync(
      file,
      [
        "Email Address,First Name,Member Status,OPTIN_TIME",
        "ana@example.com,Ana,subscribed,2024-03-01 10:00:00",
        '"bo@example.org",Bo,subscribed,',
        "cy@example.net,Cy,unsubscribed,2023-01-01",
        "dee@example.com,Dee,pending,",
        "not an address,X,subscribed,",
        "ANA@example.com,Ana again,subscribed,",
      ].join("\r\n"),
    );
    const imported = await runCli(["readers", "import", file], lectern.env);
    expect(imported.code, imported.stderr).toBe(0);
    expect(imported.stdout).toContain(
      "Imported 2 confirmed subscribers; 1 already here; 1 unsubscribed or bounced kept as suppressed; 1 not confirmed in the file, not imported; 1 not addresses.",
    );
    expect(
      await column(db(), "SELECT address FROM email_subscribers WHERE status = 'confirmed' ORDER BY address"),
    ).toEqual(["ana@example.com", "bo@example.org"]);
    // Nothing is sent to imported readers until a post is published: no confirmation for them.
    expect(smtp.to("ana@example.com")).toHaveLength(0);
    const exported = await runCli(["readers", "export"], lectern.env);
    expect(exported.stdout.split("\n")[0]).toBe("email,status,cadence,subscribed_at,confirmed_at");
    expect(exported.stdout).toContain("ana@example.com,confirmed,each,2024-03-01T");
    expect(exported.stdout).not.toContain("cy@example.net");
    const counts = await runCli(["readers"], lectern.env);
    expect(counts.stdout).toContain(
      "email: 2 confirmed (0 by digest), 0 waiting for confirmation, 0 unsubscribed, 3 suppressed",
    );
    expect((await runCli(["readers", "erase", "bo@example.org"], lectern.env)).stdout).toContain("Erased");
    expect(await scalar(db(), "SELECT count(*) FROM email_subscribers WHERE address_hash IS NOT NULL")).toBe(4);
    expect((await runCli(["readers", "suppress", "ana@example.com"], lectern.env)).stdout).toContain("Suppressed");
    expect((await runCli(["readers", "erase", "x"], lectern.env)).code).toBe(64);
    expect(await column(db(), "SELECT action FROM audit_log WHERE action LIKE 'readers-%' ORDER BY id")).toEqual([
      "readers-import",
      "readers-export",
      "readers-erase",
      "readers-suppress",
    ]);
  });

  it("shows the owner counts by channel, exports CSV and erases from the desk, listing no address", async () => {
    await runCli(["readers", "import", path.join(tmp.dir, "members.csv")], lectern.env);
    const cookie = await signIn(lectern);
    const get = (p: string) => fetch(new URL(p, origin()), { headers: { Cookie: cookie } });
    const page = await (await get("/admin/readers")).text();
    expect(page).toMatch(/data-email-confirmed[^>]*>1</); // bo, imported again; ana stays suppressed
    expect(page).not.toContain("bo@example.org"); // counts, never a list
    const csv = await get("/admin/readers.csv");
    expect(csv.headers.get("content-type")).toMatch(/text\/csv/);
    expect(await csv.text()).toContain("bo@example.org,confirmed");
    const csrf = String(page.match(/name="_csrf" value="([^"]+)"/)?.[1]);
    const erased = await fetch(new URL("/admin/readers/erase", origin()), {
      method: "POST",
      redirect: "manual",
      headers: { Cookie: cookie, Origin: origin(), "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ _csrf: csrf, email: "bo@example.org" }),
    });
    expect(erased.status).toBe(303);
    expect(await scalar(db(), "SELECT count(*) FROM email_subscribers WHERE address = 'bo@example.org'")).toBe(0);
  });
});
