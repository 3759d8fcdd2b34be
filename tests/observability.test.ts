import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase } from "../src/storage/open.ts";
import { sql } from "../src/storage/sql.ts";
import { runCli } from "./helpers/cli.ts";
import { freePort, tempDir, testEnv, waitFor } from "./helpers/lectern.ts";
import { followFromSinks, type Sink, startSink } from "./helpers/sink.ts";
import { type StartedLectern, startLecternProcess } from "./helpers/started.ts";

const TOKEN = "metrics-token-0123456789";
const SERVERS = 40;

/** A Prometheus text exposition, as name{labels} → value. */
function parseMetrics(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const m = /^(\S+?(?:\{.*\})?) (\S+)$/.exec(line);
    if (m !== null) out.set(m[1], Number(m[2]));
  }
  return out;
}

/** The sum of every series of `name` whose labels include all of `labels`. */
function sum(metrics: Map<string, number>, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  for (const [key, value] of metrics) {
    if (key !== name && !key.startsWith(`${name}{`)) continue;
    if (Object.entries(labels).every(([k, v]) => key.includes(`${k}="${v}"`))) total += value;
  }
  return total;
}

/** An OTLP/HTTP collector on loopback: the spans it was sent, as JSON. */
async function startCollector(): Promise<{ url: string; spans: Record<string, unknown>[]; close(): void }> {
  const spans: Record<string, unknown>[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      if (req.url === "/v1/traces") {
        const body = JSON.parse(Buffer.concat(chunks).toString()) as {
          resourceSpans: { resource: unknown; scopeSpans: { spans: Record<string, unknown>[] }[] }[];
        };
        for (const rs of body.resourceSpans)
          for (const ss of rs.scopeSpans) for (const s of ss.spans) spans.push({ ...s, resource: rs.resource });
      }
      res.writeHead(200, { "Content-Type": "application/json" }).end("{}");
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    spans,
    close: () => server.close(),
  };
}

describe("a started server's metrics, traces and logs", () => {
  let tmp: ReturnType<typeof tempDir>;
  let sinks: Sink[];
  let lectern: StartedLectern;
  let env: Record<string, string>;
  let metricsUrl: string;
  let collector: Awaited<ReturnType<typeof startCollector>>;
  const scrape = async () => {
    const res = await fetch(metricsUrl, { headers: { Authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(200);
    return parseMetrics(await res.text());
  };

  beforeAll(async () => {
    tmp = tempDir();
    collector = await startCollector();
    const port = await freePort();
    const metricsPort = await freePort();
    metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
    env = {
      ...testEnv(tmp.dir, port),
      LECTERN_WEB_PROCESSES: "1",
      LECTERN_DELIVERY_WORKERS: "1",
      LECTERN_DELIVERY_CONCURRENCY: "4",
      LECTERN_DELIVERY_PER_SERVER: "1",
      LECTERN_METRICS_LISTEN: `127.0.0.1:${metricsPort}`,
      LECTERN_METRICS_TOKEN: TOKEN,
      LECTERN_LOG_FORMAT: "json",
      LECTERN_LOG_LEVEL: "info",
      OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
      OTEL_BSP_SCHEDULE_DELAY: "200",
      OTEL_SERVICE_NAME: "lectern-under-test",
    };
    // Follower servers slow enough that the fan-out takes a few seconds, to be watched.
    sinks = await Promise.all(Array.from({ length: SERVERS }, () => startSink({ delayMs: 250 })));
    const db = await openDatabase({ databaseUrl: null, databasePath: `${tmp.dir}/lectern.sqlite` });
    await followFromSinks(db, sinks);
    await db.close();
    lectern = await startLecternProcess(env);
  }, 60_000);
  afterAll(async () => {
    await lectern?.stop();
    await Promise.all((sinks ?? []).map((s) => s.close()));
    collector?.close();
    tmp?.remove();
  });

  it("serves /metrics on its own listener, only with the token", async () => {
    await waitFor(() => lectern.output().includes(`Metrics at ${metricsUrl}`), 10_000, "the metrics line");
    expect((await fetch(metricsUrl)).status).toBe(401);
    const wrong = await fetch(metricsUrl, { headers: { Authorization: `Bearer ${TOKEN}x` } });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get("www-authenticate")).toBe('Bearer realm="metrics"');
    expect((await fetch(metricsUrl.replace("/metrics", "/other"))).status).toBe(404);
    // Health on the metrics listener too (a worker process has no other HTTP), without the token.
    const ready = await fetch(metricsUrl.replace("/metrics", "/readyz"));
    expect([ready.status, await ready.text(), ready.headers.get("cache-control")]).toEqual([200, "ready", "no-store"]);
    expect((await fetch(metricsUrl.replace("/metrics", "/livez"))).status).toBe(200);
    // Nothing of the metrics on the public port.
    expect((await fetch(new URL("/metrics", env.LECTERN_ORIGIN))).status).toBe(404);
    const m = await scrape();
    expect(sum(m, "lectern_process_rss")).toBeGreaterThan(10_000_000);
    expect(m.has('lectern_event_loop_delay{quantile="p99"}')).toBe(true);
  });

  it("shows the backlog rising and falling during a fan-out, and delivery counts matching the rows", async () => {
    const published = await runCli(["post", "--text", "Counted as it goes"], env);
    expect(published.code, published.stderr).toBe(0);
    let highest = 0;
    let delivered = 0;
    let last = new Map<string, number>();
    await waitFor(
      async () => {
        last = await scrape();
        highest = Math.max(highest, sum(last, "lectern_deliveries_pending", { state: "due" }));
        delivered = sum(last, "lectern_deliveries_total", { channel: "fediverse", outcome: "delivered" });
        return delivered === SERVERS;
      },
      45_000,
      "every delivery counted",
    );
    expect(highest).toBeGreaterThan(SERVERS / 4);
    expect(sinks.every((s) => s.requests.length === 1)).toBe(true);
    await waitFor(
      async () => {
        last = await scrape();
        return sum(last, "lectern_deliveries_pending") === 0;
      },
      10_000,
      "the backlog to drain",
    );
    // What the rows say: everything queued for the Create is delivered (a success deletes its row).
    const db = await openDatabase({ databaseUrl: null, databasePath: `${tmp.dir}/lectern.sqlite` });
    try {
      const row = await db.get<{ queued: number; left: number }>(
        sql`SELECT o.queued, (SELECT count(*) FROM deliveries d WHERE d.outgoing_id = o.id) AS "left"
            FROM outgoing o WHERE o.kind = 'Create'`,
      );
      expect(Number(row?.queued) - Number(row?.left)).toBe(delivered);
    } finally {
      await db.close();
    }
    // Each success's time since publication, and each request's time.
    expect(sum(last, "lectern_publish_delivery_delay_count", { channel: "fediverse" })).toBe(SERVERS);
    expect(sum(last, "lectern_delivery_duration_count", { channel: "fediverse" })).toBe(SERVERS);
    expect(sum(last, "lectern_delivery_duration_sum")).toBeGreaterThan(SERVERS * 0.2);
    expect(sum(last, "lectern_servers", { state: "paused" })).toBe(0);
  }, 90_000);

  it("counts HTTP requests by route, and Fedify's own metrics", async () => {
    const acct = `acct:desk@${new URL(env.LECTERN_ORIGIN).host}`;
    for (let i = 0; i < 3; i++)
      expect(
        (await fetch(new URL(`/.well-known/webfinger?resource=${encodeURIComponent(acct)}`, env.LECTERN_ORIGIN)))
          .status,
      ).toBe(200);
    await fetch(new URL("/no/such/page/12345", env.LECTERN_ORIGIN));
    const m = await scrape();
    expect(
      sum(m, "lectern_http_server_duration_count", {
        http_route: "/.well-known/webfinger",
        http_response_status_code: "200",
      }),
    ).toBeGreaterThanOrEqual(3);
    // A scanner's paths do not become series.
    expect([...m.keys()].some((k) => k.includes("no/such"))).toBe(false);
    expect(sum(m, "lectern_http_server_duration_count", { http_route: "(unmatched)" })).toBeGreaterThanOrEqual(1);
    expect([...m.keys()].some((k) => k.startsWith("webfinger_handle"))).toBe(true);
  });

  it("logs one JSON line per request with its request id, and no query string", async () => {
    const res = await fetch(new URL("/email/confirm?token=secret-looking-token", env.LECTERN_ORIGIN), {
      headers: { "X-Request-Id": "client-chosen-id-123" },
    });
    const id = res.headers.get("x-request-id") ?? "";
    // Not from a trusted proxy: the client's id is not taken.
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    await waitFor(() => lectern.output().includes(id), 5_000, "the access line");
    const line = lectern
      .output()
      .split("\n")
      .find((l) => l.includes(id) && l.includes("/email/confirm")) as string;
    const record = JSON.parse(line) as { level: string; logger: string; properties: Record<string, unknown> };
    expect(record.logger).toBe("lectern.http.access");
    expect(record.properties).toMatchObject({ method: "GET", path: "/email/confirm", requestId: id });
    expect(lectern.output()).not.toContain("secret-looking-token");
    // Health checks stay out of the access log.
    await fetch(new URL("/readyz", env.LECTERN_ORIGIN));
    await new Promise((r) => setTimeout(r, 300));
    expect(lectern.output()).not.toMatch(/"path":"\/readyz"/);
  });

  it("sends traces through OTLP: one post's fan-out is one trace, its id in the activity's row", async () => {
    await waitFor(
      () => collector.spans.filter((s) => String(s.name).startsWith("deliver Create")).length >= SERVERS,
      15_000,
      "the delivery spans",
    );
    const publish = collector.spans.find((s) => s.name === "lectern.publish") as { traceId: string; spanId: string };
    expect(publish).toBeDefined();
    const deliveries = collector.spans.filter((s) => String(s.name).startsWith("deliver Create"));
    expect(deliveries.every((s) => s.traceId === publish.traceId)).toBe(true);
    const db = await openDatabase({ databaseUrl: null, databasePath: `${tmp.dir}/lectern.sqlite` });
    try {
      const stored = await db.get<{ t: string }>(sql`SELECT trace_parent AS t FROM outgoing WHERE kind = 'Create'`);
      expect(stored?.t).toBe(`00-${publish.traceId}-${publish.spanId}-01`);
    } finally {
      await db.close();
    }
    expect(collector.spans.some((s) => String(s.name).startsWith("GET /.well-known/webfinger"))).toBe(true);
    expect(JSON.stringify(collector.spans[0].resource)).toContain("lectern-under-test");
  });
});
