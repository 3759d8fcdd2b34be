import { createHash, randomBytes, scrypt, timingSafeEqual } from "node:crypto";
import { InvalidInputError } from "../errors.ts";
import type { Database } from "../storage/database.ts";
import { sql } from "../storage/sql.ts";
import { getSetting, setSetting } from "./instance.ts";

const PASSWORD_KEY = "password_hash";
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

export async function hasPassword(db: Database): Promise<boolean> {
  return (await getSetting(db, PASSWORD_KEY)) !== undefined;
}

/** Sets the author's password (only its hash is kept) and signs every session out. */
export async function setPassword(db: Database, password: string): Promise<void> {
  if ([...password].length < MIN_PASSWORD_LENGTH) {
    throw new InvalidPasswordError(`the password needs at least ${MIN_PASSWORD_LENGTH} characters`);
  }
  if (password.length > MAX_PASSWORD_LENGTH) throw new InvalidPasswordError(`the password is too long`);
  const hash = await hashPassword(password);
  await db.transaction(async (tx) => {
    await setSetting(tx, PASSWORD_KEY, hash);
    await tx.run(sql`DELETE FROM sessions`);
  });
}

/** At first start: makes up a password, stores its hash and returns it (to print once). Undefined when one exists. */
export async function ensurePassword(db: Database): Promise<string | undefined> {
  if (await hasPassword(db)) return undefined;
  const password = randomBytes(15).toString("base64url");
  await setPassword(db, password);
  return password;
}

export async function checkPassword(db: Database, password: string): Promise<boolean> {
  const stored = await getSetting(db, PASSWORD_KEY);
  if (stored === undefined || password.length > MAX_PASSWORD_LENGTH) return false;
  return await verifyPasswordHash(password, stored);
}

export interface Session {
  csrfToken: string;
  expiresAt: number;
}

function tokenHash(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

/** Starts a session; the token goes in the cookie, only its hash in the database. */
export async function createSession(
  db: Database,
  now: number = Date.now(),
): Promise<{ token: string; session: Session }> {
  const token = randomBytes(32).toString("base64url");
  const session = { csrfToken: randomBytes(24).toString("base64url"), expiresAt: now + SESSION_DAYS * 86_400_000 };
  await db.run(sql`DELETE FROM sessions WHERE expires_at < ${now}`);
  await db.run(
    sql`INSERT INTO sessions (token_hash, csrf_token, created_at, expires_at)
        VALUES (${tokenHash(token)}, ${session.csrfToken}, ${now}, ${session.expiresAt})`,
  );
  return { token, session };
}

export async function getSession(db: Database, token: string | undefined, now: number = Date.now()) {
  if (!token || token.length > 100) return undefined;
  return await db.get<Session>(
    sql`SELECT csrf_token AS "csrfToken", expires_at AS "expiresAt" FROM sessions
        WHERE token_hash = ${tokenHash(token)} AND expires_at > ${now}`,
  );
}

export async function endSession(db: Database, token: string | undefined): Promise<void> {
  if (token) await db.run(sql`DELETE FROM sessions WHERE token_hash = ${tokenHash(token)}`);
}

export function sameToken(a: string | undefined, b: string): boolean {
  if (a === undefined) return false;
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * Slows down password guessing. Each attempt counts *before* its password is
 * checked, so guesses sent in parallel cannot slip through: after a few from
 * one client, each further attempt must wait, twice as long each time, up to
 * 15 minutes. A client is one address; a throttled address never locks out
 * the right password from another one. Across all addresses, at most a few
 * checks run at once (scrypt's cost then bounds the guesses per second).
 */
export class LoginThrottle {
  readonly #attempts = new Map<string, { count: number; last: number }>();
  readonly freeAttempts: number;
  readonly maxWaitMs: number;
  readonly maxChecksInFlight: number;
  #inFlight = 0;
  constructor(freeAttempts = 5, maxWaitMs = 15 * 60_000, maxChecksInFlight = 4) {
    this.freeAttempts = freeAttempts;
    this.maxWaitMs = maxWaitMs;
    this.maxChecksInFlight = maxChecksInFlight;
  }

  /**
   * Takes a turn for `client`: 0 when the password may be checked now (the
   * attempt is counted already; call `done` after), otherwise how many
   * milliseconds to wait first.
   */
  begin(client: string, now: number = Date.now()): number {
    const f = this.#attempts.get(client);
    if (f !== undefined && f.count >= this.freeAttempts) {
      const wait = Math.min(this.maxWaitMs, 1000 * 2 ** (f.count - this.freeAttempts));
      const left = f.last + wait - now;
      if (left > 0) return left;
    }
    if (this.#inFlight >= this.maxChecksInFlight) return 1000;
    this.#inFlight++;
    this.#attempts.set(client, { count: (f?.count ?? 0) + 1, last: now });
    if (this.#attempts.size > 10_000) {
      // Forget the oldest clients rather than grow without bound.
      for (const key of [...this.#attempts.keys()].slice(0, 1000)) this.#attempts.delete(key);
    }
    return 0;
  }

  /** The check that `begin` allowed is over; a right password clears the client's count. */
  done(client: string, succeeded: boolean): void {
    this.#inFlight = Math.max(0, this.#inFlight - 1);
    if (succeeded) this.#attempts.delete(client);
  }
}
