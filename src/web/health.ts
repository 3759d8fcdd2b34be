import { randomBytes } from "node:crypto";
import { mkdir, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Hono } from "hono";
import { withDeadline } from "../delivery/deadline.ts";
import type { Lectern } from "../lectern.ts";
import { schemaState } from "../storage/migrate.ts";

/** How long each readiness check may take before it counts as failed. */
const CHECK_MS = 2000;

/** Why this process cannot serve now (none: ready), and notes that do not make it unready. */
export async function readiness(lectern: Lectern): Promise<{ problems: string[]; notes: string[] }> {
  const problems: string[] = [];
  const notes: string[] = [];
  const check = async (what: string, work: () => Promise<string | undefined>) => {
    try {
      const problem = await withDeadline(work(), CHECK_MS, what);
      if (problem !== undefined) problems.push(`${what}: ${problem}`);
    } catch (e) {
      problems.push(`${what}: ${(e as Error).message.slice(0, 200)}`);
    }
  };
  // Reading the applied migrations is the database's answer too. A database a newer version migrated
  // while this process ran is no reason to stop serving (that is a rolling upgrade: migrations add, they do
  // not take away; see the README), but this process would refuse to start again on it: said, still ready.
  await check("database", async () => {
    const { pending, unknown } = await schemaState(lectern.db);
    if (pending > 0) return `${pending} migrations not applied (npm start applies them)`;
    if (unknown > 0)
      notes.push(
        `database: migrated by a newer version (${unknown} migrations this code does not know); restart this process on the new version`,
      );
    return undefined;
  });
  await check("media store", async () => {
    // A read of a name no upload has: a store that answers is reachable (on S3, its bucket and keys).
    await lectern.media.size(`${"0".repeat(64)}.png`);
    return undefined;
  });
  await check("temporary folder", async () => {
    const dir = path.join(lectern.config.dataDir, "tmp");
    const probe = path.join(dir, `.ready-${randomBytes(6).toString("hex")}`);
    await mkdir(dir, { recursive: true });
    await writeFile(probe, "");
    await rm(probe, { force: true });
    return undefined;
  });
  return { problems, notes };
}

/** `/readyz`'s answer: 200 "ready" (with any notes), or 503 "not ready" with the reasons, one a line. */
export function readyAnswer(r: { problems: string[]; notes: string[] }): { status: 200 | 503; text: string } {
  return r.problems.length === 0
    ? { status: 200, text: ["ready", ...r.notes].join("\n") }
    : { status: 503, text: ["not ready", ...r.problems].join("\n") };
}

/**
 * Health as load balancers and orchestrators ask for it (GoToSocial's names):
 * `/livez`, the process answers; `/readyz`, it can serve (the database
 * answers within 2 s, its schema is not older than this code, the media store
 * and the temporary folder can be reached and written), else 503 with the
 * reasons, one a line. Never cached, outside the public limits.
 */
export function healthRoutes(app: Hono, lectern: Lectern): void {
  const noStore = { "Cache-Control": "no-store" };
  app.on(["GET", "HEAD"], "/livez", (c) => c.text("ok", 200, noStore));
  app.on(["GET", "HEAD"], "/readyz", async (c) => {
    const { status, text } = readyAnswer(await readiness(lectern));
    return status === 200 ? c.text(text, 200, noStore) : c.text(text, 503, { ...noStore, "Retry-After": "5" });
  });
}
