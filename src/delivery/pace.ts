/*
 * What a worker measures of its own deliveries: how long healthy servers
 * take to answer (what counts as slow) and how many it delivered over the
 * last minute (what `lectern status` shows, through its lease).
 */

/**
 * A request running longer than three times what healthy servers take (the
 * 95th percentile of recent answers), between these bounds, stops counting
 * against `concurrency` (see DeliveryWorker): a healthy server answering
 * slowly only moves to the larger allowance, which costs a socket.
 */
const SLOW_AFTER_MIN_MS = 100;
const SLOW_AFTER_MAX_MS = 2_000;

/** How long healthy servers take to answer, from the last 256 successes: what counts as slow. */
export class AnswerTimes {
  readonly #times = new Float64Array(256);
  #count = 0;
  #slowAfter = 500;

  add(ms: number): void {
    this.#times[this.#count++ % this.#times.length] = ms;
    // Recomputed every 64 answers: a sort of 256 numbers, not one per delivery.
    if (this.#count % 64 === 0) {
      const sorted = this.#times.slice(0, Math.min(this.#count, this.#times.length)).sort();
      const p95 = sorted[Math.floor(sorted.length * 0.95)];
      this.#slowAfter = Math.min(SLOW_AFTER_MAX_MS, Math.max(SLOW_AFTER_MIN_MS, Math.round(3 * p95)));
    }
  }

  slowAfterMs(): number {
    return this.#slowAfter;
  }
}

/** Deliveries recorded per 5 seconds over the last minute. */
export class RecentDeliveries {
  readonly #buckets: { at: number; n: number }[] = [];

  add(n: number, now: number = Date.now()): void {
    const bucket = now - (now % 5_000);
    const last = this.#buckets.at(-1);
    if (last?.at === bucket) last.n += n;
    else this.#buckets.push({ at: bucket, n });
    while (this.#buckets.length > 0 && this.#buckets[0].at <= now - 60_000) this.#buckets.shift();
  }

  lastMinute(now: number = Date.now()): number {
    return this.#buckets.reduce((n, b) => (b.at > now - 60_000 ? n + b.n : n), 0);
  }
}
