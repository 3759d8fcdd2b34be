import { number, table } from "./define.ts";

/*
 * What the operator looks back on: one sample of the delivery backlog and
 * pace a minute, written by one worker, kept seven days (the desk's Server
 * page draws them).
 */
export const serverSamples = table("server_samples", {
  /** The minute it describes (milliseconds since the epoch, a multiple of 60,000). */
  at: number("at").primaryKey(),
  /** Deliveries due and not being sent, waiting for a retry. */
  due: number("due").notNull(),
  retrying: number("retrying").notNull(),
  /** Delivered, and failed (an attempt that did not succeed), in the minute before. */
  delivered: number("delivered").notNull(),
  failed: number("failed").notNull(),
  workers: number("workers").notNull(),
});
