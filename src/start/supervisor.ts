import { type ChildProcess, fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { getLogger } from "@logtape/logtape";
import type { Config } from "../shared/config.ts";

const logger = getLogger(["lectern", "supervisor"]);

/** V8 settings for delivery-only processes (see {@link v8FlagsFor}). */
export const WORKER_V8_FLAGS = ["--max-semi-space-size=8", "--max-old-space-size=192"];

/**
 * V8 settings by role (scripts/node.sh gives `npm start` the same). A
 * delivering process's heap churns (a request's objects live milliseconds):
 * a small young generation and a bounded old one keep its RSS under 256 MB
 * at 10,000 servers at no measurable cost in throughput (2 MB semi-spaces
 * cost deliveries a third in bench/fanout). A web-only process mostly
 * answers from its response cache and takes the smallest young generation.
 */
export function v8FlagsFor(role: "all" | "web" | "worker"): string[] {
  if (role === "worker") return WORKER_V8_FLAGS;
  return [role === "web" ? "--max-semi-space-size=2" : "--max-semi-space-size=8", "--max-old-space-size=256"];
}

/** Set in the environment of the processes a supervisor starts (they start none themselves). */
export const SUPERVISED = "LECTERN_SUPERVISED";

/**
 * Every core from the one-command start: the `all` process starts as many
 * more processes as `web.processes` and `delivery.workers` ask for beyond
 * itself, on the same database, and restarts any that dies (waiting longer
 * each time it dies quickly). Child n serves HTTP on the same port (the
 * kernel spreads connections, SO_REUSEPORT) while n < web.processes, and
 * delivers while n < delivery.workers; deliveries are shared through
 * partition leases. The parent stops them when it stops.
 */
export function superviseChildren(config: Config, port: number): { stop(): Promise<void> } {
  const count = Math.max(config.webProcesses, config.delivery.workers) - 1;
  const roleOf = (slot: number) => {
    const web = slot < config.webProcesses;
    const delivers = slot < config.delivery.workers;
    return web && delivers ? "all" : web ? "web" : "worker";
  };
  const children = new Set<ChildProcess>();
  let stopping = false;
  const main = fileURLToPath(new URL("../main.ts", import.meta.url));
  const spawn = (slot: number, delayMs: number) => {
    if (stopping) return;
    const startedAt = Date.now();
    const role = roleOf(slot);
    const child = fork(main, [], {
      env: {
        ...process.env,
        ...metricsListen(config, slot),
        LECTERN_ROLE: role,
        PORT: String(port),
        [SUPERVISED]: "1",
      },
      execArgv: [...process.execArgv.filter((f) => !/^--max-(semi|old)-space-size/.test(f)), ...v8FlagsFor(role)],
      stdio: "inherit",
    });
    children.add(child);
    child.once("exit", (code, signal) => {
      children.delete(child);
      if (stopping) return;
      const quick = Date.now() - startedAt < 10_000;
      const next = quick ? Math.min(60_000, Math.max(1000, delayMs * 2)) : 1000;
      logger.warning("Process {slot} exited ({status}); restarting in {next} ms", {
        slot,
        status: signal ?? code,
        next,
      });
      setTimeout(() => spawn(slot, next), next).unref();
    });
  };
  for (let slot = 1; slot <= count; slot++) spawn(slot, 500);
  return {
    async stop() {
      stopping = true;
      await Promise.all(
        [...children].map(
          (child) =>
            new Promise<void>((resolve) => {
              child.once("exit", () => resolve());
              child.kill("SIGTERM");
              setTimeout(() => child.kill("SIGKILL"), 20_000).unref();
            }),
        ),
      );
    },
  };
}

/** Each process serves its own metrics: process n of an `all` start on the metrics port + n (the parent on the port). */
function metricsListen(config: Config, slot: number): Record<string, string> {
  if (config.metrics === null) return {};
  const { host, port } = config.metrics.listen;
  return { LECTERN_METRICS_LISTEN: `${host.includes(":") ? `[${host}]` : host}:${port + slot + 1}` };
}
