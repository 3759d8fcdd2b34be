import path from "node:path";
import type { Context } from "@fedify/fedify";
import type { Config } from "./config.ts";
import type { AppData } from "./context.ts";
import { createLecternFederation, type LecternFederation } from "./federation/federation.ts";
import { actorCreatedAt } from "./product/instance.ts";
import { getActorKeyPairs } from "./product/keys.ts";
import { type Db, openDatabase } from "./storage/db.ts";
import { SqliteKvStore } from "./storage/kv.ts";
import { FileMediaStore, type MediaStore } from "./storage/media-store.ts";
import { SqliteMessageQueue } from "./storage/queue.ts";

/** One Lectern: configuration, database, queue and federation, as the server, the CLI and tests use it. */
export interface Lectern {
  readonly config: Config;
  readonly db: Db;
  readonly kv: SqliteKvStore;
  readonly queue: SqliteMessageQueue;
  readonly federation: LecternFederation;
  readonly data: AppData;
  readonly media: MediaStore;
  /** A context for work outside a request (CLI, scheduled jobs). */
  context(): Context<AppData>;
  close(): void;
}

export async function openLectern(config: Config): Promise<Lectern> {
  const db = openDatabase(config.databasePath);
  const kv = new SqliteKvStore(db);
  const queue = new SqliteMessageQueue(db, {
    concurrency: config.delivery.concurrency,
    pollMs: config.delivery.pollMs,
  });
  const federation = await createLecternFederation(config, kv, queue);
  const media = new FileMediaStore(path.join(config.dataDir, "media"));
  const data: AppData = { config, db, media, kv };
  // Create the actor's keys and birth date now, not during a remote server's first request.
  actorCreatedAt(db);
  await getActorKeyPairs(db);
  return {
    config,
    db,
    kv,
    queue,
    federation,
    data,
    media,
    context: () => federation.createContext(config.origin, data),
    close: () => db.$client.close(),
  };
}
