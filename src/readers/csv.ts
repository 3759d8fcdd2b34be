import type { Queryable } from "../storage/database.ts";
import { sql } from "../storage/sql.ts";
import { addressHash, type ReaderKeys } from "./keys.ts";
import { emailPartition, parseAddress, suppress } from "./subscribers.ts";

/*
 * Email subscribers in and out as CSV: the export the owner keeps or takes
 * elsewhere, and imports from other newsletter tools (Substack's and
 * Mailchimp's exports: an address column, a status column, a date).
 */

const cell = (v: string) => (/[",\r\n]/.test(v) || /^[=+\-@]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);

/** Subscribers with an address (confirmed and pending) as CSV: email, status, cadence, subscribed_at, confirmed_at. */
export async function subscribersCsv(db: Queryable): Promise<string> {
  const rows = await db.all<{
    address: string;
    status: string;
    cadence: string;
    created_at: number;
    confirmed_at: number | null;
  }>(
    sql`SELECT address, status, cadence, created_at, confirmed_at FROM email_subscribers
        WHERE address IS NOT NULL ORDER BY id`,
  );
  const iso = (ms: number | null) => (ms === null ? "" : new Date(Number(ms)).toISOString());
  return `email,status,cadence,subscribed_at,confirmed_at\n${rows
    .map((r) => [r.address, r.status, r.cadence, iso(r.created_at), iso(r.confirmed_at)].map(cell).join(","))
    .join("\n")}${rows.length > 0 ? "\n" : ""}`;
}

/** RFC 4180 rows (quoted fields, doubled quotes, CRLF or LF). */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"' && field === "") quoted = true;
    else if (ch === ",") {
      row.push(field);
      field = "";
    } else if (ch === "\n" || ch === "\r") {
      if (ch === "\r" && text[i + 1] === "\n") i++;
      row.push(field);
      if (row.some((f) => f !== "")) rows.push(row);
      row = [];
      field = "";
    } else field += ch;
  }
  row.push(field);
  if (row.some((f) => f !== "")) rows.push(row);
  return rows;
}

export interface ImportResult {
  /** Added as confirmed (the file said they were). */
  confirmed: number;
  /** Already here: left as they are. */
  known: number;
  /** Unsubscribed or bounced in the file: kept as suppressed hashes, never mailed. */
  suppressed: number;
  /** Not confirmed in the file: not imported (they would have to subscribe here). */
  unconfirmed: number;
  /** Not an address. */
  invalid: number;
}

const CONFIRMED = /^(subscribed|active|confirmed|true|yes|1)$/i;
const ENDED = /^(unsubscribed|cleaned|bounced|complained|inactive|suppressed|false|no|0)$/i;

/**
 * Imports subscribers from a CSV with a header row: the address column
 * (`email`, `Email Address`, `address`…) and, when present, a status
 * (`status`, `active_subscription`, `Member Status`…) and a date. Only rows
 * the file says are subscribed count as confirmed; unsubscribed and bounced
 * addresses are kept as suppressed hashes; a file with no status column
 * confirms no one.
 */
export async function importSubscribers(
  db: Queryable,
  keys: ReaderKeys,
  text: string,
  now: number,
): Promise<ImportResult> {
  const [head, ...rows] = parseCsv(text.replace(/^\uFEFF/, ""));
  const result: ImportResult = { confirmed: 0, known: 0, suppressed: 0, unconfirmed: 0, invalid: 0 };
  if (head === undefined) return result;
  const names = head.map((h) => h.trim().toLowerCase());
  const find = (re: RegExp) => names.findIndex((n) => re.test(n));
  const emailAt = find(/^(e-?mail|email address|address|e-?mail_address)$/);
  const statusAt = find(/^(status|member status|active_subscription|subscribed|state)$/);
  const dateAt = find(/^(created_at|subscribed_at|optin_time|confirm_time|date|created)$/);
  if (emailAt < 0) throw new Error(`no address column in the header (${head.join(", ")}): name it "email"`);
  for (const row of rows) {
    const a = parseAddress(row[emailAt]);
    if (a === null) {
      result.invalid++;
      continue;
    }
    const status = statusAt < 0 ? "" : (row[statusAt] ?? "").trim();
    if (ENDED.test(status)) {
      await suppress(db, keys, a.address, now);
      result.suppressed++;
      continue;
    }
    if (!CONFIRMED.test(status)) {
      result.unconfirmed++;
      continue;
    }
    const since = dateAt < 0 ? Number.NaN : Date.parse(row[dateAt] ?? "");
    const at = Number.isFinite(since) ? since : now;
    const added = await db.run(sql`INSERT INTO email_subscribers
        (address, address_hash, domain, partition, status, source, created_at, confirmed_at, sent_through)
      VALUES (${a.address}, ${addressHash(keys, a.address)}, ${a.domain}, ${emailPartition(a.domain)}, 'confirmed',
              'import', ${at}, ${at}, ${now})
      ON CONFLICT (address_hash) DO NOTHING`);
    if (added === 1) result.confirmed++;
    else result.known++;
  }
  return result;
}
