import { getLogger } from "@logtape/logtape";
import type { Database } from "../storage/database.ts";
import { acquireLease, liveLeases, releaseLease } from "../storage/leases.ts";
import { partitionOf } from "../storage/partition.ts";
import { withDeadline } from "./deadline.ts";

const logger = getLogger(["lectern", "delivery"]);

/**
 * Follower servers are split into this many partitions by a hash of their
 * host (`lectern_partition`). Each partition is owned by one worker at a
 * time, so what is kept per server in memory (requests in flight, the slow
 * lane, a pause) stays right with any number of workers.
 */
export const PARTITIONS = 64;
/** A worker that stops renewing for this long is taken for dead: its partitions go to others. */
export const LEASE_MS = 10_000;
const RENEW_MS = 2_000;

/**
 * The partitions this worker owns, kept by expiring leases: renewed every
 * two seconds, shared out evenly among the live workers (a new worker gets
 * its share as others give up partitions they are not sending to), taken
 * over when a worker dies.
 */
export class PartitionLeases {
  readonly owned = new Set<number>();
  readonly #db: Database;
  readonly #worker: string;
  readonly #now: () => number;
  readonly #busy: (partition: number) => boolean;
  readonly #pace: () => { inFlight: number; deliveredLastMinute: number };
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #onChange: () => void = () => {};
  #renewedAt = 0;

  constructor(
    db: Database,
    worker: string,
    options: {
      now?: () => number;
      busy?: (partition: number) => boolean;
      pace?: () => { inFlight: number; deliveredLastMinute: number };
    } = {},
  ) {
    this.#db = db;
    this.#worker = worker;
    this.#now = options.now ?? Date.now;
    this.#busy = options.busy ?? (() => false);
    this.#pace = options.pace ?? (() => ({ inFlight: 0, deliveredLastMinute: 0 }));
  }

  /** Takes its share now, then keeps it up to date; `onChange` runs when partitions were gained. */
  async start(onChange: () => void): Promise<void> {
    this.#onChange = onChange;
    await this.tick();
    const loop = () => {
      this.#timer = setTimeout(() => {
        // A renewal that gets no answer must not end the renewals: the next one starts regardless.
        this.#running = withDeadline(this.tick(), LEASE_MS - RENEW_MS, "renewing delivery partitions")
          .catch((error) => logger.debug("Renewing delivery partitions failed: {error}", { error }))
          .finally(loop);
      }, RENEW_MS);
      this.#timer.unref?.();
    };
    loop();
  }

  async stop(): Promise<void> {
    clearTimeout(this.#timer);
    await this.#running;
    this.#timer = undefined;
    const db = this.#db;
    for (const p of this.owned) await releaseLease(db, `partition:${p}`, this.#worker).catch(() => {});
    await releaseLease(db, `worker:${this.#worker}`, this.#worker).catch(() => {});
    this.owned.clear();
  }

  async tick(): Promise<void> {
    const db = this.#db;
    const now = this.#now();
    try {
      await acquireLease(db, `worker:${this.#worker}`, this.#worker, LEASE_MS, now, this.#pace());
      const workers = (await liveLeases(db, "worker:", now)).length || 1;
      const share = Math.ceil(PARTITIONS / workers);
      const held = await liveLeases(db, "partition:", now);
      const mine = new Set<number>();
      const taken = new Set<number>();
      for (const l of held) {
        const p = Number(l.name.slice("partition:".length));
        if (l.owner === this.#worker) mine.add(p);
        else taken.add(p);
      }
      // Renew what is still ours; give up what is over our share and idle. "Idle" is decided and the
      // partition leaves `owned` in one synchronous step, before the lease goes: a claim starting after it
      // no longer names the partition, and one in progress counts as busy (the worker's `busy`), so the next
      // owner never finds rows of ours in flight there, which it would take back and send a second time.
      let keep = 0;
      for (const p of [...mine].sort((a, b) => a - b)) {
        if (keep >= share && !this.#busy(p)) {
          mine.delete(p);
          this.owned.delete(p);
          await releaseLease(db, `partition:${p}`, this.#worker);
          continue;
        }
        if (await acquireLease(db, `partition:${p}`, this.#worker, LEASE_MS, now)) keep++;
        else mine.delete(p);
      }
      // Take free partitions up to our share, starting at a different place in each worker.
      let gained = false;
      const start = partitionOf(this.#worker, PARTITIONS);
      for (let i = 0; i < PARTITIONS && mine.size < share; i++) {
        const p = (start + i) % PARTITIONS;
        if (mine.has(p) || taken.has(p)) continue;
        if (await acquireLease(db, `partition:${p}`, this.#worker, LEASE_MS, now)) {
          mine.add(p);
          gained = true;
        }
      }
      this.owned.clear();
      for (const p of mine) this.owned.add(p);
      this.#renewedAt = now;
      if (gained) this.#onChange();
    } catch (error) {
      // The database is away: what we had is ours until the leases run out (see current()).
      logger.debug("Renewing delivery partitions failed: {error}", { error });
    }
  }

  /** The partitions this worker may claim from now: none once its leases may have run out unrenewed. */
  current(): number[] {
    if (this.#now() - this.#renewedAt > LEASE_MS - RENEW_MS) return [];
    return [...this.owned];
  }
}
