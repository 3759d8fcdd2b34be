import type { KvStore } from "@fedify/fedify";
import { Temporal } from "../shared/temporal.ts";

/**
 * Limits the answers (Rejects) we send to unwanted replies, so that a flood
 * of replies cannot make us flood others: each object is answered at most
 * once, at most `perHost` per second per server and `overall` per second in
 * all (token buckets; what is over the limit gets no answer).
 */
export class AnswerLimiter {
  readonly #kv: KvStore;
  readonly #overall: Bucket;
  readonly #perHost = new Map<string, Bucket>();
  readonly #hostRate: number;
  readonly #hostBurst: number;

  constructor(
    kv: KvStore,
    options: { overall?: number; overallBurst?: number; perHost?: number; perHostBurst?: number } = {},
  ) {
    this.#kv = kv;
    this.#overall = new Bucket(options.overall ?? 20, options.overallBurst ?? 200);
    this.#hostRate = options.perHost ?? 2;
    this.#hostBurst = options.perHostBurst ?? 20;
  }

  /** True when an answer about `objectId` may go to `host` now; remembers it for a week. */
  async allow(objectId: string, host: string, now: number = Date.now()): Promise<boolean> {
    const key = ["lectern", "answered", objectId] as const;
    if ((await this.#kv.get(key)) !== undefined) return false;
    let bucket = this.#perHost.get(host);
    if (bucket === undefined) {
      if (this.#perHost.size > 10_000) this.#perHost.clear();
      bucket = new Bucket(this.#hostRate, this.#hostBurst);
      this.#perHost.set(host, bucket);
    }
    if (!bucket.peek(now) || !this.#overall.peek(now)) return false;
    bucket.take(now);
    this.#overall.take(now);
    await this.#kv.set(key, 1, { ttl: Temporal.Duration.from({ days: 7 }) });
    return true;
  }
}

class Bucket {
  #tokens: number;
  #at = 0;
  readonly #rate: number;
  readonly #burst: number;
  constructor(rate: number, burst: number) {
    this.#rate = rate;
    this.#burst = burst;
    this.#tokens = burst;
  }
  #refill(now: number) {
    if (this.#at !== 0) this.#tokens = Math.min(this.#burst, this.#tokens + ((now - this.#at) / 1000) * this.#rate);
    this.#at = now;
  }
  peek(now: number): boolean {
    this.#refill(now);
    return this.#tokens >= 1;
  }
  take(now: number) {
    this.#refill(now);
    this.#tokens -= 1;
  }
}
