/**
 * Token buckets by key (a server, an address): `rate` per second, up to
 * `burst` at once. Kept in memory per process (a limit per process is what
 * protects that process); the oldest keys are forgotten past `maxKeys`.
 */
export class RateLimiter {
  readonly #buckets = new Map<string, { tokens: number; at: number }>();
  readonly #rate: number;
  readonly #burst: number;
  readonly #maxKeys: number;
  constructor(rate: number, burst: number, maxKeys = 50_000) {
    this.#rate = rate;
    this.#burst = burst;
    this.#maxKeys = maxKeys;
  }

  /** 0 when `key` may go ahead now (a token is taken), else milliseconds until it may. */
  take(key: string, now: number = Date.now()): number {
    let b = this.#buckets.get(key);
    if (b === undefined) {
      if (this.#buckets.size >= this.#maxKeys) this.#buckets.delete(this.#buckets.keys().next().value as string);
      b = { tokens: this.#burst, at: now };
      this.#buckets.set(key, b);
    }
    b.tokens = Math.min(this.#burst, b.tokens + ((now - b.at) / 1000) * this.#rate);
    b.at = now;
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - b.tokens) / this.#rate) * 1000);
  }

  /** Whole tokens `key` has left now (without taking one). */
  left(key: string, now: number = Date.now()): number {
    const b = this.#buckets.get(key);
    if (b === undefined) return this.#burst;
    return Math.floor(Math.min(this.#burst, b.tokens + ((now - b.at) / 1000) * this.#rate));
  }
}
