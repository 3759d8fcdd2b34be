import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `lectern <args>` as a separate process, as the author would from a shell. */
export function runCli(args: string[], env: Record<string, string>, stdin?: string): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      ["src/cli.ts", ...args],
      { cwd: ROOT, env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", ...env }, timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
        // A process that could not start (or was killed) says so, for the failing assertion's message.
        const why = error && typeof error.code !== "number" ? `\n[runCli: ${error.message}]` : "";
        resolve({ code, stdout, stderr: stderr + why });
      },
    );
    if (stdin !== undefined) child.stdin?.end(stdin);
  });
}
