import { randomBytes } from "node:crypto";
import type { Queryable } from "../storage/database.ts";
import { partitionOf } from "../storage/partition.ts";
import { sql } from "../storage/sql.ts";
import { addressHash, checkLinkToken, type ReaderKeys } from "./keys.ts";

/*
 * Email subscribers: double opt-in, one confirmation a day at most, nothing
 * said about whether an address was known; unsubscribing and suppression
 * keep only a keyed hash of the address.
 */

const PARTITIONS = 64;
const DAY = 86_400_000;
/** Unconfirmed addresses are deleted after this long. */
export const UNCONFIRMED_MS = 7 * DAY;
export const CADENCES = ["each", "daily", "weekly"] as const;
export type Cadence = (typeof CADENCES)[number];

export interface Address {
  /** As given, its domain lower-cased. */
  address: string;
  domain: string;
}

/** A mail address a person may type: one @, no spaces, quotes, angle brackets or line breaks; at most 254 characters. */
export function parseAddress(raw: unknown): Address | null {
  if (typeof raw !== "string") return null;
  const v = raw.trim();
  // \s covers line breaks and spaces; other control characters are below U+0020 or U+007F.
  if (v.length > 254 || /[\s"<>(),;:\\[\]]/.test(v) || [...v].some((ch) => ch < " " || ch === "\u007f")) return null;
  const at = v.lastIndexOf("@");
  if (at < 1 || at !== v.indexOf("@") || v.length - at - 1 > 253 || at > 64) return null;
  const local = v.slice(0, at);
  const domain = v.slice(at + 1).toLowerCase();
  if (local.startsWith(".") || local.endsWith(".") || local.includes("..")) return null;
  if (!/^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/.test(domain)) return null;
  return { address: `${local}@${domain}`, domain };
}

export const emailPartition = (domain: string) => partitionOf(domain, PARTITIONS);

interface Row {
  id: number;
  status: string;
  confirm_sent_at: number | null;
}

/**
 * Asks to subscribe `address`: a new or unsubscribed address is kept as
 * pending and gets a confirmation (sent by a worker); a pending one gets it
 * again if the last left more than a day ago. Confirmed and suppressed
 * addresses: nothing happens. The caller says the same thing whatever the
 * answer (true: a confirmation is on its way).
 */
export async function subscribe(
  db: Queryable,
  keys: ReaderKeys,
  { address, domain }: Address,
  source: "form" | "api",
  now: number,
): Promise<boolean> {
  const hash = addressHash(keys, address);
  const nonce = randomBytes(12).toString("base64url");
  const partition = emailPartition(domain);
  const inserted = await db.run(sql`INSERT INTO email_subscribers
      (address, address_hash, domain, partition, status, nonce, source, created_at, due_at)
    VALUES (${address}, ${hash}, ${domain}, ${partition}, 'pending', ${nonce}, ${source}, ${now}, ${now})
    ON CONFLICT (address_hash) DO NOTHING`);
  if (inserted === 1) return true;
  const row = await db.get<Row>(
    sql`SELECT id, status, confirm_sent_at FROM email_subscribers WHERE address_hash = ${hash}`,
  );
  if (row === undefined || row.status === "confirmed" || row.status === "suppressed") return false;
  if (row.confirm_sent_at !== null && Number(row.confirm_sent_at) > now - DAY) return false;
  // Pending and not asked today, or unsubscribed and asking again: a new confirmation (the old link stays good while pending).
  return (
    (await db.run(sql`UPDATE email_subscribers SET
        address = ${address}, domain = ${domain}, partition = ${partition}, status = 'pending',
        nonce = COALESCE(nonce, ${nonce}), source = ${source}, ended_at = NULL, due_at = ${now}, attempts = 0,
        created_at = CASE WHEN status = 'pending' THEN created_at ELSE ${now} END
      WHERE id = ${row.id} AND status IN ('pending', 'unsubscribed')`)) === 1
  );
}

/** Confirms a pending subscription by its link: true once; a used, expired or forged link is false. */
export async function confirm(
  db: Queryable,
  keys: ReaderKeys,
  id: number,
  token: string,
  now: number,
): Promise<boolean> {
  const row = await db.get<{ nonce: string | null }>(
    sql`SELECT nonce FROM email_subscribers WHERE id = ${id} AND status = 'pending'`,
  );
  if (row?.nonce == null || !checkLinkToken(keys, "confirm", `${id}:${row.nonce}`, token)) return false;
  // From now on: posts published from this moment (not the back catalogue).
  return (
    (await db.run(sql`UPDATE email_subscribers SET status = 'confirmed', nonce = NULL, confirmed_at = ${now},
        sent_through = ${now}, due_at = NULL, attempts = 0, last_error = NULL
      WHERE id = ${id} AND status = 'pending' AND nonce = ${row.nonce}`)) === 1
  );
}

/** A reader's link to manage their subscription is theirs: signed for their id. */
export const canManage = (keys: ReaderKeys, id: number, token: string) => checkLinkToken(keys, "manage", id, token);

/** Ends a subscription at once: the address erased, its hash kept. Idempotent. */
export async function unsubscribe(db: Queryable, id: number, now: number): Promise<void> {
  await db.run(sql`UPDATE email_subscribers SET status = 'unsubscribed', address = NULL, domain = NULL, nonce = NULL,
      due_at = NULL, ended_at = ${now}
    WHERE id = ${id} AND status IN ('pending', 'confirmed')`);
}

/** Each post (or batch), or a daily or weekly digest: the next digest a period from now. */
export async function setCadence(db: Queryable, id: number, cadence: Cadence, now: number): Promise<boolean> {
  const due = cadence === "each" ? now : now + (cadence === "daily" ? DAY : 7 * DAY);
  return (
    (await db.run(
      sql`UPDATE email_subscribers SET cadence = ${cadence}, due_at = ${due} WHERE id = ${id} AND status = 'confirmed'`,
    )) === 1
  );
}

/**
 * Stops all mail to an address for good (a hard bounce, a complaint, the
 * operator): kept as a hash only, also when it was never subscribed, so it
 * cannot be subscribed again. True when the address was a subscriber.
 */
export async function suppress(db: Queryable, keys: ReaderKeys, address: string, now: number): Promise<boolean> {
  const hash = addressHash(keys, address);
  const changed = await db.run(sql`UPDATE email_subscribers SET status = 'suppressed', address = NULL, domain = NULL,
      nonce = NULL, due_at = NULL, ended_at = ${now}
    WHERE address_hash = ${hash} AND status <> 'suppressed'`);
  await db.run(sql`INSERT INTO email_subscribers (address_hash, status, source, created_at, ended_at)
    VALUES (${hash}, 'suppressed', 'import', ${now}, ${now}) ON CONFLICT (address_hash) DO NOTHING`);
  return changed === 1;
}

/** Erases an address on its owner's request: nothing of it is kept. True when there was something to erase. */
export async function erase(db: Queryable, keys: ReaderKeys, address: string): Promise<boolean> {
  return (await db.run(sql`DELETE FROM email_subscribers WHERE address_hash = ${addressHash(keys, address)}`)) === 1;
}

/** Deletes addresses left unconfirmed for 7 days. */
export async function deleteUnconfirmed(db: Queryable, now: number): Promise<number> {
  return await db.run(
    sql`DELETE FROM email_subscribers WHERE status = 'pending' AND created_at < ${now - UNCONFIRMED_MS}`,
  );
}

export interface ReaderCounts {
  email: { pending: number; confirmed: number; unsubscribed: number; suppressed: number; digest: number };
  push: number;
}

export async function readerCounts(db: Queryable): Promise<ReaderCounts> {
  const rows = await db.all<{ status: string; n: number; digest: number }>(
    sql`SELECT status, count(*) AS n, sum(CASE WHEN cadence <> 'each' THEN 1 ELSE 0 END) AS digest
        FROM email_subscribers GROUP BY status`,
  );
  const by = (s: string) => Number(rows.find((r) => r.status === s)?.n ?? 0);
  const push = await db.get<{ n: number }>(sql`SELECT count(*) AS n FROM push_subscriptions`);
  return {
    email: {
      pending: by("pending"),
      confirmed: by("confirmed"),
      unsubscribed: by("unsubscribed"),
      suppressed: by("suppressed"),
      digest: Number(rows.find((r) => r.status === "confirmed")?.digest ?? 0),
    },
    push: Number(push?.n ?? 0),
  };
}
