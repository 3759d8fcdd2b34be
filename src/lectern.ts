import path from "node:path";
import type { Context } from "@fedify/fedify";
import { DeliveryOutbox } from "./delivery/outbox.ts";
import { createLecternFederation, type LecternFederation } from "./federation/federation.ts";
import { SecretBox } from "./product/access/secrets.ts";
import type { AppData } from "./product/context.ts";
import { actorCreatedAt } from "./product/instance.ts";
import { getActorKeyPairs } from "./product/keys.ts";
import { type Channel, Outboxes } from "./product/outbox.ts";
import { readerChannel } from "./readers/fanout.ts";
import { readerKeys } from "./readers/keys.ts";
import type { Config } from "./shared/config.ts";
import { Urls } from "./shared/urls.ts";
import type { Database } from "./storage/database.ts";
import { DatabaseKvStore } from "./storage/kv.ts";
import type { MediaStore } from "./storage/media-store.ts";
import { openDatabase } from "./storage/open.ts";
import { DatabaseMessageQueue } from "./storage/queue.ts";
import { openMediaStore } from "./storage/s3-media-store.ts";

/** One Lectern: configuration, database, queue and federation, as the server, the CLI and tests use it. */
export interface Lectern {
  readonly config: Config;
  readonly db: Database;
  readonly kv: DatabaseKvStore;
  readonly queue: DatabaseMessageQueue;
  readonly federation: LecternFederation;
  readonly data: AppData;
  readonly media: MediaStore;
  readonly secrets: SecretBox;
  /** A context for work outside a request (CLI, scheduled jobs). */
  context(): Context<AppData>;
  close(): Promise<void>;
}

export interface LecternOptions {
  /** Ways out besides the fediverse, each hearing the facts it takes (tests register one). */
  channels?: Channel[];
}

export async function openLectern(config: Config, options: LecternOptions = {}): Promise<Lectern> {
  const db = await openDatabase(config);
  const kv = new DatabaseKvStore(db);
  const queue = new DatabaseMessageQueue(db, {
    concurrency: config.delivery.concurrency,
    pollMs: config.delivery.pollMs,
  });
  const federation = await createLecternFederation(config, kv, queue);
  const media = await openMediaStore(config, path.join(config.dataDir, "media"));
  const urls = new Urls(config.origin, config.handle, config.media.publicUrl);
  // Every way out, registered here: the fediverse first, then any others (email, push, relays).
  const outbox = new Outboxes([
    new DeliveryOutbox(() => federation.createContext(config.origin, data)),
    readerChannel(config),
    ...(options.channels ?? []),
  ]);
  // The key that seals secrets in the database; what an older version kept in plain text is sealed now.
  const secrets = await SecretBox.open(config.secretKeyFile, db).catch(async (e) => {
    await db.close();
    throw e;
  });
  await secrets.sealPlain(db);
  const data: AppData = { config, db, media, kv, urls, outbox, secrets };
  // Create the actor's keys and birth date now, not during a remote server's first request.
  await actorCreatedAt(db);
  await getActorKeyPairs(data);
  await readerKeys(data);
  return {
    config,
    db,
    kv,
    queue,
    federation,
    data,
    media,
    secrets,
    context: () => federation.createContext(config.origin, data),
    close: async () => {
      media.close?.();
      await db.close();
    },
  };
}
