import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Channel } from "../../src/product/outbox.ts";
import { type Config, loadConfig } from "../../src/shared/config.ts";
import { type RunningServer, startServer } from "../../src/start/server.ts";
import { databaseEnv, type TestDialect } from "./databases.ts";
import { freePort } from "./net.ts";

export { freePort };

/** A fresh directory under the system's temp dir, removed by the returned function. */
export function tempDir(prefix = "lectern-test-"): { dir: string; remove: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * The environment a test Lectern runs with: its own data dir, a loopback
 * origin, private addresses allowed, and retries in milliseconds, not minutes.
 */
export function testEnv(dataDir: string, port: number, extra: Record<string, string> = {}): Record<string, string> {
  return {
    LECTERN_DATA_DIR: dataDir,
    PORT: String(port),
    HOST: "127.0.0.1",
    LECTERN_ORIGIN: `http://127.0.0.1:${port}`,
    LECTERN_ALLOW_PRIVATE_ADDRESS: "true",
    LECTERN_DELIVERY_RETRY_INITIAL_SECONDS: "0.2",
    LECTERN_DELIVERY_RETRY_MAX_SECONDS: "1",
    LECTERN_DELIVERY_POLL_MILLISECONDS: "50",
    LECTERN_LOG_LEVEL: "warning",
    ...extra,
  };
}

export function testConfig(dataDir: string, port: number, extra: Record<string, string> = {}): Config {
  return loadConfig({ env: testEnv(dataDir, port, extra), cwd: dataDir });
}

export interface TestLectern {
  config: Config;
  /** The environment it runs with (the CLI and a restart use the same). */
  env: Record<string, string>;
  server: RunningServer;
  /** The public origin, e.g. http://127.0.0.1:40123 */
  origin: URL;
  actorId: URL;
  handle: string;
  stop(): Promise<void>;
}

/** Starts a real Lectern server in this process on a free loopback port. */
export async function startTestLectern(
  dataDir: string,
  options: {
    port?: number;
    env?: Record<string, string>;
    now?: () => number;
    dialect?: TestDialect;
    channels?: Channel[];
  } = {},
): Promise<TestLectern> {
  const port = options.port ?? (await freePort());
  const database =
    options.dialect === "postgres" && options.env?.LECTERN_DATABASE_URL === undefined
      ? await databaseEnv("postgres")
      : {};
  const extra = { ...database, ...options.env };
  const config = testConfig(dataDir, port, extra);
  const server = await startServer(config, {
    now: options.now,
    schedulerIntervalMs: 50,
    goneCheckIntervalMs: 300,
    channels: options.channels,
  });
  return {
    config,
    env: testEnv(dataDir, port, extra),
    server,
    origin: config.origin,
    actorId: new URL(`/users/${config.handle}`, config.origin),
    handle: `${config.handle}@${config.origin.host}`,
    stop: () => server.close(),
  };
}

/** Polls `check` until it returns a value other than undefined/false, or fails after `timeoutMs`. */
export async function waitFor<T>(
  check: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 20_000,
  what = "condition",
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
