import { getLogger } from "@logtape/logtape";
import { Nap } from "../shared/nap.ts";
import type { Database } from "../storage/database.ts";
import { withDeadline } from "./deadline.ts";
import { fanOutsWaiting, queueNextChunk, takeQueueing } from "./fanout.ts";

const logger = getLogger(["lectern", "delivery"]);

/** How long the queueing lease lasts without renewal (the worker queueing renews it with every chunk). */
const QUEUEING_LEASE_MS = 10_000;
/** Chunk statements sent together on PostgreSQL. */
const PIPELINED = 4;
const step = <T>(work: Promise<T>, what: string): Promise<T> => withDeadline(work, 30_000, what);

/**
 * A worker's part in queueing fan-outs (fanout.ts): a loop of its own beside
 * the delivery loop, a chunk at a time, one worker at a time (the `queueing`
 * lease), so the first deliveries leave while the rest are being queued and
 * a busy delivery loop does not slow the queueing. Logs each fan-out once
 * queued: chunks, time, longest transaction.
 */
export class FanOutQueuer {
  /** The longest a chunk took (its transaction, ms). */
  longestChunkMs = 0;
  readonly #db: Database;
  readonly #worker: string;
  readonly #origin: string;
  readonly #pollMs: number;
  /** Whether a fan-out may be waiting (looked at on every round while so, else once per poll). */
  #waiting = true;
  #checkedAt = 0;
  #pauseUntil = 0;
  #run: { activity: number; started: number; chunks: number; queued: number; longestMs: number } | undefined;
  readonly #now: () => number;
  #stopped = false;
  #loop: Promise<void> | undefined;
  readonly #nap = new Nap();

  constructor(db: Database, worker: string, origin: string, pollMs: number, now: () => number = Date.now) {
    this.#db = db;
    this.#worker = worker;
    this.#origin = origin;
    this.#pollMs = pollMs;
    this.#now = now;
  }

  /** Starts the loop; `queued` runs after each chunk (the delivery loop has new rows to take). */
  start(queued: () => void): void {
    this.#loop = this.#runLoop(queued);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#nap.wake();
    await this.#loop;
  }

  /** A fan-out was stored (the deliveries channel): look at once. */
  wake(): void {
    this.#waiting = true;
    this.#nap.wake();
  }

  async #runLoop(queued: () => void): Promise<void> {
    let failures = 0;
    while (!this.#stopped) {
      let wait = this.#pollMs;
      try {
        const progressed = await this.#step(this.#now());
        failures = 0;
        if (progressed) {
          queued();
          // Between two chunks on SQLite (see #step): back after the pause, or sooner when woken.
          wait = Math.max(0, Math.ceil(this.#pauseUntil - performance.now()));
          if (wait === 0) continue;
        }
      } catch (error) {
        failures++;
        wait = Math.min(10_000, this.#pollMs * 2 ** Math.min(failures, 6));
        if (failures === 1) logger.warning("Queueing deliveries paused: {error}", { error: (error as Error).message });
      }
      await this.#nap.sleep(wait);
    }
  }

  /** Queues the next chunk when a fan-out is waiting and no other worker is queueing; true when it did. */
  async #step(now: number): Promise<boolean> {
    const db = this.#db;
    if (!this.#waiting && Date.now() - this.#checkedAt < this.#pollMs) return false;
    if (performance.now() < this.#pauseUntil) return false;
    this.#checkedAt = Date.now();
    this.#waiting = await step(fanOutsWaiting(db), "looking for fan-outs");
    if (!this.#waiting) return false;
    if (!(await step(takeQueueing(db, this.#worker, QUEUEING_LEASE_MS, now), "taking the queueing lease")))
      return false;
    const t0 = performance.now();
    // PostgreSQL: a few chunks sent at once, run one after the other (each locks the activity's row first),
    // so the answers' wait for this busy process is paid once for all of them.
    const chunks = await step(
      Promise.all(
        Array.from({ length: db.dialect === "postgres" ? PIPELINED : 1 }, () => queueNextChunk(db, this.#origin, now)),
      ),
      "queueing deliveries",
    );
    let progressed = false;
    for (const chunk of chunks) {
      // The transaction's own time: PostgreSQL says how long its one statement ran; on SQLite the step is it.
      const ms = chunk.databaseMs ?? performance.now() - t0;
      if (chunk.activity !== undefined) this.#count(chunk.activity, chunk.queued, ms, t0, chunk.finished === true);
      progressed ||= chunk.queued > 0 || chunk.more;
    }
    const chunk = chunks[chunks.length - 1];
    this.#waiting = chunks.some((c) => c.more);
    // SQLite has one writer and no queue for it: a worker whose write waits on a chunk sleeps and retries,
    // and would miss the moment between two chunks. A pause as long as the chunk lets it in.
    if (db.dialect === "sqlite" && chunk.more) this.#pauseUntil = performance.now() + (performance.now() - t0);
    return progressed;
  }

  #count(activity: number, queued: number, ms: number, t0: number, finished: boolean): void {
    this.longestChunkMs = Math.max(this.longestChunkMs, ms);
    const run = this.#run?.activity === activity ? this.#run : undefined;
    this.#run = {
      activity,
      started: run?.started ?? t0,
      chunks: (run?.chunks ?? 0) + 1,
      queued: (run?.queued ?? 0) + queued,
      longestMs: Math.max(run?.longestMs ?? 0, ms),
    };
    if (!finished) return;
    const r = this.#run;
    logger.info(
      "Queued activity {activity} for {queued} inboxes in {chunks} chunks over {ms} ms (longest transaction {longest} ms)",
      {
        activity: r.activity,
        queued: r.queued,
        chunks: r.chunks,
        ms: Math.round(performance.now() - r.started),
        longest: Math.round(r.longestMs * 10) / 10,
      },
    );
    this.#run = undefined;
  }
}
