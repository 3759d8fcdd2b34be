import { exportJwk, generateCryptoKeyPair, importJwk } from "@fedify/fedify";
import type { Database } from "../storage/database.ts";
import { sql } from "../storage/sql.ts";
import type { SecretBox } from "./access/secrets.ts";

const RSA = "RSASSA-PKCS1-v1_5";
const ED25519 = "Ed25519";

const cache = new WeakMap<Database, Promise<CryptoKeyPair[]>>();

/**
 * The actor's key pairs, RSA first (Fedify signs HTTP requests with the first
 * one) and Ed25519 second. Generated at the first call and kept in the
 * database: a changed key makes remote servers re-verify every follower.
 */
export function getActorKeyPairs(data: { db: Database; secrets: SecretBox }): Promise<CryptoKeyPair[]> {
  const { db, secrets } = data;
  let pairs = cache.get(db);
  if (pairs === undefined) {
    pairs = loadOrCreate(db, secrets);
    pairs.catch(() => cache.delete(db));
    cache.set(db, pairs);
  }
  return pairs;
}

async function loadOrCreate(db: Database, secrets: SecretBox): Promise<CryptoKeyPair[]> {
  const pairs: CryptoKeyPair[] = [];
  for (const algorithm of [RSA, ED25519]) {
    let row = await keyRow(db, algorithm);
    if (row === undefined) {
      const pair = algorithm === RSA ? await generateRsa2048() : await generateCryptoKeyPair("Ed25519");
      const candidate = {
        algorithm,
        publicJwk: JSON.stringify(await exportJwk(pair.publicKey)),
        // Sealed: the database alone must not give the account away.
        privateJwk: secrets.seal("actor-key", JSON.stringify(await exportJwk(pair.privateKey))),
        createdAt: Date.now(),
      };
      // Another process (the CLI) may have generated it meanwhile: the first one wins.
      await db.run(
        sql`INSERT INTO actor_keys (algorithm, public_jwk, private_jwk, created_at)
            VALUES (${candidate.algorithm}, ${candidate.publicJwk}, ${candidate.privateJwk}, ${candidate.createdAt})
            ON CONFLICT DO NOTHING`,
      );
      row = await keyRow(db, algorithm);
      if (row === undefined) throw new Error(`could not store the ${algorithm} key`);
    }
    pairs.push({
      publicKey: await importJwk(JSON.parse(row.publicJwk), "public"),
      privateKey: await importJwk(JSON.parse(secrets.unseal("actor-key", row.privateJwk)), "private"),
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

async function keyRow(db: Database, algorithm: string): Promise<{ publicJwk: string; privateJwk: string } | undefined> {
  return await db.get(
    sql`SELECT public_jwk AS "publicJwk", private_jwk AS "privateJwk" FROM actor_keys WHERE algorithm = ${algorithm}`,
  );
}
