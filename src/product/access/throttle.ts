import { instruments } from "../../shared/metrics.ts";
import type { Queryable } from "../../storage/database.ts";
import { sql } from "../../storage/sql.ts";

/*
 * Password and second-factor guessing, bounded where every process sees it
 * (the database), without ever keeping the owner out:
 *
 * - Per address: a few attempts are free; after them each further attempt
 *   waits twice as long as the one before (1 s, 2 s, … up to 15 minutes).
 *   Each attempt counts before its password is checked, so guesses sent at
 *   once cannot slip through. A right password clears the address.
 * - Per account: an address that has failed in the last hour (on any account)
 *   spends from the account's budget, a few checks a minute shared by every
 *   such address, in every process; past it, 429 until the minute is over.
 *   An address with no recent failure never waits for the account: the owner
 *   signing in from their own address gets in while a spread-out guesser
 *   is refused, and each new address a guesser brings buys one guess.
 *
 * Second-factor codes are counted the same way, under keys of their own, so
 * a person whose password was right is never held back by password guessers.
 * Nothing sleeps: a refusal answers at once, and no check holds a slot while
 * it waits (see {@link CheckSlots}).
 */

export type Attempt = "password" | "code";

/**
 * The address attempts are counted under: an IPv4 address, or the /64 an
 * IPv6 address is in (one home or server holds a whole /64, and would
 * otherwise have 2^64 fresh addresses to guess from).
 */
export function attemptSource(address: string): string {
  const bare = address.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, "");
  if (!bare.includes(":")) return bare;
  const [head, tail = ""] = bare.toLowerCase().split("::");
  const left = head.split(":").filter(Boolean);
  const right = tail.split(":").filter(Boolean);
  const groups = [...left, ...Array(Math.max(0, 8 - left.length - right.length)).fill("0"), ...right];
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ""))
    .join(":")}::/64`;
}

export interface ThrottleRules {
  /** Attempts an address has before each further one waits. */
  freeAttempts: number;
  maxWaitMs: number;
  /** Checks a minute for an account from addresses that failed lately. */
  accountChecksPerMinute: number;
}

export const DEFAULT_RULES: ThrottleRules = { freeAttempts: 5, maxWaitMs: 15 * 60_000, accountChecksPerMinute: 4 };

const HOUR = 3600_000;
const MINUTE = 60_000;

/** What the throttle decided: check now, or refuse for this long. */
export type Turn = { allowed: true } | { allowed: false; retryAfterMs: number; reason: "address" | "account" };

export class SignInThrottle {
  readonly #db: Queryable;
  readonly rules: ThrottleRules;
  #sincePrune = 0;
  constructor(db: Queryable, rules: ThrottleRules = DEFAULT_RULES) {
    this.#db = db;
    this.rules = rules;
  }

  /**
   * Takes a turn for an attempt on `account` from `address`: counted already
   * when allowed (call {@link result} after the check), or refused with how
   * long to wait.
   */
  async begin(kind: Attempt, address: string, account: string, now: number = Date.now()): Promise<Turn> {
    await this.#prune(now);
    const prefix = kind === "code" ? "code-" : "";
    const { freeAttempts: free, maxWaitMs: max } = this.rules;
    const addressKey = `${prefix}address:${address}`;
    const stale = now - HOUR;
    // The wait after this attempt: none while free, then 1 s doubling up to the maximum.
    const doubled = sql`CASE WHEN sign_in_throttle.count + 1 < ${free} THEN 0
      WHEN sign_in_throttle.wait_ms * 2 < 1000 THEN 1000
      WHEN sign_in_throttle.wait_ms * 2 > ${max} THEN ${max}
      ELSE sign_in_throttle.wait_ms * 2 END`;
    const taken = await this.#db.get<{ count: number }>(
      sql`INSERT INTO sign_in_throttle (key, count, since, wait_ms, next_at, last_at)
          VALUES (${addressKey}, 1, ${now}, 0, ${free <= 1 ? now + 1000 : now}, ${now})
        ON CONFLICT (key) DO UPDATE SET
          count = CASE WHEN sign_in_throttle.last_at < ${stale} THEN 1 ELSE sign_in_throttle.count + 1 END,
          wait_ms = CASE WHEN sign_in_throttle.last_at < ${stale} THEN 0 ELSE ${doubled} END,
          next_at = ${now} + CASE WHEN sign_in_throttle.last_at < ${stale} THEN 0 ELSE ${doubled} END,
          last_at = ${now}
        WHERE sign_in_throttle.last_at < ${stale} OR sign_in_throttle.next_at <= ${now}
        RETURNING count`,
    );
    if (taken === undefined) {
      const row = await this.#db.get<{ next: number }>(
        sql`SELECT next_at AS next FROM sign_in_throttle WHERE key = ${addressKey}`,
      );
      instruments().signInFailures.add(1, { reason: "throttled" });
      return { allowed: false, retryAfterMs: Math.max(1000, Number(row?.next ?? now) - now), reason: "address" };
    }
    // The address's first attempt lately: never held back by the account.
    if (Number(taken.count) === 1) return { allowed: true };
    const accountKey = `${prefix}account:${account.slice(0, 64)}`;
    const window = now - MINUTE;
    const spent = await this.#db.get<{ count: number }>(
      sql`INSERT INTO sign_in_throttle (key, count, since, wait_ms, next_at, last_at)
          VALUES (${accountKey}, 1, ${now}, 0, ${now}, ${now})
        ON CONFLICT (key) DO UPDATE SET
          count = CASE WHEN sign_in_throttle.since <= ${window} THEN 1 ELSE sign_in_throttle.count + 1 END,
          since = CASE WHEN sign_in_throttle.since <= ${window} THEN ${now} ELSE sign_in_throttle.since END,
          last_at = ${now}
        WHERE sign_in_throttle.since <= ${window} OR sign_in_throttle.count < ${this.rules.accountChecksPerMinute}
        RETURNING count`,
    );
    if (spent !== undefined) return { allowed: true };
    instruments().signInFailures.add(1, { reason: "throttled" });
    const row = await this.#db.get<{ since: number }>(
      sql`SELECT since FROM sign_in_throttle WHERE key = ${accountKey}`,
    );
    return {
      allowed: false,
      retryAfterMs: Math.max(1000, Number(row?.since ?? now) + MINUTE - now),
      reason: "account",
    };
  }

  /** The check's outcome: a right password (or code) clears its address. */
  async result(kind: Attempt, address: string, right: boolean): Promise<void> {
    if (!right) instruments().signInFailures.add(1, { reason: kind === "code" ? "second_factor" : "password" });
    if (!right) return;
    await this.#db.run(
      sql`DELETE FROM sign_in_throttle WHERE key = ${`${kind === "code" ? "code-" : ""}address:${address}`}`,
    );
  }

  /** Forgets rows untouched for an hour, now and then (each attempt has a small share of the work). */
  async #prune(now: number): Promise<void> {
    if (++this.#sincePrune < 100) return;
    this.#sincePrune = 0;
    await this.#db.run(sql`DELETE FROM sign_in_throttle WHERE last_at < ${now - HOUR}`);
  }
}

/**
 * Password checks running at once in this process (scrypt: ~100 ms and
 * 32 MiB each): a few in flight, the rest waiting their turn in order, for a
 * short while. A check takes its slot only once its request has been read
 * and the throttle allowed it, so slow clients hold no slot.
 */
export class CheckSlots {
  readonly #max: number;
  readonly #maxWaitMs: number;
  #inFlight = 0;
  readonly #queue: (() => void)[] = [];
  constructor(max = 4, maxWaitMs = 10_000) {
    this.#max = max;
    this.#maxWaitMs = maxWaitMs;
  }

  /** Runs `check` in a slot; undefined when no slot came free in time. */
  async run<T>(check: () => Promise<T>): Promise<{ value: T } | undefined> {
    if (this.#inFlight >= this.#max) {
      const turn = await new Promise<boolean>((resolve) => {
        const go = () => {
          clearTimeout(timer);
          resolve(true);
        };
        const timer = setTimeout(() => {
          const i = this.#queue.indexOf(go);
          if (i >= 0) this.#queue.splice(i, 1);
          resolve(false);
        }, this.#maxWaitMs);
        this.#queue.push(go);
      });
      if (!turn) return undefined;
    } else {
      this.#inFlight++;
    }
    try {
      return { value: await check() };
    } finally {
      const next = this.#queue.shift();
      // The slot passes straight to the next in line; otherwise it is free.
      if (next) next();
      else this.#inFlight--;
    }
  }
}
