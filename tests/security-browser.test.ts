import { Secret, TOTP } from "otpauth";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchBrowser } from "./helpers/browser.ts";
import { freePort, startTestLectern, type TestLectern, tempDir } from "./helpers/lectern.ts";

/** The code an authenticator app would show `offsetMs` from now. */
function codeFor(secret: string, offsetMs = 0): string {
  return new TOTP({ secret: Secret.fromBase32(secret), digits: 6, period: 30 }).generate({
    timestamp: Date.now() + offsetMs,
  });
}

// Second factors, staff and the audit log as people use them, in a real Chromium. The origin is
// http://localhost: WebAuthn needs a secure context and a host name (not an IP address).
describe("a defended desk in a browser", () => {
  let tmp: ReturnType<typeof tempDir>;
  let lectern: TestLectern;
  let browser: Browser;
  let owner: BrowserContext;
  let page: Page;
  let totpSecret = "";
  let recoveryCodes: string[] = [];
  const password = () => lectern.server.initialPassword as string;
  const at = (path: string) => new URL(path, lectern.origin).href;
  const signIn = async (p: Page, username: string, secret: string) => {
    await p.goto(at("/admin/login"));
    await p.fill("#username", username);
    await p.fill("#password", secret);
    await Promise.all([p.waitForLoadState("load"), p.click("button[type=submit]")]);
  };
  const signOut = async (p: Page) => {
    await Promise.all([p.waitForURL(at("/")), p.click("header form button")]);
  };

  beforeAll(async () => {
    tmp = tempDir();
    const port = await freePort();
    lectern = await startTestLectern(tmp.dir, { port, env: { LECTERN_ORIGIN: `http://localhost:${port}` } });
    browser = await launchBrowser();
    owner = await browser.newContext({ viewport: { width: 1100, height: 900 } });
    page = await owner.newPage();
  });
  afterAll(async () => {
    await browser?.close();
    await lectern?.stop();
    tmp?.remove();
  });

  it("enrols an authenticator app (TOTP), shows recovery codes once, and asks for a code at the next sign-in", async () => {
    await signIn(page, "owner", password());
    expect(page.url()).toBe(at("/admin?notice=signed-in"));
    await page.goto(at("/admin/security"));
    await page.fill("#current-totp", password());
    await Promise.all([page.waitForLoadState("load"), page.click("form[action='/admin/security/totp'] button")]);
    totpSecret = (await page.locator("#totp-secret").textContent()) as string;
    expect(totpSecret).toMatch(/^[A-Z2-7]{32}$/);
    // The code that turns it on is the one replayed below: a code works once, whatever the clock does meanwhile.
    const enrolCode = codeFor(totpSecret);
    await page.fill("#totp-code", enrolCode);
    await Promise.all([
      page.waitForLoadState("load"),
      page.click("form[action='/admin/security/totp/confirm'] button"),
    ]);
    const codes = await page.locator("#recovery-codes code").allTextContents();
    expect(codes).toHaveLength(10);
    recoveryCodes = codes;
    await expect(page.locator("main").textContent()).resolves.toContain("Authenticator app turned on");

    await signOut(page);
    await signIn(page, "owner", password());
    expect(page.url()).toBe(at("/admin/login/verify"));
    // The desk stays shut until the second step.
    await page.goto(at("/admin"));
    expect(page.url()).toBe(at("/admin/login/verify"));
    // The code used to enrol cannot be used again; the app's next one works.
    await page.fill("#code", enrolCode);
    await Promise.all([
      page.waitForLoadState("load"),
      page.click("form[action='/admin/login/verify'] button[type=submit] >> nth=0"),
    ]);
    await expect(page.locator(".error").textContent()).resolves.toContain("not right");
    await page.fill("#code", codeFor(totpSecret, 30_000));
    await Promise.all([
      page.waitForURL(at("/admin?notice=signed-in")),
      page.click("form[action='/admin/login/verify'] button[type=submit] >> nth=0"),
    ]);
  });

  it("enrols a passkey with Chromium's virtual authenticator and signs in with it", async () => {
    const cdp = await owner.newCDPSession(page);
    await cdp.send("WebAuthn.enable");
    await cdp.send("WebAuthn.addVirtualAuthenticator", {
      options: {
        protocol: "ctap2",
        transport: "internal",
        hasResidentKey: true,
        hasUserVerification: true,
        isUserVerified: true,
        automaticPresenceSimulation: true,
      },
    });
    await page.goto(at("/admin/security"));
    await page.fill("#passkey-name", "Test laptop");
    await page.fill("#passkey-current", password());
    await Promise.all([
      page.waitForURL(at("/admin/security?notice=passkey")),
      page.click("button[data-passkey=register]"),
    ]);
    await expect(page.locator("main").textContent()).resolves.toContain("Test laptop");

    await signOut(page);
    await signIn(page, "owner", password());
    expect(page.url()).toBe(at("/admin/login/verify"));
    await Promise.all([page.waitForURL(at("/admin?notice=signed-in")), page.click("button[data-passkey=login]")]);

    // And with the passkey alone: no username, no password (the device verified its user).
    await signOut(page);
    await page.goto(at("/admin/login"));
    await Promise.all([
      page.waitForURL(at("/admin?notice=signed-in")),
      page.click("button[data-passkey=login]:has-text('Sign in with a passkey')"),
    ]);
    await expect(page.locator("main").textContent()).resolves.toContain("Signed in.");
  });

  it("an editor writes but cannot open staff or settings; the audit log shows each action with its author", async () => {
    await page.goto(at("/admin/staff"));
    await page.fill("#new-username", "editor.one");
    await page.selectOption("#new-role", "editor");
    await Promise.all([page.waitForLoadState("load"), page.click("form[action='/admin/staff'] button")]);
    const editorPassword = (await page.locator("#new-staff-password").textContent()) as string;
    expect(editorPassword.length).toBeGreaterThanOrEqual(20);

    const other = await browser.newContext();
    const editor = await other.newPage();
    await signIn(editor, "editor.one", editorPassword);
    expect(editor.url()).toBe(at("/admin?notice=signed-in"));
    // No owner's links, and the owner's pages are refused.
    await expect(editor.locator("header").textContent()).resolves.not.toContain("Staff");
    for (const path of [
      "/admin/staff",
      "/admin/profile",
      "/admin/audit",
      "/admin/followers",
      "/admin/audience",
      "/admin/blocks",
    ]) {
      const res = await editor.goto(at(path));
      expect(res?.status(), path).toBe(403);
    }
    await editor.goto(at("/admin"));
    await editor.fill("#text", "Written by the editor.");
    await Promise.all([editor.waitForURL(/notice=published$/), editor.click("button[value=publish]")]);
    await other.close();

    await page.goto(at("/admin/audit"));
    const rows = await page.locator("table.audit tbody tr").allTextContents();
    const has = (who: string, what: string) => rows.some((r) => r.includes(who) && r.includes(what));
    expect(has("editor.one", "published")).toBe(true);
    expect(has("editor.one", "signed in")).toBe(true);
    expect(has("owner", "added a staff account")).toBe(true);
    expect(has("owner", "added a passkey")).toBe(true);
    expect(has("owner", "turned on an authenticator app")).toBe(true);
    expect(has("owner", "signed in")).toBe(true);
    expect(rows.some((r) => r.includes("127.0.0.1"))).toBe(true);
  });

  it("a Mastodon app is allowed through the desk's sign-in with a second factor, then posts", async () => {
    const app = (await (
      await fetch(at("/api/v1/apps"), {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          client_name: "Phone App",
          redirect_uris: "http://127.0.0.1:1/callback",
          scopes: "read write",
        }),
      })
    ).json()) as { client_id: string; client_secret: string };
    const fresh = await browser.newContext();
    const phone = await fresh.newPage();
    // The app's callback: caught here (nothing listens there).
    let callback = "";
    await phone.route("http://127.0.0.1:1/**", async (route) => {
      callback = route.request().url();
      await route.fulfill({ body: "back in the app" });
    });
    const query = new URLSearchParams({
      client_id: app.client_id,
      redirect_uri: "http://127.0.0.1:1/callback",
      response_type: "code",
      scope: "read write",
    });
    await phone.goto(at(`/oauth/authorize?${query}`));
    expect(phone.url()).toContain("/admin/login?next=");
    await phone.fill("#username", "owner");
    await phone.fill("#password", password());
    await Promise.all([phone.waitForURL(/\/admin\/login\/verify/), phone.click("button[type=submit]")]);
    await phone.click("details summary");
    await phone.fill("#recovery", recoveryCodes[0]);
    await Promise.all([phone.waitForURL(/\/oauth\/authorize/), phone.click("form:has(#recovery) button[type=submit]")]);
    await expect(phone.locator("h1").textContent()).resolves.toBe("Allow Phone App to use this account?");
    await Promise.all([phone.waitForURL(/127\.0\.0\.1:1\/callback/), phone.click("button[value=allow]")]);
    const code = new URL(callback).searchParams.get("code") as string;
    await fresh.close();
    const token = (await (
      await fetch(at("/oauth/token"), {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          grant_type: "authorization_code",
          code,
          client_id: app.client_id,
          client_secret: app.client_secret,
          redirect_uri: "http://127.0.0.1:1/callback",
        }),
      })
    ).json()) as { access_token: string };
    const posted = await fetch(at("/api/v1/statuses"), {
      method: "POST",
      headers: { authorization: `Bearer ${token.access_token}`, "content-type": "application/json" },
      body: JSON.stringify({ status: "From the phone app" }),
    });
    expect(posted.status).toBe(200);
    await page.goto(at("/admin/audit"));
    const rows = await page.locator("table.audit tbody tr").allTextContents();
    expect(rows.some((r) => r.includes("allowed an app") && r.includes("Phone App"))).toBe(true);
    expect(rows.some((r) => r.includes("published") && r.includes("via Phone App"))).toBe(true);
  });

  it("the password becomes optional once there is a passkey: removed, then only the passkey signs in", async () => {
    await page.goto(at("/admin/security"));
    await page.fill("#current-password-remove", password());
    await Promise.all([
      page.waitForURL(at("/admin/security?notice=password-removed")),
      page.click("form[action='/admin/security/password/remove'] button"),
    ]);
    await expect(page.locator("main").textContent()).resolves.toContain("None: you sign in with a passkey alone.");
    // The old password no longer opens anything, and says no more than a wrong one would.
    await signOut(page);
    await signIn(page, "owner", password());
    expect(page.url()).toBe(at("/admin/login"));
    await expect(page.locator(".error").textContent()).resolves.toContain("not right");
    await Promise.all([
      page.waitForURL(at("/admin?notice=signed-in")),
      page.click("button[data-passkey=login]:has-text('Sign in with a passkey')"),
    ]);
    // Its only passkey cannot go; a fresh passkey sign-in confirms changes without a password.
    await page.goto(at("/admin/security"));
    await Promise.all([
      page.waitForLoadState("load"),
      page.click("form[action='/admin/security/passkeys/remove'] button"),
    ]);
    await expect(page.locator(".error").textContent()).resolves.toContain("this is your only way in");
    await expect(page.locator("main").textContent()).resolves.toContain("Test laptop");
    await page.fill("#new-password", "a new password for the owner");
    await Promise.all([
      page.waitForURL(at("/admin/security?notice=password")),
      page.click("form[action='/admin/security/password'] button"),
    ]);
    await signOut(page);
    await signIn(page, "owner", "a new password for the owner");
    expect(page.url()).toBe(at("/admin/login/verify"));
    await Promise.all([page.waitForURL(at("/admin?notice=signed-in")), page.click("button[data-passkey=login]")]);
    await page.goto(at("/admin/audit"));
    const rows = await page.locator("table.audit tbody tr").allTextContents();
    expect(rows.some((r) => r.includes("owner") && r.includes("removed their password"))).toBe(true);
  });
});
