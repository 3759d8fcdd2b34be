import { type ChildProcess, fork } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { loadConfig } from "../src/config.ts";
import { publishPost } from "../src/product/publish.ts";
import { startServer } from "../src/server.ts";
import { sql } from "../src/storage/sql.ts";

export type Behaviour = "ok" | "blackhole" | "error" | "slow";

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
}

export function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}
export const flag = (name: string) => process.argv.includes(`--${name}`);

/** A child process with `behaviours.length` inboxes on loopback ports. */
export async function startSinks(behaviours: Behaviour[], options: { slowMs?: number; verifyPem?: string } = {}) {
  const child: ChildProcess = fork(fileURLToPath(new URL("./sink-process.ts", import.meta.url)), [], {
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const arrivals: [number, number, number][] = [];
  let badSignatures = 0;
  const ports = await new Promise<number[]>((resolve) => {
    child.on("message", (m: { ports?: number[]; arrivals?: [number, number, number][]; badSignatures?: number }) => {
      if (m.ports) resolve(m.ports);
      if (m.arrivals) arrivals.push(...m.arrivals);
      if (m.badSignatures) badSignatures += m.badSignatures;
    });
    child.send({ cmd: "start", behaviours, slowMs: options.slowMs ?? 5000, verifyPem: options.verifyPem });
  });
  return {
    ports,
    arrivals,
    badSignatures: () => badSignatures,
    stop: async () => {
      child.send({ cmd: "stop" });
      await new Promise((r) => child.once("exit", r));
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

/**
 * One fan-out: `followers` followers spread over one server per behaviour
 * (each with a shared inbox, as Mastodon has), one post, until every healthy
 * server has it (or `deadlineMs`).
 */
export async function runFanout(options: {
  followers: number;
  behaviours: Behaviour[];
  concurrency?: number;
  verify?: boolean;
  slowMs?: number;
  deadlineMs?: number;
}): Promise<FanoutRun> {
  const dir = mkdtempSync(path.join(tmpdir(), "lectern-bench-"));
  const servers = options.behaviours.length;
  try {
    const config = loadConfig({
      env: {
        LECTERN_DATA_DIR: dir,
        PORT: "0",
        LECTERN_ORIGIN: "http://127.0.0.1:1",
        LECTERN_ALLOW_PRIVATE_ADDRESS: "true",
        LECTERN_LOG_LEVEL: "error",
        LECTERN_DELIVERY_CONCURRENCY: String(options.concurrency ?? 64),
        LECTERN_DELIVERY_RETRY_INITIAL_SECONDS: "600",
        LECTERN_DELIVERY_POLL_MILLISECONDS: "20",
      },
      cwd: dir,
    });
    const server = await startServer(config);
    const pem = (
      await (
        await server.lectern.federation.fetch(
          new Request("http://127.0.0.1:1/users/desk", { headers: { Accept: "application/activity+json" } }),
          { contextData: server.lectern.data },
        )
      ).json()
    ).publicKey.publicKeyPem as string;
    const sinks = await startSinks(options.behaviours, {
      slowMs: options.slowMs,
      verifyPem: options.verify ? pem : undefined,
    });
    // Followers, spread evenly over the servers, inserted as a Follow would store them.
    await server.lectern.db.transaction(async (tx) => {
      for (let i = 0; i < options.followers; i++) {
        const port = sinks.ports[i % servers];
        const origin = `http://127.0.0.1:${port}`;
        await tx.run(
          sql`INSERT INTO followers (actor_iri, follow_iri, inbox, shared_inbox, host, handle, status, created_at)
              VALUES (${`${origin}/users/u${i}`}, NULL, ${`${origin}/users/u${i}/inbox`}, ${`${origin}/inbox`},
                      ${`127.0.0.1:${port}`}, NULL, 'accepted', ${Date.now()})`,
        );
      }
    });
    const healthy = new Set(options.behaviours.flatMap((b, i) => (b === "ok" ? [i] : [])));
    const rssBeforeMb = Math.round((process.memoryUsage().rss / 1024 / 1024) * 10) / 10;
    const rss = sampleRss();
    const cpu0 = process.cpuUsage();
    const t0 = Date.now();
    await publishPost(server.lectern.context(), { text: "Benchmark post #bench" });
    const publishMs = Date.now() - t0;
    const deadline = t0 + (options.deadlineMs ?? 120_000);
    const delivered = () =>
      new Set(sinks.arrivals.filter(([i, , s]) => healthy.has(i) && s === 202).map(([i]) => i)).size;
    let lastReport = t0;
    while (delivered() < healthy.size && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
      if (process.env.BENCH_TRACE && Date.now() - lastReport >= 500) {
        lastReport = Date.now();
        const w = server.deliveries as unknown as { stats: object };
        console.log(`t+${Date.now() - t0} ms: ${delivered()} healthy delivered`, JSON.stringify(w.stats));
      }
    }
    const peakRssMb = rss();
    const cpu = process.cpuUsage(cpu0);
    const wall = Date.now() - t0;
    const okArrivals = sinks.arrivals.filter(([i, , s]) => healthy.has(i) && s === 202).map(([, t]) => t);
    const first = Math.min(...okArrivals);
    const last = Math.max(...okArrivals);
    const stats = server.deliveries?.stats ?? { attempts: 0, signatures: 0, delivered: 0, failed: 0 };
    const result: FanoutRun = {
      followers: options.followers,
      servers,
      publishMs,
      firstDeliveryMs: first - t0,
      lastHealthyMs: last - t0,
      healthyDelivered: delivered(),
      healthy: healthy.size,
      deliveriesPerSecond: Math.round((delivered() / Math.max(1, last - t0)) * 1000),
      signaturesPerDelivery: Math.round((stats.signatures / Math.max(1, stats.attempts)) * 100) / 100,
      peakRssMb,
      rssBeforeMb,
      badSignatures: sinks.badSignatures(),
      lecternCpuPercent: Math.round(((cpu.user + cpu.system) / 1000 / wall) * 100),
    };
    await sinks.stop();
    // Blackholed requests would hold the shutdown until their timeout: leave them.
    void server.close();
    await new Promise((r) => setTimeout(r, 100));
    return result;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
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
