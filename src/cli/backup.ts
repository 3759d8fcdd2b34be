import { createHash } from "node:crypto";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from "node:fs";
import path from "node:path";
import type { Config } from "../shared/config.ts";
import { SqliteDatabase } from "../storage/sqlite.ts";
import { UsageError } from "./common.ts";

/*
 * `lectern backup PATH` and `lectern restore PATH`, for the embedded
 * database: a consistent copy taken while the server runs (SQLite's online
 * backup API), the secret key that unseals the actor's keys, the media files
 * kept on disk, and a manifest of every file with its SHA-256. PostgreSQL is
 * backed up with its own tools (README: pg_dump); the key and media parts are
 * the same.
 */

const MANIFEST = "manifest.json";

interface Manifest {
  lectern: 1;
  createdAt: string;
  origin: string;
  files: { name: string; bytes: number; sha256: string }[];
}

const sha256 = (file: string) => createHash("sha256").update(readFileSync(file)).digest("hex");

function refuseOnPostgres(config: Config, command: string): void {
  if (config.databaseUrl !== null)
    throw new UsageError(
      `${command}: this deployment uses PostgreSQL; back it up with pg_dump (see the README, "Backups"), and copy the secret key file`,
    );
}

export async function backupCommand(config: Config, args: string[]): Promise<number> {
  refuseOnPostgres(config, "backup");
  const [target] = args;
  if (target === undefined) throw new UsageError("backup: give the folder to write the backup to");
  if (existsSync(target) && readdirSync(target).length > 0) throw new UsageError(`backup: ${target} is not empty`);
  if (!existsSync(config.databasePath)) throw new UsageError(`backup: no database at ${config.databasePath}`);
  mkdirSync(path.join(target, "media"), { recursive: true });
  const db = new SqliteDatabase(config.databasePath);
  try {
    // Page by page, the live database staying writable; the copy is one consistent moment.
    await db.client.backup(path.join(target, "lectern.sqlite"));
  } finally {
    await db.close();
  }
  copyFileSync(config.secretKeyFile, path.join(target, "secret.key"));
  chmodSync(path.join(target, "secret.key"), 0o600);
  const mediaDir = path.join(config.dataDir, "media");
  let media = 0;
  if (config.media.store === "disk" && existsSync(mediaDir))
    for (const name of readdirSync(mediaDir)) {
      const from = path.join(mediaDir, name);
      if (!statSync(from).isFile()) continue;
      copyFileSync(from, path.join(target, "media", name));
      media++;
    }
  const files = ["lectern.sqlite", "secret.key", ...readdirSync(path.join(target, "media")).map((n) => `media/${n}`)];
  const manifest: Manifest = {
    lectern: 1,
    createdAt: new Date().toISOString(),
    origin: config.origin.origin,
    files: files.map((name) => {
      const file = path.join(target, name);
      return { name, bytes: statSync(file).size, sha256: sha256(file) };
    }),
  };
  writeFileSync(path.join(target, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
  console.log(
    `Backed up to ${target}: the database, the secret key and ${media} media files${config.media.store === "s3" ? " (media stay in the bucket)" : ""}`,
  );
  return 0;
}

export async function restoreCommand(config: Config, args: string[]): Promise<number> {
  refuseOnPostgres(config, "restore");
  const [source] = args;
  if (source === undefined) throw new UsageError("restore: give the backup folder");
  let manifest: Manifest;
  try {
    manifest = JSON.parse(readFileSync(path.join(source, MANIFEST), "utf8")) as Manifest;
  } catch {
    throw new UsageError(`restore: ${source} has no readable ${MANIFEST} (not a Lectern backup)`);
  }
  if (existsSync(config.databasePath))
    throw new UsageError(`restore: ${config.databasePath} exists; restore into an empty data directory`);
  for (const f of manifest.files) {
    const file = path.join(source, f.name);
    if (f.name.includes("..") || !existsSync(file) || sha256(file) !== f.sha256)
      throw new UsageError(`restore: ${f.name} is missing or damaged in the backup (its SHA-256 differs)`);
  }
  mkdirSync(path.join(config.dataDir, "media"), { recursive: true });
  for (const f of manifest.files) {
    const to =
      f.name === "secret.key"
        ? config.secretKeyFile
        : f.name === "lectern.sqlite"
          ? config.databasePath
          : path.join(config.dataDir, f.name);
    if (f.name === "secret.key" && existsSync(to) && sha256(to) !== f.sha256)
      throw new UsageError(`restore: a different secret key is already at ${to}`);
    copyFileSync(path.join(source, f.name), to);
    if (f.name === "secret.key") chmodSync(to, 0o600);
  }
  console.log(`Restored ${manifest.files.length} files from ${source} (backed up ${manifest.createdAt})`);
  return 0;
}
