// Read benchmark: requests per second and p99 latency of the actor, a Note, an
// outbox page, WebFinger and the desk page, each against a bare Hono handler
// returning the same bytes from memory, in the same run (each server in its own
// process, the load from this one).   npm run bench:read [-- --seconds 5]
import { fork, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";
import { loadConfig } from "../src/config.ts";
import { openLectern } from "../src/lectern.ts";
import { addFollower } from "../src/product/followers.ts";
import { publishPost } from "../src/product/publish.ts";
import { freePort as freePortFor } from "../tests/helpers/lectern.ts";
import { arg } from "./harness.ts";

const seconds = arg("seconds", 4);
const connections = arg("connections", 32);
const ROOT = fileURLToPath(new URL("..", import.meta.url));
const dir = mkdtempSync(path.join(tmpdir(), "lectern-read-"));
const port = await freePortFor();
const basePort = await freePortFor();
const origin = `http://127.0.0.1:${port}`;
const env = {
  LECTERN_DATA_DIR: dir,
  PORT: String(port),
  HOST: "127.0.0.1",
  LECTERN_ORIGIN: origin,
  LECTERN_LOG_LEVEL: "error",
  LECTERN_NAME: "Bench Desk",
};

// Seed: 40 posts and 1,000 followers.
const lectern = await openLectern(loadConfig({ env, cwd: dir }));
let lastPost = "";
for (let i = 0; i < 40; i++)
  lastPost = (await publishPost(lectern.context(), { text: `Post ${i}: **news** of the day #bench` })).id;
for (let i = 0; i < 1000; i++)
  addFollower(lectern.db, {
    actorIri: `https://s${i % 50}.example/users/u${i}`,
    followIri: null,
    inbox: `https://s${i % 50}.example/users/u${i}/inbox`,
    sharedInbox: `https://s${i % 50}.example/inbox`,
    handle: null,
  });
lectern.close();

const server = spawn(process.execPath, ["src/main.ts"], {
  cwd: ROOT,
  env: { PATH: process.env.PATH ?? "", ...env },
  stdio: ["ignore", "pipe", "inherit"],
});
await new Promise<void>((resolve) =>
  server.stdout?.on("data", (d: Buffer) => d.toString().includes("listening") && resolve()),
);

const AP = "application/activity+json";
const endpoints: { name: string; path: string; accept: string }[] = [
  { name: "actor", path: "/users/desk", accept: AP },
  { name: "Note", path: `/posts/${lastPost}`, accept: AP },
  { name: "outbox page", path: "/users/desk/outbox?cursor=newest", accept: AP },
  {
    name: "WebFinger",
    path: `/.well-known/webfinger?resource=${encodeURIComponent(`acct:desk@127.0.0.1:${port}`)}`,
    accept: "application/jrd+json",
  },
  { name: "desk page", path: "/", accept: "text/html" },
];
const captured: Record<string, { type: string; body: string }> = {};
for (const e of endpoints) {
  const res = await fetch(origin + e.path, { headers: { Accept: e.accept } });
  if (res.status !== 200) throw new Error(`${e.name}: ${res.status}`);
  captured[e.path] = { type: res.headers.get("content-type") ?? "application/octet-stream", body: await res.text() };
}
const capturedFile = path.join(dir, "captured.json");
writeFileSync(capturedFile, JSON.stringify(captured));
const baseline = fork(
  fileURLToPath(new URL("./baseline-server.ts", import.meta.url)),
  [capturedFile, String(basePort)],
  { stdio: ["ignore", "inherit", "inherit", "ipc"] },
);
await new Promise((r) => baseline.once("message", r));

async function load(url: string, accept: string) {
  const r = await autocannon({ url, connections, duration: seconds, headers: { accept } });
  return { rps: r.requests.average, p99: r.latency.p99, non2xx: r.non2xx + r.errors };
}

console.log(
  `read: ${seconds} s per endpoint, ${connections} connections; Lectern and the baseline each in one process`,
);
console.log("endpoint       Lectern req/s  p99 ms | baseline req/s  p99 ms | ratio");
for (const e of endpoints) {
  const l = await load(origin + e.path, e.accept);
  const b = await load(`http://127.0.0.1:${basePort}${e.path}`, e.accept);
  const ratio = l.rps / b.rps;
  console.log(
    `${e.name.padEnd(14)} ${String(Math.round(l.rps)).padStart(13)} ${String(l.p99).padStart(7)} | ${String(Math.round(b.rps)).padStart(14)} ${String(b.p99).padStart(7)} | ${ratio.toFixed(2)}${l.non2xx ? `  (${l.non2xx} errors)` : ""}`,
  );
}
server.kill("SIGTERM");
baseline.kill("SIGTERM");
rmSync(dir, { recursive: true, force: true });
process.exit(0);
