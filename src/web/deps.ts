import type { Lectern } from "../lectern.ts";
import type { CheckSlots, SignInThrottle } from "../product/access/throttle.ts";

/** What the web routes need besides the request. */
export interface WebDeps {
  lectern: Lectern;
  /** The clock (replaceable in tests, e.g. to check scheduling). */
  now: () => number;
  /** Sign-in attempts, counted in the database (every process sees them). */
  throttle: SignInThrottle;
  /** Password checks running at once in this process. */
  slots: CheckSlots;
}
