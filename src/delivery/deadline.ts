import { DatabaseUnavailableError } from "../storage/database.ts";

/**
 * Settles as `work` does, or rejects after `ms`. A database call may never
 * answer: postgres.js can leave a query pending for good when its connection
 * is lost under it (porsager/postgres#1216), and a delivery loop awaiting it
 * would stop delivering while the web still serves. The work is abandoned,
 * not cancelled; what it claimed is taken back when its lease runs out.
 */
export function withDeadline<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DatabaseUnavailableError(`${what} got no answer in ${ms / 1000} s`)), ms);
    timer.unref?.();
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}
