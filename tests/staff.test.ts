import { randomBytes } from "node:crypto";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import jsQRModule from "jsqr";
import { Secret, TOTP } from "otpauth";
import sharp from "sharp";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { audit, COMMAND_LINE, listAudit } from "../src/product/access/audit.ts";
import { beginTotp, confirmTotp, useRecoveryCode, verifyTotp } from "../src/product/access/factors.ts";
import { SecretBox } from "../src/product/access/secrets.ts";
import {
  createStaff,
  ensureOwner,
  findStaff,
  removeStaff,
  requireSecondFactor,
  StaffError,
  setPassword,
  setRole,
} from "../src/product/access/staff.ts";
import { attemptSource, DEFAULT_RULES, SignInThrottle } from "../src/product/access/throttle.ts";
import type { Database } from "../src/storage/database.ts";
import { sql } from "../src/storage/sql.ts";
import { describeUserAgent } from "../src/web/user-agent.ts";
import { runCli } from "./helpers/cli.ts";
import { DIALECTS, freshDatabase } from "./helpers/databases.ts";
import { startTestLectern, type TestLectern, tempDir } from "./helpers/lectern.ts";
import { scalar } from "./helpers/rows.ts";

// jsqr is CommonJS: its default export is the module itself.
const jsQR = jsQRModule as unknown as typeof jsQRModule.default;

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

/** A fresh temporary directory, removed after the test. */
function tempDirFor(): string {
  const t = tempDir();
  cleanups.push(t.remove);
  return t.dir;
}

const code = (secret: string, at: number) =>
  new TOTP({ secret: Secret.fromBase32(secret), digits: 6, period: 30 }).generate({ timestamp: at });

describe.each(DIALECTS)("staff, factors and the audit log on %s", (dialect) => {
  const fresh = (): Promise<Database> => freshDatabase(dialect, cleanups);

  it("the audit log is append-only: the database refuses to change or delete an entry", async () => {
    const db = await fresh();
    await audit(db, COMMAND_LINE, "publish", "https://example.org/posts/1");
    await expect(db.run(sql`UPDATE audit_log SET actor = 'someone else'`)).rejects.toThrow(
      /audit log cannot be changed/,
    );
    await expect(db.run(sql`DELETE FROM audit_log`)).rejects.toThrow(/audit log cannot be changed/);
    const { items } = await listAudit(db, 10);
    expect(items).toMatchObject([{ actor: "command line", action: "publish", address: "local" }]);
  });

  it("keeps the password of an install from before staff accounts as the owner's", async () => {
    const db = await fresh();
    const { hashPassword } = await import("../src/product/access/auth.ts");
    await db.run(
      sql`INSERT INTO instance (key, value) VALUES ('password_hash', ${await hashPassword("the old single password")})`,
    );
    expect(await ensureOwner(db)).toBeUndefined(); // nothing made up: the old password stays
    const { checkCredentials } = await import("../src/product/access/staff.ts");
    expect((await checkCredentials(db, "owner", "the old single password"))?.role).toBe("owner");
    expect(await checkCredentials(db, "owner", "a wrong password!")).toBeUndefined();
  });

  it("never leaves the account without an owner; names are checked and unique", async () => {
    const db = await fresh();
    await ensureOwner(db);
    const owner = (await findStaff(db, "owner")) as NonNullable<Awaited<ReturnType<typeof findStaff>>>;
    await expect(setRole(db, owner.id, "editor")).rejects.toThrow(StaffError);
    await expect(removeStaff(db, owner.id)).rejects.toThrow(/last owner/);
    await expect(createStaff(db, { username: "Bad Name!", role: "editor" })).rejects.toThrow(/lower-case/);
    await expect(createStaff(db, { username: "owner", role: "editor" })).rejects.toThrow(/already/);
    await expect(createStaff(db, { username: "ed", role: "editor", password: "short" })).rejects.toThrow(
      /10 characters/,
    );
    const { staff: second } = await createStaff(db, { username: "second", role: "owner" });
    await setRole(db, owner.id, "editor"); // another owner exists now
    expect((await findStaff(db, "owner"))?.role).toBe("editor");
    await removeStaff(db, owner.id);
    expect((await findStaff(db, "second"))?.id).toBe(second.id);
  });

  it("TOTP: a code works once; recovery codes work once each; a new setup replaces the codes", async () => {
    const db = await fresh();
    await ensureOwner(db);
    const owner = (await findStaff(db, "owner")) as NonNullable<Awaited<ReturnType<typeof findStaff>>>;
    const box = await SecretBox.open(path.join(tempDirFor(), "secret.key"), db);
    const { secret } = await beginTotp(db, box, owner, "Lectern (test)");
    const t0 = Date.now();
    await expect(confirmTotp(db, box, owner.id, "000000", "x", t0)).rejects.toThrow(/not right/);
    const codes = await confirmTotp(db, box, owner.id, code(secret, t0), "x", t0);
    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);
    // The code that confirmed the setup cannot sign in; the next step's can, once.
    expect(await verifyTotp(db, box, owner.id, code(secret, t0), t0)).toBe(false);
    expect(await verifyTotp(db, box, owner.id, code(secret, t0 + 30_000), t0 + 30_000)).toBe(true);
    expect(await verifyTotp(db, box, owner.id, code(secret, t0 + 30_000), t0 + 30_000)).toBe(false);
    expect(await verifyTotp(db, box, owner.id, "12345", t0 + 60_000)).toBe(false);
    // Recovery codes: once each, any case and spacing.
    expect(await useRecoveryCode(db, owner.id, codes[0].toUpperCase().replace("-", " "))).toBe(true);
    expect(await useRecoveryCode(db, owner.id, codes[0])).toBe(false);
    expect(await useRecoveryCode(db, owner.id, "aaaaa-bbbbb")).toBe(false);
    // Only hashes are stored.
    expect(await scalar(db, "SELECT count(*) FROM recovery_codes WHERE code_hash LIKE '%-%'")).toBe(0);
    expect((await findStaff(db, "owner"))?.recoveryCodesLeft).toBe(9);
    // The database alone does not give the secret away: the row holds it sealed.
    const row = (await scalar(db, "SELECT totp_secret FROM staff WHERE username = 'owner'")) as string;
    expect(row).toMatch(/^sealed:v1:/);
    expect(row).not.toContain(secret);
    expect(Buffer.from(row.split(":").pop() as string, "base64url").toString("latin1")).not.toContain(secret);
  });

  it("seals secrets under a key kept outside the database; a rotation seals them again under a new one", async () => {
    const db = await fresh();
    await ensureOwner(db);
    const owner = (await findStaff(db, "owner")) as NonNullable<Awaited<ReturnType<typeof findStaff>>>;
    const file = path.join(tempDirFor(), "secret.key");
    const box = await SecretBox.open(file, db);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const { secret } = await beginTotp(db, box, owner, "Lectern (test)");
    const t0 = Date.now();
    await confirmTotp(db, box, owner.id, code(secret, t0), "x", t0);
    const before = (await scalar(db, `SELECT totp_secret FROM staff WHERE id = ${owner.id}`)) as string;
    const { keyId, resealed } = await box.rotate(db);
    expect(resealed).toBe(1);
    const after = (await scalar(db, `SELECT totp_secret FROM staff WHERE id = ${owner.id}`)) as string;
    expect(after).toContain(`:${keyId}:`);
    expect(after).not.toBe(before);
    // The file holds the new key alone; a box opened from it reads the secret, another key cannot.
    expect(readFileSync(file, "utf8").trim().split("\n")).toHaveLength(1);
    const again = await SecretBox.open(file, db);
    expect(await verifyTotp(db, again, owner.id, code(secret, t0 + 30_000), t0 + 30_000)).toBe(true);
    const stranger = path.join(tempDirFor(), "other.key");
    await expect(SecretBox.open(stranger, db)).rejects.toThrow(/is missing, and this database's secrets are sealed/);
    writeFileSync(stranger, `${randomBytes(32).toString("base64url")}\n`);
    const wrong = await SecretBox.open(stranger, db);
    await expect(verifyTotp(db, wrong, owner.id, code(secret, t0 + 60_000), t0 + 60_000)).rejects.toThrow(
      /sealed with key .* does not hold/,
    );
  });
});

describe.each(DIALECTS)("the sign-in throttle on %s", (dialect) => {
  it("frees a few attempts per address, then doubles the wait; a right password clears the address", async () => {
    // (The account's budget set high: only the address's count is looked at here.)
    const t = new SignInThrottle(await freshDatabase(dialect, cleanups), {
      ...DEFAULT_RULES,
      accountChecksPerMinute: 100,
    });
    const at = 1_000_000;
    for (let i = 0; i < 5; i++) expect((await t.begin("password", "192.0.2.1", "owner", at + i)).allowed).toBe(true);
    expect(await t.begin("password", "192.0.2.1", "owner", at + 10)).toMatchObject({
      allowed: false,
      reason: "address",
    });
    expect((await t.begin("password", "192.0.2.1", "owner", at + 1010)).allowed).toBe(true);
    const refused = await t.begin("password", "192.0.2.1", "owner", at + 1020);
    expect(refused).toMatchObject({ allowed: false, reason: "address" });
    expect(refused.allowed === false && refused.retryAfterMs).toBeGreaterThan(1900);
    await t.result("password", "192.0.2.1", true);
    expect((await t.begin("password", "192.0.2.1", "owner", at + 1030)).allowed).toBe(true);
  });

  it("gives addresses that failed lately a few checks a minute per account; a fresh address is never held", async () => {
    const t = new SignInThrottle(await freshDatabase(dialect, cleanups));
    const at = 5_000_000;
    // Twenty guessers: each one's first attempt is free, the next ones share the account's budget.
    let checked = 0;
    for (let round = 0; round < 3; round++)
      for (let g = 0; g < 20; g++)
        if ((await t.begin("password", `198.51.100.${g}`, "owner", at + round * 10 + g)).allowed) checked++;
    expect(checked).toBe(20 + 4);
    const held = await t.begin("password", "198.51.100.1", "owner", at + 100);
    expect(held).toMatchObject({ allowed: false });
    // The owner from an address with no failures gets in at once, and so does someone on another account.
    expect((await t.begin("password", "203.0.113.9", "owner", at + 101)).allowed).toBe(true);
    // A minute later the budget is back.
    expect((await t.begin("password", "198.51.100.2", "owner", at + 60_100)).allowed).toBe(true);
    // Codes are counted apart from passwords.
    expect((await t.begin("code", "198.51.100.3", "owner", at + 102)).allowed).toBe(true);
  });

  it("counts an IPv6 /64 as one address", () => {
    expect(attemptSource("2001:db8:1:2:aaaa::1")).toBe("2001:db8:1:2::/64");
    expect(attemptSource("2001:0db8:0001:0002:ffff:0:0:9")).toBe("2001:db8:1:2::/64");
    expect(attemptSource("::ffff:192.0.2.7")).toBe("192.0.2.7");
    expect(attemptSource("192.0.2.7")).toBe("192.0.2.7");
  });
});

describe("sessions and the owner's rules, over HTTP", () => {
  let tmp: ReturnType<typeof tempDir>;
  let lectern: TestLectern;
  const origin = () => lectern.origin.origin;
  const post = (path: string, cookie: string, fields: Record<string, string>) =>
    fetch(new URL(path, origin()), {
      method: "POST",
      redirect: "manual",
      headers: { Cookie: cookie, Origin: origin(), "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(fields),
    });
  const signIn = async (username: string, password: string, userAgent = "test") => {
    const res = await fetch(new URL("/admin/login", origin()), {
      method: "POST",
      redirect: "manual",
      headers: { Origin: origin(), "Content-Type": "application/x-www-form-urlencoded", "User-Agent": userAgent },
      body: new URLSearchParams({ username, password }),
    });
    return { res, cookie: (res.headers.get("set-cookie") ?? "").split(";")[0] };
  };
  const csrfOf = async (cookie: string, path = "/admin/security") =>
    /name="_csrf" value="([^"]+)"/.exec(
      await (await fetch(new URL(path, origin()), { headers: { cookie } })).text(),
    )?.[1] as string;

  beforeAll(async () => {
    tmp = tempDir();
    lectern = await startTestLectern(tmp.dir);
    await setPassword(lectern.server.lectern.db, "the owner's long password", "owner");
  });
  afterAll(async () => {
    await lectern?.stop();
    tmp?.remove();
  });

  it("names each session's browser and system as people say them, the raw User-Agent in its title", async () => {
    const firefoxAndroid = "Mozilla/5.0 (Android 14; Mobile; rv:133.0) Gecko/133.0 Firefox/133.0";
    const { cookie } = await signIn("owner", "the owner's long password", firefoxAndroid);
    const page = await (await fetch(new URL("/admin/security", origin()), { headers: { cookie } })).text();
    expect(page).toContain(`<td title="${firefoxAndroid}">Firefox on Android</td>`);
    for (const [ua, words] of [
      [
        "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
        "Safari on iPhone",
      ],
      [
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
        "Chrome on Windows",
      ],
      [
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
        "Edge on Windows",
      ],
      [
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
        "Safari on macOS",
      ],
      ["curl/8.11.0", null],
    ] as const)
      expect(describeUserAgent(ua)).toBe(words);
  });

  it("lists sessions and ends one; a password change asks for the current one and ends the others", async () => {
    const a = await signIn("owner", "the owner's long password", "Browser A");
    const b = await signIn("owner", "the owner's long password", "Browser B");
    expect(a.res.status).toBe(303);
    const page = await (await fetch(new URL("/admin/security", origin()), { headers: { cookie: a.cookie } })).text();
    expect(page).toContain("Browser A");
    expect(page).toContain("Browser B");
    const handle = /name="session" value="([0-9a-f]{16})"/.exec(page)?.[1] as string;
    expect(
      (await post("/admin/security/sessions/revoke", a.cookie, { _csrf: await csrfOf(a.cookie), session: handle }))
        .status,
    ).toBe(303);
    expect(
      (await fetch(new URL("/admin", origin()), { headers: { cookie: b.cookie }, redirect: "manual" })).headers.get(
        "location",
      ),
    ).toBe("/admin/login");

    const c = await signIn("owner", "the owner's long password", "Browser C");
    const csrf = await csrfOf(a.cookie);
    const wrong = await post("/admin/security/password", a.cookie, {
      _csrf: csrf,
      current: "not it at all",
      password: "a brand new password",
    });
    expect(wrong.status).toBe(403);
    const changed = await post("/admin/security/password", a.cookie, {
      _csrf: csrf,
      current: "the owner's long password",
      password: "a brand new password",
    });
    expect(changed.status).toBe(303);
    // This session goes on; the other one is signed out.
    expect(
      (await fetch(new URL("/admin", origin()), { headers: { cookie: a.cookie }, redirect: "manual" })).status,
    ).toBe(200);
    expect(
      (await fetch(new URL("/admin", origin()), { headers: { cookie: c.cookie }, redirect: "manual" })).status,
    ).toBe(303);
    expect((await signIn("owner", "a brand new password")).res.status).toBe(303);
    await setPassword(lectern.server.lectern.db, "the owner's long password", "owner");
  });

  it("when the owner requires a second factor, someone without one can open only the security page", async () => {
    const db = lectern.server.lectern.db;
    await createStaff(db, { username: "newcomer", role: "editor", password: "the newcomer's password" });
    await requireSecondFactor(db, true);
    try {
      const { res, cookie } = await signIn("newcomer", "the newcomer's password");
      expect(res.headers.get("location")).toBe("/admin/security?notice=enrol");
      for (const path of ["/admin", "/admin/posts"]) {
        const r = await fetch(new URL(path, origin()), { headers: { cookie }, redirect: "manual" });
        expect(r.headers.get("location"), path).toBe("/admin/security?notice=enrol");
      }
      const publish = await post("/admin/posts", cookie, {
        _csrf: await csrfOf(cookie),
        text: "sneaky",
        action: "publish",
      });
      expect(publish.status).toBe(403);
      expect(await scalar(db, "SELECT count(*) FROM posts")).toBe(0);
      // Setting up TOTP opens the desk.
      const csrf = await csrfOf(cookie);
      const setup = await (
        await post("/admin/security/totp", cookie, { _csrf: csrf, current: "the newcomer's password" })
      ).text();
      const secret = /id="totp-secret">([A-Z2-7]+)</.exec(setup)?.[1] as string;
      // The QR code beside it decodes (jsQR, from the SVG rasterized by sharp) to the same key.
      const svg = /<div class="qr" id="totp-qr"[^>]*>(<svg[\s\S]*?<\/svg>)/.exec(setup)?.[1] as string;
      const { data, info } = await sharp(Buffer.from(svg), { density: 300 })
        .resize(400, 400)
        .flatten({ background: "#fff" })
        .ensureAlpha()
        .raw()
        .toBuffer({ resolveWithObject: true });
      const decoded = jsQR(new Uint8ClampedArray(data), info.width, info.height);
      expect(decoded?.data).toMatch(new RegExp(`^otpauth://totp/.*[?&]secret=${secret}(&|$)`));
      const done = await post("/admin/security/totp/confirm", cookie, { _csrf: csrf, code: code(secret, Date.now()) });
      expect(done.status).toBe(200);
      expect((await fetch(new URL("/admin", origin()), { headers: { cookie }, redirect: "manual" })).status).toBe(200);
    } finally {
      await requireSecondFactor(db, false);
    }
  });

  it("signing in with a passkey alone refuses other sites, forms, and answers without a challenge", async () => {
    const start = (headers: Record<string, string>) =>
      fetch(new URL("/admin/login/passkey/start", origin()), { method: "POST", headers, body: "{}" });
    expect((await start({ Origin: "https://elsewhere.example", "Content-Type": "application/json" })).status).toBe(403);
    expect((await start({ "Sec-Fetch-Site": "cross-site", "Content-Type": "application/json" })).status).toBe(403);
    expect((await start({ Origin: origin(), "Content-Type": "text/plain" })).status).toBe(403);
    const ok = await start({ Origin: origin(), "Content-Type": "application/json" });
    expect(ok.status).toBe(200);
    const options = (await ok.json()) as { challenge: string; userVerification: string; allowCredentials?: unknown[] };
    expect(options.userVerification).toBe("required");
    expect(options.allowCredentials ?? []).toHaveLength(0);
    expect(ok.headers.get("set-cookie")).toMatch(/^lectern_passkey=[A-Za-z0-9_-]{32}; .*HttpOnly; SameSite=Strict/);
    // An answer with no challenge behind it (no cookie) opens nothing.
    const finish = await fetch(new URL("/admin/login/passkey/finish", origin()), {
      method: "POST",
      headers: { Origin: origin(), "Content-Type": "application/json" },
      body: JSON.stringify({ response: { id: "made-up", response: {} } }),
    });
    expect(finish.status).toBe(401);
    expect(finish.headers.get("set-cookie") ?? "").not.toContain("lectern_session=");
  });

  it("counts wrong second-factor codes like wrong passwords, and the CLI resets lost factors", async () => {
    const db = lectern.server.lectern.db;
    const { res, cookie } = await signIn("newcomer", "the newcomer's password");
    expect(res.headers.get("location")).toBe("/admin/login/verify");
    const page = await (await fetch(new URL("/admin/login/verify", origin()), { headers: { cookie } })).text();
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page)?.[1] as string;
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++)
      statuses.push((await post("/admin/login/verify", cookie, { _csrf: csrf, code: String(100000 + i) })).status);
    expect(statuses.slice(0, 5).every((s) => s === 401)).toBe(true);
    expect(statuses).toContain(429);
    const reset = await runCli(["staff", "reset-factors", "newcomer"], lectern.env);
    expect(reset.code, reset.stderr).toBe(0);
    expect((await findStaff(db, "newcomer"))?.totp).toBe(false);
    const { items } = await listAudit(db, 50);
    expect(items.some((e) => e.action === "staff-reset-factors" && e.actor === "command line")).toBe(true);
    expect(items.filter((e) => e.action === "second-factor-failed").length).toBeGreaterThanOrEqual(5);
  });

  it("the CLI adds staff and sets passwords; a failed sign-in is in the audit log with its address", async () => {
    const added = await runCli(["staff", "add", "writer", "--role", "editor"], lectern.env);
    expect(added.code, added.stderr).toBe(0);
    const password = /shown only now: (\S+)/.exec(added.stdout)?.[1] as string;
    expect((await signIn("writer", password)).res.status).toBe(303);
    const set = await runCli(["set-password", "writer"], lectern.env, "another long password\n");
    expect(set.code, set.stderr).toBe(0);
    expect((await signIn("writer", password)).res.status).toBe(401);
    expect((await signIn("writer", "another long password")).res.status).toBe(303);
    const listed = await runCli(["staff", "list"], lectern.env);
    expect(listed.stdout).toMatch(/writer\teditor\tno second factor/);
    const { items } = await listAudit(lectern.server.lectern.db, 100);
    expect(items.some((e) => e.action === "sign-in-failed" && e.actor === "writer" && e.address === "127.0.0.1")).toBe(
      true,
    );
  });
});
