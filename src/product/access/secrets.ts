import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";
import { closeSync, existsSync, openSync, readFileSync, renameSync, writeFileSync, writeSync } from "node:fs";
import { LecternError } from "../../shared/errors.ts";
import type { Database, Queryable } from "../../storage/database.ts";
import { sql } from "../../storage/sql.ts";

/*
 * Secrets that must be read back (the actor's private keys, authenticator-app
 * secrets) are kept in the database sealed with AES-256-GCM under a key that
 * is not in the database: a file (the data directory's `secret.key`, 0600, or
 * `secret_key_file`). The database alone gives none of them away. The file
 * holds one key a line, the one that seals first; rotation adds a key, seals
 * everything again under it, then drops the old one.
 */

const PREFIX = "sealed:v1:";

/** What a sealed value is for, bound into its seal: one cannot be moved into another's place. */
export type SecretUse = "actor-key" | "totp" | "reader-key";

/** The secret key cannot be had: missing while the database holds sealed secrets, unreadable, or another one. */
export class SecretKeyError extends LecternError {
  override name = "SecretKeyError";
  constructor(message: string) {
    super(message, 500, 78);
  }
}

interface Key {
  id: string;
  bytes: Buffer;
}

const keyId = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex").slice(0, 12);

function readKeys(file: string): Key[] {
  const keys = readFileSync(file, "utf8")
    .split("\n")
    .map((line) => line.trim())
    .filter(Boolean)
    .map((line) => Buffer.from(line, "base64url"));
  if (keys.length === 0 || keys.some((k) => k.length !== 32))
    throw new SecretKeyError(`${file}: not a secret key file (one base64url 32-byte key a line)`);
  return keys.map((bytes) => ({ id: keyId(bytes), bytes }));
}

/** Writes the key file as a whole (a temporary file renamed over it), readable by its owner only. */
function writeKeys(file: string, keys: Key[]): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${keys.map((k) => k.bytes.toString("base64url")).join("\n")}\n`, { mode: 0o600, flush: true });
  renameSync(tmp, file);
}

export class SecretBox {
  readonly file: string;
  #keys: Key[];
  private constructor(file: string, keys: Key[]) {
    this.file = file;
    this.#keys = keys;
  }

  /**
   * The box of `file`: read, or made (exclusively: processes starting
   * together agree on one) when there is none and the database holds
   * nothing sealed yet.
   */
  static async open(file: string, db: Queryable): Promise<SecretBox> {
    if (!existsSync(file)) {
      if (await anySealed(db))
        throw new SecretKeyError(
          `LECTERN_SECRET_KEY_FILE: ${file} is missing, and this database's secrets are sealed with a key: copy the file from the first machine (or restore it from the backup)`,
        );
      try {
        const fd = openSync(file, "wx", 0o600);
        writeSync(fd, `${randomBytes(32).toString("base64url")}\n`);
        closeSync(fd);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e; // another process made it first
      }
    }
    try {
      return new SecretBox(file, readKeys(file));
    } catch (e) {
      if (e instanceof SecretKeyError) throw e;
      throw new SecretKeyError(`LECTERN_SECRET_KEY_FILE: cannot read ${file}: ${(e as Error).message}`);
    }
  }

  /** The id of the key that seals (a hash prefix: it names the key, and tells nothing of it). */
  get keyId(): string {
    return this.#keys[0].id;
  }

  seal(use: SecretUse, plain: string): string {
    const key = this.#keys[0];
    const iv = randomBytes(12);
    const cipher = createCipheriv("aes-256-gcm", key.bytes, iv);
    cipher.setAAD(Buffer.from(use));
    const body = Buffer.concat([cipher.update(plain, "utf8"), cipher.final(), cipher.getAuthTag()]);
    return `${PREFIX}${key.id}:${iv.toString("base64url")}:${body.toString("base64url")}`;
  }

  /** The plain text of a sealed value (a value from before sealing is returned as it is). */
  unseal(use: SecretUse, value: string): string {
    if (!value.startsWith(PREFIX)) return value;
    const [id, iv, body] = value.slice(PREFIX.length).split(":");
    let key = this.#keys.find((k) => k.id === id);
    if (key === undefined) {
      // Sealed again by a rotation in another process since this one read the file.
      this.#keys = readKeys(this.file);
      key = this.#keys.find((k) => k.id === id);
    }
    if (key === undefined)
      throw new SecretKeyError(`a secret is sealed with key ${id}, which ${this.file} does not hold`);
    const bytes = Buffer.from(body, "base64url");
    const decipher = createDecipheriv("aes-256-gcm", key.bytes, Buffer.from(iv, "base64url"));
    decipher.setAAD(Buffer.from(use));
    decipher.setAuthTag(bytes.subarray(bytes.length - 16));
    return Buffer.concat([decipher.update(bytes.subarray(0, bytes.length - 16)), decipher.final()]).toString("utf8");
  }

  /** Seals every secret still in plain text (a database from before sealing). Returns how many. */
  async sealPlain(db: Database): Promise<number> {
    return await this.#reseal(db, (v) => !v.startsWith(PREFIX));
  }

  /**
   * A new key: written to the file beside the old one, every secret sealed
   * again under it, then the old one dropped. Returns the new key's id and how
   * many secrets were sealed again.
   */
  async rotate(db: Database): Promise<{ keyId: string; resealed: number }> {
    const fresh = randomBytes(32);
    const key = { id: keyId(fresh), bytes: fresh };
    this.#keys = [key, ...readKeys(this.file)];
    writeKeys(this.file, this.#keys);
    const resealed = await this.#reseal(db, (v) => !v.startsWith(`${PREFIX}${key.id}:`));
    this.#keys = [key];
    writeKeys(this.file, this.#keys);
    return { keyId: key.id, resealed };
  }

  async #reseal(db: Database, needs: (value: string) => boolean): Promise<number> {
    return await db.transaction(async (tx) => {
      let count = 0;
      for (const { table, column, key, use } of SEALED) {
        const rows = await tx.all<{ k: string | number; v: string }>(
          sql`SELECT ${sql.raw(key)} AS k, ${sql.raw(column)} AS v FROM ${sql.raw(table)} WHERE ${sql.raw(column)} IS NOT NULL`,
        );
        for (const row of rows) {
          if (!needs(row.v)) continue;
          const again = this.seal(use, this.unseal(use, row.v));
          await tx.run(
            sql`UPDATE ${sql.raw(table)} SET ${sql.raw(column)} = ${again} WHERE ${sql.raw(key)} = ${row.k}`,
          );
          count++;
        }
      }
      return count;
    });
  }
}

/** Every column that holds a sealed secret. */
const SEALED: readonly { table: string; column: string; key: string; use: SecretUse }[] = [
  { table: "actor_keys", column: "private_jwk", key: "algorithm", use: "actor-key" },
  { table: "staff", column: "totp_secret", key: "id", use: "totp" },
  { table: "staff", column: "totp_pending_secret", key: "id", use: "totp" },
  { table: "reader_keys", column: "secret", key: "name", use: "reader-key" },
];

async function anySealed(db: Queryable): Promise<boolean> {
  for (const { table, column } of SEALED) {
    const row = await db.get(
      sql`SELECT 1 AS x FROM ${sql.raw(table)} WHERE ${sql.raw(column)} LIKE ${`${PREFIX}%`} LIMIT 1`,
    );
    if (row !== undefined) return true;
  }
  return false;
}
