import type { Lectern } from "../lectern.ts";
import type { LoginThrottle } from "../product/auth.ts";

/** What the web routes need besides the request. */
export interface WebDeps {
  lectern: Lectern;
  /** The clock (replaceable in tests, e.g. to check scheduling). */
  now: () => number;
  throttle: LoginThrottle;
}
