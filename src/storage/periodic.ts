import { getLogger } from "@logtape/logtape";
import type { Queryable } from "./database.ts";
import { acquireLease } from "./leases.ts";

const logger = getLogger(["lectern", "periodic"]);

export interface PeriodicJob {
  /** What the job is called in the log (and its lease's name). */
  name: string;
  /** From the end of one run to the start of the next. */
  everyMs: number;
  /**
   * Run by one process at a time across every machine: the one that holds
   * the lease named after the job (taken or renewed before each run, for
   * `ttlMs`, by default a run's interval). Without it, every process runs it.
   */
  lease?: { db: Queryable; owner: string; ttlMs?: number };
  /** Whether the first run is at start (default) or after the first interval. */
  runAtStart?: boolean;
  /** How loud a failed run is in the log (warning by default). */
  failure?: "warning" | "error";
  /** The clock for the lease (tests). */
  now?: () => number;
  run: () => Promise<unknown>;
}

export interface Periodic {
  /** Runs now (after the run in progress, if any), whatever the interval. */
  wake(): void;
  /** No further run; resolves when the one in progress is over. */
  stop(): Promise<void>;
}

/**
 * A job run again and again: never two runs of it at once in a process, the
 * next timed from the end of the last, a wake-up to run it now, and after a
 * failure a shorter wait (1 s, doubling, up to the interval) so that a
 * database that was away is caught up soon.
 */
export function periodic(job: PeriodicJob): Periodic {
  const now = job.now ?? Date.now;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let again = false;
  let stopped = false;
  let failures = 0;

  const once = async (): Promise<void> => {
    if (job.lease !== undefined) {
      const { db, owner, ttlMs } = job.lease;
      if (!(await acquireLease(db, job.name, owner, ttlMs ?? job.everyMs, now()))) return;
    }
    await job.run();
  };
  const schedule = (ms: number) => {
    clearTimeout(timer);
    if (stopped) return;
    timer = setTimeout(wake, ms);
    timer.unref();
  };
  function wake(): void {
    if (stopped) return;
    if (running !== undefined) {
      again = true;
      return;
    }
    clearTimeout(timer);
    running = (async () => {
      do {
        again = false;
        try {
          await once();
          failures = 0;
        } catch (error) {
          failures++;
          const level = job.failure ?? "warning";
          logger[level]("{name} failed (attempt {failures}): {error}", { name: job.name, failures, error });
        }
      } while (again && !stopped);
    })().finally(() => {
      running = undefined;
      schedule(failures === 0 ? job.everyMs : Math.min(job.everyMs, 1000 * 2 ** (failures - 1)));
    });
  }
  if (job.runAtStart === false) schedule(job.everyMs);
  else wake();
  return {
    wake,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
