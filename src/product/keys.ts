import { exportJwk, generateCryptoKeyPair, importJwk } from "@fedify/fedify";
import type { Db } from "../storage/db.ts";
import { actorKeys } from "../storage/schema.ts";

const RSA = "RSASSA-PKCS1-v1_5";
const ED25519 = "Ed25519";

const cache = new WeakMap<Db, Promise<CryptoKeyPair[]>>();

/**
 * The actor's key pairs, RSA first (Fedify signs HTTP requests with the first
 * one) and Ed25519 second. Generated at the first call and kept in the
 * database: a changed key makes remote servers re-verify every follower.
 */
export function getActorKeyPairs(db: Db): Promise<CryptoKeyPair[]> {
  let pairs = cache.get(db);
  if (pairs === undefined) {
    pairs = loadOrCreate(db);
    pairs.catch(() => cache.delete(db));
    cache.set(db, pairs);
  }
  return pairs;
}

async function loadOrCreate(db: Db): Promise<CryptoKeyPair[]> {
  const pairs: CryptoKeyPair[] = [];
  for (const algorithm of [RSA, ED25519]) {
    let row = db
      .select()
      .from(actorKeys)
      .all()
      .find((r) => r.algorithm === algorithm);
    if (row === undefined) {
      const pair = algorithm === RSA ? await generateRsa2048() : await generateCryptoKeyPair("Ed25519");
      const candidate = {
        algorithm,
        publicJwk: JSON.stringify(await exportJwk(pair.publicKey)),
        privateJwk: JSON.stringify(await exportJwk(pair.privateKey)),
        createdAt: Date.now(),
      };
      // Another process (the CLI) may have generated it meanwhile: the first one wins.
      db.insert(actorKeys).values(candidate).onConflictDoNothing().run();
      row = db
        .select()
        .from(actorKeys)
        .all()
        .find((r) => r.algorithm === algorithm);
      if (row === undefined) throw new Error(`could not store the ${algorithm} key`);
    }
    pairs.push({
      publicKey: await importJwk(JSON.parse(row.publicJwk), "public"),
      privateKey: await importJwk(JSON.parse(row.privateJwk), "private"),
    });
  }
  return pairs;
}

/** RSA-2048 like Mastodon's: Fedify's own generator makes 4096-bit keys, about 7 times slower to sign with. */
async function generateRsa2048(): Promise<CryptoKeyPair> {
  return (await crypto.subtle.generateKey(
    { name: RSA, modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" },
    true,
    ["sign", "verify"],
  )) as CryptoKeyPair;
}
