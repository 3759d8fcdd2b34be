import { Temporal as Polyfill } from "@js-temporal/polyfill";

/**
 * Temporal typed as the standard one (what Fedify's declarations name), backed
 * by the polyfill Fedify itself uses at run time, so values pass between them.
 */
export const Temporal = Polyfill as unknown as typeof globalThis.Temporal;
