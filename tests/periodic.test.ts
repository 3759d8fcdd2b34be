import { afterEach, describe, expect, it } from "vitest";
import { periodic } from "../src/storage/periodic.ts";
import { freshDatabase } from "./helpers/databases.ts";
import { waitFor } from "./helpers/lectern.ts";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

describe("a periodic job", () => {
  it("runs at start and again after each interval, never two runs at once; a wake-up runs it now", async () => {
    let runs = 0;
    let inFlight = 0;
    let most = 0;
    const job = periodic({
      name: "test job",
      everyMs: 200,
      run: async () => {
        inFlight++;
        most = Math.max(most, inFlight);
        runs++;
        await new Promise((r) => setTimeout(r, 30));
        inFlight--;
      },
    });
    cleanups.push(() => job.stop());
    await waitFor(() => runs === 1, 1000, "the first run");
    for (let i = 0; i < 5; i++) job.wake(); // coalesced into one more run
    await waitFor(() => runs === 2, 1000, "the woken run");
    await new Promise((r) => setTimeout(r, 100));
    expect(runs).toBe(2);
    await waitFor(() => runs >= 3, 1000, "the next interval");
    expect(most).toBe(1);
    await job.stop();
    const stoppedAt = runs;
    job.wake();
    await new Promise((r) => setTimeout(r, 300));
    expect(runs).toBe(stoppedAt);
  });

  it("after a failure tries again sooner than its interval, and goes back to the interval once it works", async () => {
    const at: number[] = [];
    const job = periodic({
      name: "failing job",
      everyMs: 60_000,
      run: async () => {
        at.push(Date.now());
        if (at.length < 3) throw new Error("the database is away");
      },
    });
    cleanups.push(() => job.stop());
    await waitFor(() => at.length === 3, 5000, "two retries");
    expect(at[1] - at[0]).toBeGreaterThanOrEqual(900);
    expect(at[2] - at[1]).toBeGreaterThanOrEqual(1900);
    await new Promise((r) => setTimeout(r, 500));
    expect(at.length).toBe(3);
  });

  it("with a lease, runs in one process at a time", async () => {
    const db = await freshDatabase("sqlite", cleanups);
    const ran: string[] = [];
    const jobs = ["a", "b"].map((owner) =>
      periodic({ name: "leased job", everyMs: 10_000, lease: { db, owner }, run: async () => void ran.push(owner) }),
    );
    for (const j of jobs) cleanups.push(() => j.stop());
    await new Promise((r) => setTimeout(r, 300));
    expect(ran).toHaveLength(1);
  });
});
