import { authenticate } from "mailauth";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tokenForScript } from "../src/product/access/oauth.ts";
import { findStaff } from "../src/product/access/staff.ts";
import { sql } from "../src/storage/sql.ts";
import { DIALECTS } from "./helpers/databases.ts";
import { startTestLectern, type TestLectern, tempDir, waitFor } from "./helpers/lectern.ts";
import { scalar } from "./helpers/rows.ts";
import { dkimKey, type Received, startSmtpSink } from "./helpers/smtp.ts";

type Json = Record<string, any>;

/** The first link to our origin in a message's text part. */
const linkIn = (r: Received, origin: string, path = "/email/") =>
  (r.mail.text ?? "").match(new RegExp(`${origin.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}${path}[^\\s>)\\]]+`))?.[0];

// Email for readers without an account, end to end through a real SMTP server: subscribe from the public page
// (double opt-in), get each post with both parts, DKIM-signed (checked by mailauth, an independent verifier), with
// RFC 8058 one-click unsubscribe; a 550 suppresses, a digest gathers posts, a deleted post is not sent.
describe.each(DIALECTS)("email subscriptions on %s", (dialect) => {
  let tmp: ReturnType<typeof tempDir>;
  let smtp: Awaited<ReturnType<typeof startSmtpSink>>;
  let lectern: TestLectern;
  let dkim: ReturnType<typeof dkimKey>;
  let token = "";
  const origin = () => lectern.origin.origin;
  const db = () => lectern.server.lectern.db;

  beforeAll(async () => {
    tmp = tempDir();
    smtp = await startSmtpSink({ deferrals: 1 });
    dkim = dkimKey(tmp.dir);
    lectern = await startTestLectern(tmp.dir, {
      dialect,
      env: {
        LECTERN_EMAIL_SMTP_URL: smtp.url,
        LECTERN_EMAIL_FROM: "Test Author <news@lectern.example>",
        LECTERN_EMAIL_DKIM_SELECTOR: "lectern",
        LECTERN_EMAIL_DKIM_KEY_FILE: dkim.file,
        LECTERN_NAME: "Test Author",
      },
    });
    const owner = await findStaff(db(), "owner");
    token = await tokenForScript(db(), owner?.id as number, "Readers test", "read write");
  }, 60_000);
  afterAll(async () => {
    await lectern?.stop();
    await smtp?.close();
    tmp?.remove();
  });

  const publish = async (status: string, extra: Json = {}) =>
    (await (
      await fetch(new URL("/api/v1/statuses", origin()), {
        method: "POST",
        headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
        body: JSON.stringify({ status, ...extra }),
      })
    ).json()) as Json;
  const form = (path: string, body: Record<string, string>) =>
    fetch(new URL(path, origin()), {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(body),
    });
  /** Subscribes from the page's form and confirms through the emailed link (a page with a button). */
  const subscribeAndConfirm = async (address: string) => {
    const asked = await form("/email/subscribe", { email: address });
    expect(asked.status).toBe(200);
    expect(await asked.text()).toContain("Check your inbox");
    const confirmation = await waitFor(() => smtp.to(address)[0], 20_000, `confirmation to ${address}`);
    const link = linkIn(confirmation, origin(), "/email/confirm");
    expect(link).toBeDefined();
    // Following the link (as a scanner would) confirms nothing: it shows a button.
    const shown = await fetch(link as string);
    expect(await shown.text()).toContain("Confirm my subscription");
    expect(await scalar(db(), "SELECT status FROM email_subscribers WHERE address = ?", address)).toBe("pending");
    const done = await fetch(link as string, { method: "POST" });
    expect(done.status).toBe(200);
    // The link works once.
    expect((await fetch(link as string, { method: "POST" })).status).toBe(400);
    return link as string;
  };

  it("shows the form on the public page; a bad address is refused and nothing is stored", async () => {
    const page = await (await fetch(new URL("/", origin()), { headers: { Accept: "text/html" } })).text();
    expect(page).toMatch(/<form method="post" action="\/email\/subscribe"/);
    expect(page).toMatch(/<input[^>]*type="email"[^>]*name="email"/);
    for (const bad of [
      "not-an-address",
      "a@b",
      "x@example.com\r\nBcc: victim@example.org",
      `${"a".repeat(250)}@example.com`,
    ]) {
      const res = await form("/email/subscribe", { email: bad });
      expect(res.status).toBe(400);
    }
    expect(Number(await scalar(db(), "SELECT count(*) FROM email_subscribers"))).toBe(0);
    // From another site's page: refused.
    const forged = await fetch(new URL("/email/subscribe", origin()), {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded", Origin: "https://evil.example" },
      body: "email=reader%40example.com",
    });
    expect(forged.status).toBe(403);
  });

  it("confirms, sends each post DKIM-signed with both parts and one-click unsubscribe, which ends it at once", async () => {
    await subscribeAndConfirm("reader@example.com");
    // Asking again says the same, and sends nothing more (one confirmation a day at most).
    const again = await form("/email/subscribe", { email: "reader@example.com" });
    expect(await again.text()).toContain("Check your inbox");
    const post = await publish("Hello, readers without an account! #news");
    const mail = await waitFor(
      () => smtp.to("reader@example.com").find((r) => /Hello, readers/.test(r.mail.subject ?? "")),
      20_000,
      "the post by email",
    );
    expect(smtp.to("reader@example.com")).toHaveLength(2); // the confirmation, then the post
    expect(mail.mail.html).toContain("Hello, readers without an account!");
    expect(mail.mail.text).toContain("Hello, readers without an account!");
    expect(mail.mail.text).toContain(post.url);
    expect(mail.mail.from?.value[0]).toMatchObject({ address: "news@lectern.example", name: "Test Author" });
    expect(mail.mail.headers.get("reply-to")).toBeUndefined();
    // RFC 8058: an unsubscribe URL to POST, and the header saying one click does it.
    const listUnsubscribe = String(mail.raw.toString().match(/^List-Unsubscribe:\s*<([^>]+)>/m)?.[1]);
    expect(listUnsubscribe.startsWith(`${origin()}/email/unsubscribe?`)).toBe(true);
    expect(mail.raw.toString()).toMatch(/^List-Unsubscribe-Post: List-Unsubscribe=One-Click\r?$/m);
    expect(mail.mail.text).toContain(listUnsubscribe); // and visible in the message
    // DKIM: verified by an independent implementation, against the published record.
    const verified = await authenticate(mail.raw, {
      ip: "127.0.0.1",
      helo: "localhost",
      mta: "mx.example.com",
      disableArc: true,
      disableBimi: true,
      disableDmarc: true,
      resolver: async (name: string, type: string) => {
        if (type === "TXT" && name === "lectern._domainkey.lectern.example") return [[dkim.record]];
        throw Object.assign(new Error("not found"), { code: "ENOTFOUND" });
      },
    });
    const signature = verified.dkim.results[0] as { status: { result: string }; signingDomain: string };
    expect(signature.status.result).toBe("pass");
    expect(signature.signingDomain).toBe("lectern.example");
    // Per post: queued and sent by email.
    const counts = await waitFor(
      async () => {
        const r = await db().get<Json>(
          sql`SELECT queued, sent FROM reader_fanouts WHERE post_id = ${post.id} AND channel = 'email'`,
        );
        return r && Number(r.sent) === 1 ? r : undefined;
      },
      10_000,
      "counts",
    );
    expect(Number(counts.queued)).toBe(1);
    // An edit after sending is not sent again.
    const edited = await fetch(new URL(`/api/v1/statuses/${post.id}`, origin()), {
      method: "PUT",
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
      body: JSON.stringify({ status: "Hello, readers without an account! (edited) #news" }),
    });
    expect(edited.status).toBe(200);
    await new Promise((r) => setTimeout(r, 3_500));
    expect(smtp.to("reader@example.com")).toHaveLength(2);

    // One click, as a mail provider sends it.
    const res = await fetch(listUnsubscribe, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: "List-Unsubscribe=One-Click",
    });
    expect(res.status).toBe(200);
    expect(await scalar(db(), "SELECT count(*) FROM email_subscribers WHERE address = 'reader@example.com'")).toBe(0);
    expect(await scalar(db(), "SELECT status FROM email_subscribers WHERE status = 'unsubscribed'")).toBe(
      "unsubscribed",
    );
    // A link for another subscriber (a changed id) is refused.
    const other = listUnsubscribe.replace(/s=(\d+)/, (_, n) => `s=${Number(n) + 1}`);
    expect((await fetch(other, { method: "POST" })).status).toBe(400);
    await publish("A second post nobody unsubscribed gets");
    await new Promise((r) => setTimeout(r, 3_500));
    expect(smtp.to("reader@example.com")).toHaveLength(2);
  }, 60_000);

  it("suppresses an address the SMTP server refuses for good, and retries one it defers", async () => {
    await subscribeAndConfirm("later@example.org");
    // The bounce address never sees its confirmation: it is suppressed at the first 550.
    await form("/email/subscribe", { email: "bounce@example.net" });
    await waitFor(
      async () =>
        (await scalar(db(), "SELECT count(*) FROM email_subscribers WHERE status = 'suppressed'")) === 1 || undefined,
      20_000,
      "suppression",
    );
    expect(await scalar(db(), "SELECT count(*) FROM email_subscribers WHERE address LIKE 'bounce%'")).toBe(0);
    // Subscribing it again does nothing.
    await form("/email/subscribe", { email: "bounce@example.net" });
    expect(await scalar(db(), "SELECT count(*) FROM email_subscribers WHERE status = 'pending'")).toBe(0);
    // `later@` was deferred once (451) before its confirmation went through: the post reaches it.
    await publish("For the patient reader");
    await waitFor(
      () => smtp.to("later@example.org").find((r) => /patient/.test(r.mail.subject ?? "")),
      20_000,
      "the deferred post",
    );
  }, 60_000);

  it("gathers posts into a digest chosen from the email's link; a post deleted before it leaves is left out", async () => {
    await subscribeAndConfirm("digest@example.com");
    const first = await publish("Digest me, first");
    const mail = await waitFor(
      () => smtp.to("digest@example.com").find((r) => /first/.test(r.mail.subject ?? "")),
      20_000,
      "first",
    );
    const daily = String(mail.mail.text?.match(/A daily digest: (\S+)/)?.[1]);
    expect((await fetch(daily)).status).toBe(200);
    expect((await fetch(daily, { method: "POST" })).status).toBe(200);
    expect(first.id).toBeDefined();
    const kept = await publish("Digest me, kept");
    const gone = await publish("Digest me, deleted before the digest");
    await fetch(new URL(`/api/v1/statuses/${gone.id}`, origin()), {
      method: "DELETE",
      headers: { Authorization: `Bearer ${token}` },
    });
    const also = await publish("Digest me, also kept");
    // Past the settling time (a message holds posts handed over at least 2 s before it leaves, on a whole second).
    await new Promise((r) => setTimeout(r, 3_500));
    expect(smtp.to("digest@example.com")).toHaveLength(2); // nothing until the digest is due
    // A day later, as far as the worker knows.
    await db().run(sql`UPDATE email_subscribers SET due_at = 1 WHERE cadence = 'daily'`);
    const digest = await waitFor(
      () => smtp.to("digest@example.com").find((r) => /digest/.test(r.mail.subject ?? "")),
      20_000,
      "digest",
    );
    expect(digest.mail.subject).toContain("your daily digest (2 posts)");
    expect(digest.mail.text).toContain(kept.url);
    expect(digest.mail.text).toContain(also.url);
    expect(digest.mail.text).not.toContain("deleted before the digest");
  }, 60_000);
});
