import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const MAIN = fileURLToPath(new URL("../src/main.ts", import.meta.url));

/** Lectern server processes of this checkout that tests started (their data lives in the temp directory). */
function leftovers(): number[] {
  const found: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      const cmdline = readFileSync(`/proc/${name}/cmdline`, "utf8").split("\0");
      if (!cmdline.some((a) => a === MAIN || a === "src/main.ts")) continue;
      const env = readFileSync(`/proc/${name}/environ`, "utf8");
      if (/LECTERN_DATA_DIR=\/tmp\/lectern-/.test(env)) found.push(Number(name));
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return found;
}

/** What a process is, for the message: its settings and parent. */
function describe(pid: number): string {
  try {
    const env = readFileSync(`/proc/${pid}/environ`, "utf8")
      .split("\0")
      .filter((v) => /^(LECTERN_|PORT=)/.test(v) && !/SECRET|PASSWORD|TOKEN/.test(v));
    const parent = /PPid:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
    return `parent ${parent}; ${env.join(" ")}`;
  } catch {
    return "gone";
  }
}

/**
 * After the run: no server process a test started is left behind (a stopped
 * process ends within its stop deadline, the delivery timeout and 10 s). Any
 * still there after 30 s is killed, and the run fails.
 */
export default function setup(): () => Promise<void> {
  return async () => {
    const deadline = Date.now() + 30_000;
    let left = leftovers();
    while (left.length > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 500));
      left = leftovers();
    }
    if (left.length === 0) return;
    const described = left.map((pid) => `${pid} (${describe(pid)})`);
    for (const pid of left) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {}
    }
    throw new Error(`server processes left running after the tests (killed now): ${described.join("; ")}`);
  };
}
