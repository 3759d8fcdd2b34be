import { type Lectern, openLectern } from "../lectern.ts";
import type { Config } from "../shared/config.ts";

/** A command used wrongly: its message and exit 64. */
export class UsageError extends Error {}

/** Opens Lectern for one command and closes it whatever happens. */
export async function withLectern<T>(config: Config, fn: (lectern: Lectern) => Promise<T>): Promise<T> {
  const lectern = await openLectern(config);
  try {
    return await fn(lectern);
  } finally {
    await lectern.close();
  }
}
