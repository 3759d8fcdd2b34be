import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import webPush from "web-push";
import type { SecretBox } from "../product/access/secrets.ts";
import type { Queryable } from "../storage/database.ts";
import { sql } from "../storage/sql.ts";

/** The reader channels' keys: the VAPID pair push services know us by, and the key readers' links are signed with. */
export interface ReaderKeys {
  /** base64url, as `applicationServerKey` and VAPID want them. */
  readonly vapidPublic: string;
  readonly vapidPrivate: string;
  /** Signs the links in emails (unsubscribe, cadence, confirm) and hashes addresses. */
  readonly links: Buffer;
}

const cache = new WeakMap<object, Promise<ReaderKeys>>();

/** The keys, made once at first start (by whichever process gets there first) and kept sealed. */
export function readerKeys(data: { db: Queryable; secrets: SecretBox }): Promise<ReaderKeys> {
  let keys = cache.get(data.db);
  if (keys === undefined) {
    keys = loadKeys(data).catch((e) => {
      cache.delete(data.db);
      throw e;
    });
    cache.set(data.db, keys);
  }
  return keys;
}

async function loadKeys({ db, secrets }: { db: Queryable; secrets: SecretBox }): Promise<ReaderKeys> {
  const now = Date.now();
  const vapid = webPush.generateVAPIDKeys();
  await db.run(sql`INSERT INTO reader_keys (name, public_value, secret, created_at)
    VALUES ('vapid', ${vapid.publicKey}, ${secrets.seal("reader-key", vapid.privateKey)}, ${now}),
           ('links', '', ${secrets.seal("reader-key", randomBytes(32).toString("base64url"))}, ${now})
    ON CONFLICT (name) DO NOTHING`);
  const rows = await db.all<{ name: string; public_value: string; secret: string }>(
    sql`SELECT name, public_value, secret FROM reader_keys`,
  );
  const row = (name: string) => {
    const r = rows.find((x) => x.name === name);
    if (r === undefined) throw new Error(`reader key ${name} missing`);
    return { public: r.public_value, secret: secrets.unseal("reader-key", r.secret) };
  };
  return {
    vapidPublic: row("vapid").public,
    vapidPrivate: row("vapid").secret,
    links: Buffer.from(row("links").secret, "base64url"),
  };
}

/** A link's signature: what it does, for whom. */
export function linkToken(keys: ReaderKeys, purpose: string, subject: string | number): string {
  return createHmac("sha256", keys.links).update(`${purpose}:${subject}`).digest("base64url").slice(0, 32);
}

export function checkLinkToken(keys: ReaderKeys, purpose: string, subject: string | number, token: string): boolean {
  const want = Buffer.from(linkToken(keys, purpose, subject));
  const got = Buffer.from(token);
  return got.length === want.length && timingSafeEqual(got, want);
}

/** The hash kept for an address (keyed: a leaked table is not a list of addresses to guess against). */
export function addressHash(keys: ReaderKeys, address: string): string {
  return createHmac("sha256", keys.links).update(`address:${address.toLowerCase()}`).digest("hex");
}
