import { createHash, randomBytes, scrypt, timingSafeEqual } from "node:crypto";
import { InvalidInputError } from "../../shared/errors.ts";
import type { Database } from "../../storage/database.ts";
import { sql } from "../../storage/sql.ts";

export const MIN_PASSWORD_LENGTH = 10;
export const MAX_PASSWORD_LENGTH = 1024;
const SESSION_DAYS = 30;
// scrypt at N=2^15, r=8: about 100 ms and 32 MiB per check, OWASP's recommended floor.
const N = 2 ** 15;
const R = 8;
const P = 1;
const KEY_LENGTH = 64;

export class InvalidPasswordError extends InvalidInputError {
  override name = "InvalidPasswordError";
}

function scryptAsync(password: string, salt: Buffer, n: number, r: number, p: number): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password, salt, KEY_LENGTH, { N: n, r, p, maxmem: 128 * n * r * 2 }, (err, key) =>
      err ? reject(err) : resolve(key),
    ),
  );
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scryptAsync(password, salt, N, R, P);
  return `scrypt$${N}$${R}$${P}$${salt.toString("base64")}$${key.toString("base64")}`;
}

export async function verifyPasswordHash(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split("$");
  if (scheme !== "scrypt" || !salt || !hash) return false;
  const expected = Buffer.from(hash, "base64");
  const key = await scryptAsync(password, Buffer.from(salt, "base64"), Number(n), Number(r), Number(p));
  return key.length === expected.length && timingSafeEqual(key, expected);
}

/** The owner does everything (staff, keys, settings); editors write, edit, delete, schedule and pin. */
export type Role = "owner" | "editor";

export interface Session {
  csrfToken: string;
  expiresAt: number;
  staffId: number;
  username: string;
  role: Role;
  /** `full`, or a sign-in half done: `second-factor` (a factor is asked) or `enrol` (one must be set up). */
  stage: SessionStage;
  createdAt: number;
  /** The WebAuthn challenge of a passkey ceremony in progress. */
  challenge: string | null;
}

export type SessionStage = "full" | "second-factor" | "enrol";

/** A sign-in half done (a second factor asked) lasts ten minutes; a full one thirty days. */
const STAGE_MS: Record<SessionStage, number> = {
  full: SESSION_DAYS * 86_400_000,
  "second-factor": 10 * 60_000,
  enrol: 60 * 60_000,
};

export function tokenHash(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

/** Starts a session for a staff account; the token goes in the cookie, only its hash in the database. */
export async function createSession(
  db: Database,
  staffId: number,
  stage: SessionStage,
  seen: { address: string; userAgent: string },
  now: number = Date.now(),
): Promise<{ token: string }> {
  const token = randomBytes(32).toString("base64url");
  await db.run(sql`DELETE FROM sessions WHERE expires_at < ${now}`);
  await db.run(
    sql`INSERT INTO sessions (token_hash, csrf_token, created_at, expires_at, staff_id, stage, address, user_agent, last_seen_at)
        VALUES (${tokenHash(token)}, ${randomBytes(24).toString("base64url")}, ${now}, ${now + STAGE_MS[stage]}, ${staffId},
          ${stage}, ${seen.address.slice(0, 100)}, ${seen.userAgent.slice(0, 300)}, ${now})`,
  );
  return { token };
}

export async function getSession(db: Database, token: string | undefined, now: number = Date.now()) {
  if (!token || token.length > 100) return undefined;
  const row = await db.get<Session>(
    sql`SELECT s.csrf_token AS "csrfToken", s.expires_at AS "expiresAt", s.staff_id AS "staffId", st.username,
          st.role, s.stage, s.created_at AS "createdAt", s.challenge
        FROM sessions s JOIN staff st ON st.id = s.staff_id
        WHERE s.token_hash = ${tokenHash(token)} AND s.expires_at > ${now}`,
  );
  if (row === undefined) return undefined;
  return { ...row, staffId: Number(row.staffId), expiresAt: Number(row.expiresAt), createdAt: Number(row.createdAt) };
}

/** Notes that a session was used (at most once a minute), for the sessions list. */
export async function touchSession(db: Database, token: string, now: number = Date.now()): Promise<void> {
  await db.run(
    sql`UPDATE sessions SET last_seen_at = ${now} WHERE token_hash = ${tokenHash(token)} AND last_seen_at < ${now - 60_000}`,
  );
}

export async function setChallenge(db: Database, token: string, challenge: string | null): Promise<void> {
  await db.run(sql`UPDATE sessions SET challenge = ${challenge} WHERE token_hash = ${tokenHash(token)}`);
}

export async function endSession(db: Database, token: string | undefined): Promise<void> {
  if (token) await db.run(sql`DELETE FROM sessions WHERE token_hash = ${tokenHash(token)}`);
}

export interface SessionInfo {
  /** An opaque handle (a prefix of the token's hash), enough to revoke it. */
  handle: string;
  createdAt: number;
  lastSeenAt: number | null;
  address: string | null;
  userAgent: string | null;
  current: boolean;
}

/** An account's signed-in sessions, newest first. */
export async function listSessions(
  db: Database,
  staffId: number,
  currentToken: string,
  now: number = Date.now(),
): Promise<SessionInfo[]> {
  const rows = await db.all<{ h: string; c: number; l: number | null; a: string | null; u: string | null }>(
    sql`SELECT token_hash AS h, created_at AS c, last_seen_at AS l, address AS a, user_agent AS u FROM sessions
        WHERE staff_id = ${staffId} AND stage = 'full' AND expires_at > ${now} ORDER BY created_at DESC`,
  );
  const mine = tokenHash(currentToken);
  return rows.map((r) => ({
    handle: r.h.slice(0, 16),
    createdAt: Number(r.c),
    lastSeenAt: r.l === null ? null : Number(r.l),
    address: r.a,
    userAgent: r.u,
    current: r.h === mine,
  }));
}

/** Ends one of an account's sessions by its handle; false when there was none. */
export async function revokeSession(db: Database, staffId: number, handle: string): Promise<boolean> {
  if (!/^[0-9a-f]{16}$/.test(handle)) return false;
  return (await db.run(sql`DELETE FROM sessions WHERE staff_id = ${staffId} AND token_hash LIKE ${`${handle}%`}`)) > 0;
}

export function sameToken(a: string | undefined, b: string): boolean {
  if (a === undefined) return false;
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** A session that had to set up a second factor, once one exists: a full one. */
export async function completeEnrolment(db: Database, token: string): Promise<void> {
  await db.run(sql`UPDATE sessions SET stage = 'full' WHERE token_hash = ${tokenHash(token)} AND stage = 'enrol'`);
}
