import { type ChildProcess, spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { waitFor } from "./lectern.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

/** A Lectern started as `npm start` starts it: `src/main.ts` and the processes it supervises. */
export interface StartedLectern {
  readonly process: ChildProcess;
  /** Everything the processes printed so far. */
  output(): string;
  /** The owner's first password, as the first start prints it. */
  readonly initialPassword: string;
  /** The process ids of the whole tree (the first process and its children). */
  pids(): number[];
  /** The resident memory of each process of the tree, in bytes, by process id. */
  rss(): Map<number, number>;
  stop(): Promise<void>;
}

/**
 * Starts `node src/main.ts` with `env` (no inherited LECTERN_* settings) and
 * waits until every web process of the `all` role is serving (a `worker` until it delivers).
 */
export async function startLecternProcess(env: Record<string, string>): Promise<StartedLectern> {
  const child = spawn(process.execPath, ["src/main.ts"], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.on("data", (d: Buffer) => {
    output += d;
  });
  child.stderr?.on("data", (d: Buffer) => {
    output += d;
  });
  const webProcesses = Number(env.LECTERN_WEB_PROCESSES ?? 1);
  const started = waitFor(
    () => {
      if (child.exitCode !== null) throw new Error(`Lectern exited (${child.exitCode}):\n${output}`);
      // A worker-only process serves nothing: it says it is delivering.
      if (env.LECTERN_ROLE === "worker") return /is delivering \(role worker\)/.test(output);
      return (
        /Lectern is listening on/.test(output) &&
        (output.match(/is running \(role (web|all)\)/g) ?? []).length >= webProcesses - 1
      );
    },
    40_000,
    "Lectern to start",
  );
  const pids = () => tree(child.pid as number);
  // A start that did not come up leaves nothing running.
  await started.catch((error) => {
    for (const pid of pids().reverse())
      try {
        process.kill(pid, "SIGKILL");
      } catch {}
    throw error;
  });
  return {
    process: child,
    output: () => output,
    initialPassword: /with the password {2}(\S+)/.exec(output)?.[1] ?? "",
    pids,
    rss: () => new Map(pids().map((pid) => [pid, rssOf(pid)])),
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      const timer = setTimeout(() => {
        for (const pid of pids()) {
          try {
            process.kill(pid, "SIGKILL");
          } catch {}
        }
      }, 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** A process and its descendants, from /proc. */
export function processTree(pid: number): number[] {
  return tree(pid);
}

function tree(pid: number): number[] {
  const out = [pid];
  try {
    for (const task of readdirSync(`/proc/${pid}/task`))
      for (const c of readFileSync(`/proc/${pid}/task/${task}/children`, "utf8").split(" ").filter(Boolean))
        out.push(...tree(Number(c)));
  } catch {}
  return out;
}

function rssOf(pid: number): number {
  try {
    const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
    return Number(kb ?? 0) * 1024;
  } catch {
    return 0;
  }
}
