import type { KvStore } from "@fedify/fedify";
import type { Config } from "../shared/config.ts";
import type { Urls } from "../shared/urls.ts";
import type { Database } from "../storage/database.ts";
import type { MediaStore } from "../storage/media-store.ts";
import type { SecretBox } from "./access/secrets.ts";
import type { Outbox } from "./outbox.ts";

/** What every request, queue job and CLI command works with: Fedify's context data. */
export interface AppData {
  readonly config: Config;
  readonly db: Database;
  readonly media: MediaStore;
  /** Expiring facts (which replies were answered, which boosts counted); never content. */
  readonly kv: KvStore;
  readonly urls: Urls;
  /** The one way out for activities (the delivery engine). */
  readonly outbox: Outbox;
  /** Seals and opens the secrets kept in the database. */
  readonly secrets: SecretBox;
}
