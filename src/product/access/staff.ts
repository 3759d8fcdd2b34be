import { randomBytes } from "node:crypto";
import { InvalidInputError, NotFoundError } from "../../shared/errors.ts";
import type { Database, Queryable } from "../../storage/database.ts";
import { sql } from "../../storage/sql.ts";
import { getSetting, setSetting } from "../instance.ts";
import {
  hashPassword,
  InvalidPasswordError,
  MAX_PASSWORD_LENGTH,
  MIN_PASSWORD_LENGTH,
  type Role,
  verifyPasswordHash,
} from "./auth.ts";
import { revokeTokensOf } from "./oauth.ts";

export type { Role };
export const ROLES: readonly Role[] = ["owner", "editor"];
/** The first account's name, at first start and after an upgrade from the single password. */
export const FIRST_OWNER = "owner";
export const USERNAME = /^[a-z0-9][a-z0-9._-]{0,39}$/;
const LEGACY_PASSWORD_KEY = "password_hash";
const REQUIRE_FACTOR_KEY = "require_second_factor";

export interface Staff {
  id: number;
  username: string;
  role: Role;
  /** False once they chose to sign in with a passkey alone (the password removed). */
  hasPassword: boolean;
  /** TOTP confirmed. */
  totp: boolean;
  passkeys: number;
  recoveryCodesLeft: number;
  createdAt: number;
}

/** The stored hash of a person who signs in with a passkey alone: no password matches it. */
const NO_PASSWORD = "none";

export class StaffError extends InvalidInputError {
  override name = "StaffError";
}

const COLUMNS = sql.raw(
  `s.id, s.username, s.role, s.created_at AS "createdAt",
   CASE WHEN s.totp_secret IS NULL THEN 0 ELSE 1 END AS totp,
   CASE WHEN s.password_hash = '${NO_PASSWORD}' THEN 0 ELSE 1 END AS "hasPassword",
   (SELECT count(*) FROM passkeys p WHERE p.staff_id = s.id) AS passkeys,
   (SELECT count(*) FROM recovery_codes r WHERE r.staff_id = s.id AND r.used_at IS NULL) AS "recoveryCodesLeft"`,
);

function toStaff(row: Record<string, unknown>): Staff {
  return {
    id: Number(row.id),
    username: String(row.username),
    role: row.role as Role,
    totp: Number(row.totp) === 1,
    hasPassword: Number(row.hasPassword) === 1,
    passkeys: Number(row.passkeys),
    recoveryCodesLeft: Number(row.recoveryCodesLeft),
    createdAt: Number(row.createdAt),
  };
}

export async function listStaff(db: Queryable): Promise<Staff[]> {
  return (await db.all<Record<string, unknown>>(sql`SELECT ${COLUMNS} FROM staff s ORDER BY s.id`)).map(toStaff);
}

export async function getStaff(db: Queryable, id: number): Promise<Staff | undefined> {
  const row = await db.get<Record<string, unknown>>(sql`SELECT ${COLUMNS} FROM staff s WHERE s.id = ${id}`);
  return row === undefined ? undefined : toStaff(row);
}

export async function findStaff(db: Queryable, username: string): Promise<Staff | undefined> {
  const row = await db.get<Record<string, unknown>>(
    sql`SELECT ${COLUMNS} FROM staff s WHERE s.username = ${username.trim().toLowerCase()}`,
  );
  return row === undefined ? undefined : toStaff(row);
}

/** Whether this account has a second factor (TOTP or a passkey). */
export function hasSecondFactor(s: Staff): boolean {
  return s.totp || s.passkeys > 0;
}

function checkPasswordRules(password: string): void {
  if ([...password].length < MIN_PASSWORD_LENGTH) {
    throw new InvalidPasswordError(`the password needs at least ${MIN_PASSWORD_LENGTH} characters`);
  }
  if (password.length > MAX_PASSWORD_LENGTH) throw new InvalidPasswordError("the password is too long");
}

/** A password people can type: 20 characters of base64url (120 bits). */
export function madeUpPassword(): string {
  return randomBytes(15).toString("base64url");
}

/** Adds a staff account; without a password, one is made up and returned (to hand over once). */
export async function createStaff(
  db: Database,
  input: { username: string; role: Role; password?: string },
  now: number = Date.now(),
): Promise<{ staff: Staff; password: string }> {
  const username = input.username.trim().toLowerCase();
  if (!USERNAME.test(username)) {
    throw new StaffError("a username is 1 to 40 lower-case letters, digits, dots, dashes or underscores");
  }
  if (!ROLES.includes(input.role)) throw new StaffError(`the role must be one of ${ROLES.join(", ")}`);
  const password = input.password ?? madeUpPassword();
  checkPasswordRules(password);
  if ((await findStaff(db, username)) !== undefined)
    throw new StaffError(`there is already an account named ${username}`);
  const hash = await hashPassword(password);
  await db.run(
    sql`INSERT INTO staff (username, password_hash, role, created_at) VALUES (${username}, ${hash}, ${input.role}, ${now})`,
  );
  return { staff: (await findStaff(db, username)) as Staff, password };
}

/**
 * Sets an account's password (only its hash is kept) and ends its sessions,
 * all but `keepToken`'s (the one changing it).
 */
export async function setStaffPassword(
  db: Database,
  id: number,
  password: string,
  keepTokenHash?: string,
): Promise<void> {
  checkPasswordRules(password);
  const hash = await hashPassword(password);
  await db.transaction(async (tx) => {
    if ((await tx.run(sql`UPDATE staff SET password_hash = ${hash} WHERE id = ${id}`)) === 0)
      throw new NotFoundError("no such staff account");
    await endSignIns(tx, id, keepTokenHash);
  });
}

/**
 * Removes a person's password: from now on they sign in with a passkey alone (discoverable, with user
 * verification). Refused without a passkey; ends their other sessions and app tokens, like a new password.
 */
export async function removeStaffPassword(db: Database, id: number, keepTokenHash?: string): Promise<void> {
  await db.transaction(async (tx) => {
    const staff = await getStaff(tx, id);
    if (staff === undefined) throw new NotFoundError("no such staff account");
    if (staff.passkeys === 0) throw new StaffError("add a passkey first: without a password it is your way in");
    await tx.run(sql`UPDATE staff SET password_hash = ${NO_PASSWORD} WHERE id = ${id}`);
    await endSignIns(tx, id, keepTokenHash);
  });
}

/** Sets the password of the account named `username` (the first owner by default), ending its sessions. */
export async function setPassword(db: Database, password: string, username: string): Promise<void> {
  const staff = await findStaff(db, username);
  if (staff === undefined) throw new NotFoundError(`no staff account named ${username}`);
  await setStaffPassword(db, staff.id, password);
}

/**
 * Ends a person's sign-ins: their desk sessions (all, or all but the one
 * given, the one that made the change) and every app token acting for them.
 * Called when their password, factors or role change, when they are removed,
 * and when the owner signs them out everywhere.
 */
export async function endSignIns(db: Queryable, staffId: number, keepTokenHash?: string): Promise<void> {
  await revokeTokensOf(db, staffId);
  await db.run(
    keepTokenHash === undefined
      ? sql`DELETE FROM sessions WHERE staff_id = ${staffId}`
      : sql`DELETE FROM sessions WHERE staff_id = ${staffId} AND token_hash <> ${keepTokenHash}`,
  );
}

/** Checks a username and password; the account when both are right. Costs one scrypt either way. */
export async function checkCredentials(db: Queryable, username: string, password: string): Promise<Staff | undefined> {
  const name = username.trim().toLowerCase();
  const row = USERNAME.test(name)
    ? await db.get<{ id: number; hash: string }>(
        sql`SELECT id, password_hash AS hash FROM staff WHERE username = ${name}`,
      )
    : undefined;
  if (password.length > MAX_PASSWORD_LENGTH) return undefined;
  // An unknown name costs as much as a known one: timing does not tell which names exist.
  // So does an account without a password (it signs in with a passkey): nothing tells it apart.
  const stored = row === undefined || row.hash === NO_PASSWORD ? undefined : row.hash;
  const right = await verifyPasswordHash(password, stored ?? (await dummyHash()));
  return right && stored !== undefined && row !== undefined ? await getStaff(db, Number(row.id)) : undefined;
}

/** Checks the password of a signed-in account (before changing a password or a factor). */
export async function checkOwnPassword(db: Queryable, id: number, password: string): Promise<boolean> {
  const row = await db.get<{ hash: string }>(sql`SELECT password_hash AS hash FROM staff WHERE id = ${id}`);
  return row !== undefined && password.length <= MAX_PASSWORD_LENGTH && (await verifyPasswordHash(password, row.hash));
}

let dummy: Promise<string> | undefined;
function dummyHash(): Promise<string> {
  dummy ??= hashPassword(randomBytes(12).toString("hex"));
  return dummy;
}

async function owners(db: Queryable): Promise<number> {
  return Number((await db.get<{ n: number }>(sql`SELECT count(*) AS n FROM staff WHERE role = 'owner'`))?.n ?? 0);
}

export async function setRole(db: Database, id: number, role: Role): Promise<void> {
  if (!ROLES.includes(role)) throw new StaffError(`the role must be one of ${ROLES.join(", ")}`);
  await db.transaction(async (tx) => {
    const s = await getStaff(tx, id);
    if (s === undefined) throw new NotFoundError("no such staff account");
    if (s.role === "owner" && role !== "owner" && (await owners(tx)) <= 1)
      throw new StaffError("the last owner cannot stop being one: make another owner first");
    await tx.run(sql`UPDATE staff SET role = ${role} WHERE id = ${id}`);
    await endSignIns(tx, id); // signed in again with the new role
  });
}

/** Removes an account with its sessions and factors; never the last owner. */
export async function removeStaff(db: Database, id: number): Promise<Staff> {
  return await db.transaction(async (tx) => {
    const s = await getStaff(tx, id);
    if (s === undefined) throw new NotFoundError("no such staff account");
    if (s.role === "owner" && (await owners(tx)) <= 1) throw new StaffError("the last owner cannot be removed");
    await endSignIns(tx, id);
    await tx.run(sql`DELETE FROM passkeys WHERE staff_id = ${id}`);
    await tx.run(sql`DELETE FROM recovery_codes WHERE staff_id = ${id}`);
    await tx.run(sql`DELETE FROM staff WHERE id = ${id}`);
    return s;
  });
}

/** Removes an account's TOTP, passkeys and recovery codes (the CLI's way back in), and ends its sessions. */
export async function resetFactors(db: Database, id: number): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.run(sql`UPDATE staff SET totp_secret = NULL, totp_pending_secret = NULL WHERE id = ${id}`);
    await tx.run(sql`DELETE FROM passkeys WHERE staff_id = ${id}`);
    await tx.run(sql`DELETE FROM recovery_codes WHERE staff_id = ${id}`);
    await endSignIns(tx, id);
  });
}

/**
 * At start: the first owner. An install from before staff accounts keeps its
 * password (the owner is named "owner"); a new one gets a made-up password,
 * returned to be printed once. Undefined when there are accounts already.
 */
export async function ensureOwner(db: Database, now: number = Date.now()): Promise<string | undefined> {
  if ((await listStaff(db)).length > 0) return undefined;
  const legacy = await getSetting(db, LEGACY_PASSWORD_KEY);
  if (legacy !== undefined) {
    await db.run(
      sql`INSERT INTO staff (username, password_hash, role, created_at) VALUES (${FIRST_OWNER}, ${legacy}, 'owner', ${now})
          ON CONFLICT DO NOTHING`,
    );
    return undefined;
  }
  const password = madeUpPassword();
  try {
    await createStaff(db, { username: FIRST_OWNER, role: "owner", password }, now);
  } catch (e) {
    if (e instanceof StaffError && (await findStaff(db, FIRST_OWNER)) !== undefined) return undefined; // another process did
    throw e;
  }
  return password;
}

/** Whether the owner requires a second factor of everyone (who then sets one up before anything else). */
export async function secondFactorRequired(db: Queryable): Promise<boolean> {
  return (await getSetting(db, REQUIRE_FACTOR_KEY)) === "1";
}

export async function requireSecondFactor(db: Queryable, on: boolean): Promise<void> {
  await setSetting(db, REQUIRE_FACTOR_KEY, on ? "1" : "0");
}
