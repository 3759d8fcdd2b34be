import { createHash, randomInt } from "node:crypto";
import type {
  AuthenticationResponseJSON,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
} from "@simplewebauthn/server";
import { Secret, TOTP } from "otpauth";
import { InvalidInputError } from "../../shared/errors.ts";
import type { Database, Queryable } from "../../storage/database.ts";
import { json } from "../../storage/database.ts";
import { sql } from "../../storage/sql.ts";
import type { SecretBox } from "./secrets.ts";
import { endSignIns, getStaff, type Staff } from "./staff.ts";

/** SimpleWebAuthn, loaded when a passkey is first used (it adds ~20 MB to every process that imports it). */
const webauthn = () => import("@simplewebauthn/server");

/*
 * Second factors of staff accounts: TOTP (an authenticator app), one-time
 * recovery codes, and passkeys (WebAuthn). Setting one up or removing one
 * ends the account's other sessions.
 */

export class FactorError extends InvalidInputError {
  override name = "FactorError";
}

const PERIOD = 30;

function totpFor(issuer: string, username: string, secret: string): TOTP {
  return new TOTP({
    issuer,
    label: username,
    algorithm: "SHA1",
    digits: 6,
    period: PERIOD,
    secret: Secret.fromBase32(secret),
  });
}

/** The otpauth:// URI an authenticator app takes (as a link on a phone, or a QR code). */
export function totpUri(issuer: string, username: string, secret: string): string {
  return totpFor(issuer, username, secret).toString();
}

/** Starts setting up TOTP: a new secret (kept pending until a code from it is entered) and its otpauth:// URI. */
export async function beginTotp(
  db: Queryable,
  secrets: SecretBox,
  staff: Staff,
  issuer: string,
): Promise<{ secret: string; uri: string }> {
  const secret = new Secret({ size: 20 }).base32;
  await db.run(sql`UPDATE staff SET totp_pending_secret = ${secrets.seal("totp", secret)} WHERE id = ${staff.id}`);
  return { secret, uri: totpUri(issuer, staff.username, secret) };
}

/** The pending TOTP secret being set up, if any. */
export async function pendingTotp(db: Queryable, secrets: SecretBox, staffId: number): Promise<string | null> {
  const sealed = (
    await db.get<{ s: string | null }>(sql`SELECT totp_pending_secret AS s FROM staff WHERE id = ${staffId}`)
  )?.s;
  return sealed == null ? null : secrets.unseal("totp", sealed);
}

function stepOf(secret: string, code: string, now: number): number | null {
  const token = code.replace(/\s+/g, "");
  if (!/^\d{6}$/.test(token)) return null;
  const delta = totpFor("x", "x", secret).validate({ token, timestamp: now, window: 1 });
  return delta === null ? null : Math.floor(now / 1000 / PERIOD) + delta;
}

/**
 * Confirms the pending secret with a code from the app: TOTP is on, the other
 * sessions end, and ten new recovery codes are returned (shown once).
 */
export async function confirmTotp(
  db: Database,
  secrets: SecretBox,
  staffId: number,
  code: string,
  keepTokenHash: string,
  now: number = Date.now(),
): Promise<string[]> {
  const secret = await pendingTotp(db, secrets, staffId);
  if (secret === null) throw new FactorError("start setting up the authenticator app first");
  const step = stepOf(secret, code, now);
  if (step === null) throw new FactorError("that code is not right: enter the 6 digits the app shows now");
  return await db.transaction(async (tx) => {
    await tx.run(
      sql`UPDATE staff SET totp_secret = ${secrets.seal("totp", secret)}, totp_pending_secret = NULL,
            totp_last_step = ${step} WHERE id = ${staffId}`,
    );
    await endSignIns(tx, staffId, keepTokenHash);
    return await newRecoveryCodes(tx, staffId);
  });
}

/** Checks a TOTP code at sign-in; each code works once (a replayed one is refused). */
export async function verifyTotp(
  db: Queryable,
  secrets: SecretBox,
  staffId: number,
  code: string,
  now: number = Date.now(),
): Promise<boolean> {
  const row = await db.get<{ s: string | null; last: number | null }>(
    sql`SELECT totp_secret AS s, totp_last_step AS last FROM staff WHERE id = ${staffId}`,
  );
  if (row?.s == null) return false;
  const step = stepOf(secrets.unseal("totp", row.s), code, now);
  if (step === null || (row.last !== null && step <= Number(row.last))) return false;
  // Only one request can move the step past a given code.
  const moved = await db.run(
    sql`UPDATE staff SET totp_last_step = ${step}
        WHERE id = ${staffId} AND (totp_last_step IS NULL OR totp_last_step < ${step})`,
  );
  return moved > 0;
}

export async function disableTotp(db: Database, staffId: number, keepTokenHash: string): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.run(sql`UPDATE staff SET totp_secret = NULL, totp_pending_secret = NULL WHERE id = ${staffId}`);
    await endSignIns(tx, staffId, keepTokenHash);
  });
}

const CODE_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789";

function codeHash(code: string): string {
  return createHash("sha256")
    .update(code.toLowerCase().replace(/[^a-z0-9]/g, ""))
    .digest("hex");
}

/** Ten new recovery codes (xxxxx-xxxxx, about 50 bits each); the old ones stop working. Only hashes are kept. */
export async function newRecoveryCodes(db: Queryable, staffId: number): Promise<string[]> {
  await db.run(sql`DELETE FROM recovery_codes WHERE staff_id = ${staffId}`);
  const codes: string[] = [];
  for (let i = 0; i < 10; i++) {
    const chars = Array.from({ length: 10 }, () => CODE_ALPHABET[randomInt(CODE_ALPHABET.length)]).join("");
    const code = `${chars.slice(0, 5)}-${chars.slice(5)}`;
    codes.push(code);
    await db.run(sql`INSERT INTO recovery_codes (code_hash, staff_id) VALUES (${codeHash(code)}, ${staffId})`);
  }
  return codes;
}

/** Uses a recovery code at sign-in: true once per code. */
export async function useRecoveryCode(
  db: Queryable,
  staffId: number,
  code: string,
  now: number = Date.now(),
): Promise<boolean> {
  if (code.length > 40) return false;
  const used = await db.run(
    sql`UPDATE recovery_codes SET used_at = ${now}
        WHERE code_hash = ${codeHash(code)} AND staff_id = ${staffId} AND used_at IS NULL`,
  );
  return used > 0;
}

export interface Passkey {
  id: string;
  name: string;
  createdAt: number;
  lastUsedAt: number | null;
}

export async function listPasskeys(db: Queryable, staffId: number): Promise<Passkey[]> {
  const rows = await db.all<{ id: string; name: string; c: number; l: number | null }>(
    sql`SELECT id, name, created_at AS c, last_used_at AS l FROM passkeys WHERE staff_id = ${staffId} ORDER BY created_at`,
  );
  return rows.map((r) => ({
    id: r.id,
    name: r.name,
    createdAt: Number(r.c),
    lastUsedAt: r.l === null ? null : Number(r.l),
  }));
}

interface StoredKey {
  id: string;
  publicKey: string;
  counter: number;
  transports: string | null;
}

async function storedKeys(db: Queryable, staffId: number): Promise<StoredKey[]> {
  return await db.all<StoredKey>(
    sql`SELECT id, public_key AS "publicKey", counter, transports FROM passkeys WHERE staff_id = ${staffId}`,
  );
}

type Transports = NonNullable<RegistrationResponseJSON["response"]["transports"]>;

/** Where passkeys belong: this site's host name, and the origin browsers must be on. */
export interface RelyingParty {
  id: string;
  name: string;
  origin: string;
}

/** Options for the browser to create a passkey (its challenge is kept with the session). */
export async function passkeyRegistration(
  db: Queryable,
  staff: Staff,
  rp: RelyingParty,
): Promise<PublicKeyCredentialCreationOptionsJSON> {
  const existing = await storedKeys(db, staff.id);
  return await (await webauthn()).generateRegistrationOptions({
    rpName: rp.name,
    rpID: rp.id,
    userName: staff.username,
    userID: new TextEncoder().encode(`lectern-staff-${staff.id}`),
    attestationType: "none",
    excludeCredentials: existing.map((k) => ({ id: k.id, transports: json<Transports>(k.transports, []) })),
    // Discoverable (a resident key): the passkey alone signs its person in, with no username or password.
    authenticatorSelection: { residentKey: "required", userVerification: "preferred" },
  });
}

/** Checks the browser's new passkey against the challenge and stores it; ends the account's other sessions. */
export async function finishPasskeyRegistration(
  db: Database,
  staffId: number,
  response: unknown,
  expectedChallenge: string,
  rp: RelyingParty,
  name: string,
  keepTokenHash: string,
  now: number = Date.now(),
): Promise<Passkey> {
  const { verifyRegistrationResponse } = await webauthn();
  let verified: Awaited<ReturnType<typeof verifyRegistrationResponse>>;
  try {
    verified = await verifyRegistrationResponse({
      response: response as RegistrationResponseJSON,
      expectedChallenge,
      expectedOrigin: rp.origin,
      expectedRPID: rp.id,
      requireUserVerification: false,
    });
  } catch (e) {
    throw new FactorError(`the passkey could not be checked: ${(e as Error).message}`);
  }
  if (!verified.verified || verified.registrationInfo === undefined)
    throw new FactorError("the passkey was not accepted");
  const { credential } = verified.registrationInfo;
  const label = name.trim().slice(0, 60) || "Passkey";
  await db.transaction(async (tx) => {
    await tx.run(
      sql`INSERT INTO passkeys (id, staff_id, public_key, counter, transports, name, created_at)
          VALUES (${credential.id}, ${staffId}, ${Buffer.from(credential.publicKey).toString("base64url")},
            ${credential.counter}, ${JSON.stringify(credential.transports ?? [])}, ${label}, ${now})`,
    );
    await endSignIns(tx, staffId, keepTokenHash);
  });
  return { id: credential.id, name: label, createdAt: now, lastUsedAt: null };
}

/** Options for the browser to sign in with one of the account's passkeys. */
export async function passkeyAuthentication(
  db: Queryable,
  staffId: number,
  rp: RelyingParty,
): Promise<PublicKeyCredentialRequestOptionsJSON> {
  const keys = await storedKeys(db, staffId);
  return await (await webauthn()).generateAuthenticationOptions({
    rpID: rp.id,
    allowCredentials: keys.map((k) => ({ id: k.id, transports: json<Transports>(k.transports, []) })),
    userVerification: "preferred",
  });
}

/** Checks a passkey sign-in against the challenge; true when it is one of the account's, with a moving counter. */
export async function verifyPasskey(
  db: Queryable,
  staffId: number,
  response: unknown,
  expectedChallenge: string,
  rp: RelyingParty,
  now: number = Date.now(),
): Promise<boolean> {
  const answer = response as AuthenticationResponseJSON;
  const key = (await storedKeys(db, staffId)).find((k) => k.id === answer?.id);
  if (key === undefined) return false;
  return await checkAssertion(db, key, answer, { challenge: expectedChallenge, rp, userVerified: false }, now);
}

/** One assertion against a stored key: signature, challenge, origin, counter (moved on when it holds). */
async function checkAssertion(
  db: Queryable,
  key: StoredKey,
  answer: AuthenticationResponseJSON,
  expected: { challenge: string; rp: RelyingParty; userVerified: boolean },
  now: number,
): Promise<boolean> {
  try {
    const result = await (await webauthn()).verifyAuthenticationResponse({
      response: answer,
      expectedChallenge: expected.challenge,
      expectedOrigin: expected.rp.origin,
      expectedRPID: expected.rp.id,
      credential: {
        id: key.id,
        publicKey: new Uint8Array(Buffer.from(key.publicKey, "base64url")),
        counter: Number(key.counter),
        transports: json<Transports>(key.transports, []),
      },
      requireUserVerification: expected.userVerified,
    });
    if (!result.verified) return false;
    await db.run(
      sql`UPDATE passkeys SET counter = ${result.authenticationInfo.newCounter}, last_used_at = ${now} WHERE id = ${key.id}`,
    );
    return true;
  } catch {
    return false;
  }
}

/** Options for signing in with a passkey alone: any of this site's (the browser offers them), verified by the device. */
export async function discoverableAuthentication(rp: RelyingParty): Promise<PublicKeyCredentialRequestOptionsJSON> {
  return await (await webauthn()).generateAuthenticationOptions({ rpID: rp.id, userVerification: "required" });
}

/**
 * Checks a sign-in with a passkey alone: one of this site's, for the person its user handle names, with the
 * device's user verification (a PIN or biometric: two factors in one). The person's id, or null.
 */
export async function verifyDiscoverable(
  db: Queryable,
  response: unknown,
  expectedChallenge: string,
  rp: RelyingParty,
  now: number = Date.now(),
): Promise<number | null> {
  const answer = response as AuthenticationResponseJSON;
  if (typeof answer?.id !== "string") return null;
  const row = await db.get<{ staffId: number }>(
    sql`SELECT staff_id AS "staffId" FROM passkeys WHERE id = ${answer.id}`,
  );
  if (row === undefined) return null;
  const staffId = Number(row.staffId);
  const handle = answer.response?.userHandle;
  if (handle !== undefined && Buffer.from(handle, "base64url").toString() !== `lectern-staff-${staffId}`) return null;
  const key = (await storedKeys(db, staffId)).find((k) => k.id === answer.id) as StoredKey;
  const right = await checkAssertion(db, key, answer, { challenge: expectedChallenge, rp, userVerified: true }, now);
  return right ? staffId : null;
}

export async function removePasskey(
  db: Database,
  staffId: number,
  id: string,
  keepTokenHash: string,
): Promise<boolean> {
  return await db.transaction(async (tx) => {
    const staff = await getStaff(tx, staffId);
    if (staff !== undefined && !staff.hasPassword && staff.passkeys <= 1)
      throw new FactorError("this is your only way in: set a password or add another passkey before removing it");
    const removed = (await tx.run(sql`DELETE FROM passkeys WHERE id = ${id} AND staff_id = ${staffId}`)) > 0;
    if (removed) await endSignIns(tx, staffId, keepTokenHash);
    return removed;
  });
}
