// Read benchmark: requests per second and p99 latency of the actor, a Note, an
// outbox page, WebFinger, NodeInfo, the desk page and a post page, each against
// a bare Hono handler returning the same bytes from memory, in the same run:
// Lectern in one process, then the default start (one serving process per
// core); the load from this process.   npm run bench:read [-- --seconds 5] [--metrics: also metrics off/on]
import { fork, spawn } from "node:child_process";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { createServer, request as httpRequest } from "node:http";
import { availableParallelism, tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";
import { openLectern } from "../src/lectern.ts";
import { addFollower } from "../src/product/followers.ts";
import { publishPost } from "../src/product/publish.ts";
import { loadConfig } from "../src/shared/config.ts";
import { freePort as freePortFor } from "../tests/helpers/lectern.ts";
import { arg, flag } from "./harness.ts";

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

/** Lectern's processes: the one started and those it supervises. */
function processTree(pid: number): number[] {
  const out = [pid];
  try {
    for (const task of readdirSync(`/proc/${pid}/task`))
      for (const child of readFileSync(`/proc/${pid}/task/${task}/children`, "utf8").split(" ").filter(Boolean))
        out.push(...processTree(Number(child)));
  } catch {
    // gone
  }
  return out;
}
function memory(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return { rss: Math.round(kb("VmRSS") / 1024), hwm: Math.round(kb("VmHWM") / 1024) };
}

async function startLectern(extra: Record<string, string>) {
  // As `npm start` runs it (scripts/node.sh sets the server's V8 flags).
  const child = spawn("sh", ["scripts/node.sh", "src/main.ts"], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "", ...env, ...extra },
    stdio: ["ignore", "pipe", "inherit"],
  });
  await new Promise<void>((resolve) =>
    child.stdout?.on("data", (d: Buffer) => d.toString().includes("listening") && resolve()),
  );
  // Supervised processes start after the first one listens; let them come up and settle.
  await new Promise((r) => setTimeout(r, 4000));
  return child;
}

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
  { name: "NodeInfo", path: "/nodeinfo/2.1", accept: "application/json" },
  { name: "desk page", path: "/", accept: "text/html" },
  { name: "post page", path: `/posts/${lastPost}`, accept: "text/html" },
];
let server = await startLectern({ LECTERN_WEB_PROCESSES: "1", LECTERN_DELIVERY_WORKERS: "1" });
const captured: Record<string, { type: string; body: string }> = {};
for (const e of endpoints) {
  const res = await fetch(origin + e.path, { headers: { Accept: e.accept } });
  if (res.status !== 200) throw new Error(`${e.name}: ${res.status}`);
  captured[`${e.accept}\n${e.path}`] = {
    type: res.headers.get("content-type") ?? "application/octet-stream",
    body: await res.text(),
  };
}
const capturedFile = path.join(dir, "captured.json");
writeFileSync(capturedFile, JSON.stringify(captured));
const baseline = fork(
  fileURLToPath(new URL("./baseline-server.ts", import.meta.url)),
  [capturedFile, String(basePort)],
  { stdio: ["ignore", "inherit", "inherit", "ipc"] },
);
await new Promise((r) => baseline.once("message", r));

/** CPU seconds used so far by these processes (user + system, from /proc). */
function cpuSeconds(pids: number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // gone
    }
  }
  return ticks / 100;
}

async function load(url: string, accept: string, pids: number[] = [], extra: Record<string, string> = {}) {
  // A second of warm-up (JIT, caches), not counted.
  await autocannon({ url, connections, duration: 1, headers: { accept, ...extra } });
  const cpu = cpuSeconds(pids);
  const r = await autocannon({ url, connections, duration: seconds, headers: { accept, ...extra } });
  const used = cpuSeconds(pids) - cpu;
  return {
    rps: r.requests.average,
    p99: r.latency.p99,
    non2xx: r.non2xx + r.errors,
    cpuPerRequestUs: pids.length > 0 ? Math.round((used / Math.max(1, r.requests.total)) * 1e6) : 0,
  };
}

const cores = availableParallelism();
console.log(
  `read: ${seconds} s per endpoint, ${connections} connections, ${cores} cores; the baseline (bare Hono, same bytes) in one process`,
);
type Result = Awaited<ReturnType<typeof load>>;
const results: Record<string, { base: Result; single?: Result; multi?: Result }> = {};
for (const e of endpoints) results[e.name] = { base: await load(`http://127.0.0.1:${basePort}${e.path}`, e.accept) };
if (flag("metrics")) await metricsCost();
for (const mode of ["single", "multi"] as const) {
  if (mode === "multi") server = await startLectern({});
  const pids = processTree(server.pid as number);
  const idle = pids.map((p) => memory(p).rss);
  for (const e of endpoints) results[e.name][mode] = await load(origin + e.path, e.accept, pids);
  const peak = pids.map((p) => memory(p).hwm);
  console.log(
    `${mode === "single" ? "one process (LECTERN_WEB_PROCESSES=1)" : `default start (${pids.length} processes)`}: idle RSS ${idle.join(" + ")} MB, peak ${peak.join(" + ")} MB`,
  );
  server.kill("SIGTERM");
  await new Promise((r) => server.once("exit", r));
}
console.log(
  "endpoint     | baseline req/s p99 | one process req/s p99 ratio CPU µs/req | default start req/s p99 ratio ×one CPU µs/req",
);
for (const e of endpoints) {
  const { base, single, multi } = results[e.name] as Required<(typeof results)[string]>;
  const cell = (r: Result) => `${String(Math.round(r.rps)).padStart(6)} ${String(r.p99).padStart(4)}`;
  console.log(
    `${e.name.padEnd(12)} | ${cell(base)}     | ${cell(single)} ${(single.rps / base.rps).toFixed(2)} ${String(single.cpuPerRequestUs).padStart(5)}      | ${cell(multi)} ${(multi.rps / base.rps).toFixed(2)} ${(multi.rps / single.rps).toFixed(2)} ${String(multi.cpuPerRequestUs).padStart(5)}${single.non2xx + multi.non2xx ? `  (${single.non2xx + multi.non2xx} errors)` : ""}`,
  );
}
if (hasVarnish()) await throughVarnish();
else console.log("varnish: varnishd not found (apt install varnish), skipped");
baseline.kill("SIGTERM");
rmSync(dir, { recursive: true, force: true });
process.exit(0);

/**
 * The cost of metrics: one serving process with metrics off and on (scraped every second, harsher than
 * Prometheus' 15 s), twice each, alternating; the ratio of the means.
 */
async function metricsCost(): Promise<void> {
  server.kill("SIGTERM");
  await new Promise((r) => server.once("exit", r));
  const metricsPort = await freePortFor();
  const rps: Record<string, { off: number[]; on: number[] }> = {};
  for (const on of [false, true, false, true]) {
    server = await startLectern({
      LECTERN_WEB_PROCESSES: "1",
      LECTERN_DELIVERY_WORKERS: "1",
      ...(on ? { LECTERN_METRICS_LISTEN: `127.0.0.1:${metricsPort}` } : {}),
    });
    const scraper = on
      ? setInterval(() => void fetch(`http://127.0.0.1:${metricsPort}/metrics`).then((r) => r.text()), 1000)
      : undefined;
    for (const e of endpoints.slice(0, 4)) {
      rps[e.name] ??= { off: [], on: [] };
      rps[e.name][on ? "on" : "off"].push((await load(origin + e.path, e.accept)).rps);
    }
    clearInterval(scraper);
    server.kill("SIGTERM");
    await new Promise((r) => server.once("exit", r));
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  console.log(
    "metrics cost (one process; off and on twice each, alternating): endpoint | off req/s | on req/s | ratio",
  );
  for (const [name, r] of Object.entries(rps))
    console.log(
      `${name.padEnd(12)} | ${Math.round(mean(r.off))} | ${Math.round(mean(r.on))} | ${(mean(r.on) / mean(r.off)).toFixed(3)}`,
    );
  server = await startLectern({ LECTERN_WEB_PROCESSES: "1", LECTERN_DELIVERY_WORKERS: "1" });
}

function hasVarnish(): boolean {
  return (
    (process.env.PATH ?? "").split(":").some((d) => existsSync(path.join(d, "varnishd"))) ||
    existsSync("/usr/sbin/varnishd")
  );
}

/**
 * The same load through Varnish with the README's VCL (config/varnish/lectern.vcl), a
 * counting proxy between Varnish and Lectern: origin hits per URL, then a purge.
 */
async function throughVarnish(): Promise<void> {
  const varnishPort = await freePortFor();
  const countPort = await freePortFor();
  const hits = new Map<string, number>();
  const counter = createServer((req, res) => {
    const key = `${req.headers.accept} ${req.url}`;
    hits.set(key, (hits.get(key) ?? 0) + 1);
    const up = httpRequest(
      { host: "127.0.0.1", port, path: req.url, method: req.method, headers: req.headers },
      (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      },
    );
    up.on("error", () => res.writeHead(502).end());
    req.pipe(up);
  });
  await new Promise<void>((r) => counter.listen(countPort, "127.0.0.1", r));
  const vcl = readFileSync(path.join(ROOT, "config/varnish/lectern.vcl"), "utf8").replace(
    '.port = "8080";',
    `.port = "${countPort}";`,
  );
  const work = path.join(dir, "varnish");
  mkdirSync(work, { recursive: true });
  chmodSync(dir, 0o755);
  chmodSync(work, 0o755);
  writeFileSync(path.join(work, "lectern.vcl"), vcl);
  const varnish = spawn(
    "varnishd",
    ["-F", "-n", work, "-a", `127.0.0.1:${varnishPort}`, "-f", path.join(work, "lectern.vcl"), "-s", "malloc,256m"],
    { stdio: ["ignore", "ignore", "inherit"] },
  );
  server = await startLectern({
    LECTERN_CACHE_PURGE_URL: `http://127.0.0.1:${varnishPort}`,
    LECTERN_TRUSTED_PROXIES: "127.0.0.1",
  });
  const front = `http://127.0.0.1:${varnishPort}`;
  for (let i = 0; i < 50; i++) {
    if ((await fetch(`${front}/health`).catch(() => null))?.ok) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  const host = { host: `127.0.0.1:${port}` }; // the public host, as a CDN would send it (and purges name)
  console.log(`through Varnish (${front}, the README's VCL), ${seconds} s per endpoint:`);
  const shared = endpoints.filter((e) => e.name !== "post page");
  for (const e of endpoints) {
    const r = await load(front + e.path, e.accept, [], host);
    console.log(
      `  ${e.name.padEnd(12)} ${String(Math.round(r.rps)).padStart(6)} req/s, p99 ${r.p99} ms${r.non2xx ? `, ${r.non2xx} errors` : ""}`,
    );
  }
  console.log(`origin hits per URL and Accept during ${shared.length + 1} × ${seconds + 1} s of load (goal: 1 each):`);
  for (const [key, n] of hits) if (!key.includes("/health")) console.log(`  ${String(n).padStart(4)}  ${key}`);
  // A purge: the post is edited from the CLI; the next read through Varnish shows the edit.
  const note = `/posts/${lastPost}`;
  const before = hits.get(`text/html ${note}`) ?? 0;
  const edit = spawn(
    "sh",
    ["scripts/node.sh", "src/cli.ts", "edit", `${origin}${note}`, "--text", "Edited through the bench"],
    {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? "", ...env },
      stdio: "ignore",
    },
  );
  await new Promise((r) => edit.once("exit", r));
  const started = Date.now();
  let shown = false;
  while (!shown && Date.now() - started < 10_000) {
    const page = await (await fetch(front + note, { headers: { accept: "text/html", ...host } })).text();
    shown = page.includes("Edited through the bench");
    if (!shown) await new Promise((r) => setTimeout(r, 50));
  }
  console.log(
    `purge: the edit ${shown ? `showed through Varnish after ${Date.now() - started} ms` : "did NOT show within 10 s"}; origin hits for the page ${before} → ${hits.get(`text/html ${note}`) ?? 0}`,
  );
  server.kill("SIGTERM");
  await new Promise((r) => server.once("exit", r));
  varnish.kill("SIGTERM");
  await new Promise((r) => varnish.once("exit", r));
  counter.close();
}
