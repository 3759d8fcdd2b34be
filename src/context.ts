import type { KvStore } from "@fedify/fedify";
import type { Config } from "./config.ts";
import type { Db } from "./storage/db.ts";
import type { MediaStore } from "./storage/media-store.ts";

/** What every request, queue job and CLI command works with: Fedify's context data. */
export interface AppData {
  readonly config: Config;
  readonly db: Db;
  readonly media: MediaStore;
  /** Expiring facts (which replies were answered, which boosts counted); never content. */
  readonly kv: KvStore;
}
