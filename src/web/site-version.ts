import { onSiteVersionBumped, siteVersion } from "../product/instance.ts";
import type { Database } from "../storage/database.ts";

/**
 * The site version as this process last read it from the database: read at
 * most every `ttlMs` (100 ms by default), so a busy process does not ask the
 * database on every request, and another process's change shows here within
 * that time. A change made in this process shows at once.
 */
export class SiteVersion {
  readonly #db: Database;
  readonly #ttlMs: number;
  #value: number | undefined;
  #readAt = 0;
  #generation = 0;
  #reading: Promise<number> | undefined;
  readonly #stopListening: () => void;

  constructor(db: Database, ttlMs = 100) {
    this.#db = db;
    this.#ttlMs = ttlMs;
    this.#stopListening = onSiteVersionBumped(() => this.invalidate());
  }

  /** The version, when it was read recently enough; undefined otherwise (and a read starts). */
  peek(): number | undefined {
    if (this.#value !== undefined && Date.now() - this.#readAt < this.#ttlMs) return this.#value;
    void this.current().catch(() => {});
    return undefined;
  }

  async current(): Promise<number> {
    if (this.#value !== undefined && Date.now() - this.#readAt < this.#ttlMs) return this.#value;
    if (this.#reading !== undefined) return await this.#reading;
    const generation = this.#generation;
    const startedAt = Date.now();
    this.#reading = siteVersion(this.#db).finally(() => {
      this.#reading = undefined;
    });
    const value = await this.#reading;
    // A change made here while reading: what was read may be older than it.
    if (generation === this.#generation) {
      this.#value = value;
      this.#readAt = startedAt;
    }
    return value;
  }

  invalidate(): void {
    this.#generation++;
    this.#value = undefined;
  }

  close(): void {
    this.#stopListening();
  }
}
