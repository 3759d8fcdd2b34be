import { timingSafeEqual } from "node:crypto";
import { createServer, type Server } from "node:http";
import { metrics, trace } from "@opentelemetry/api";
import { PrometheusExporter } from "@opentelemetry/exporter-prometheus";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { defaultResource, resourceFromAttributes } from "@opentelemetry/resources";
import { MeterProvider } from "@opentelemetry/sdk-metrics";
import { BatchSpanProcessor, ConsoleSpanExporter, NodeTracerProvider } from "@opentelemetry/sdk-trace-node";
import type { Config } from "../shared/config.ts";
import { resetInstruments, telemetryState } from "../shared/metrics.ts";
import { LECTERN_VERSION } from "../shared/version.ts";

/*
 * OpenTelemetry for one process: Prometheus metrics on their own listener
 * (`metrics.listen`, off by default, `metrics.token` as a Bearer), and traces
 * when the standard OTEL_* environment asks for them (OTLP over HTTP, or the
 * console). Both are set as OpenTelemetry's global providers, so Fedify's
 * instruments and Lectern's (shared/metrics.ts) report to them.
 */

export interface Telemetry {
  /** Where `/metrics` is served (null: metrics are off). */
  readonly metricsUrl: URL | null;
  readonly meterProvider: MeterProvider | null;
  readonly tracing: boolean;
  /** Serves `/livez` and `/readyz` on the metrics listener too (a worker has no other HTTP). */
  serveHealth(ready: () => Promise<{ status: number; text: string }>): void;
  close(): Promise<void>;
}

/** Whether the environment asks for traces (OTEL_TRACES_EXPORTER, or an OTLP endpoint), and where to. */
export function tracesExporter(env: NodeJS.ProcessEnv): "otlp" | "console" | null {
  if (/^true$/i.test(env.OTEL_SDK_DISABLED ?? "")) return null;
  const named = (env.OTEL_TRACES_EXPORTER ?? "").split(",").map((s) => s.trim());
  if (named.includes("none")) return null;
  if (named.includes("console")) return "console";
  if (named.includes("otlp")) return "otlp";
  return env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || env.OTEL_EXPORTER_OTLP_ENDPOINT ? "otlp" : null;
}

/** Sets the process's meter and tracer providers and starts the metrics listener; call before the server starts. */
export async function startTelemetry(config: Config, env: NodeJS.ProcessEnv = process.env): Promise<Telemetry> {
  const resource = defaultResource().merge(
    resourceFromAttributes({
      "service.name": env.OTEL_SERVICE_NAME || "lectern",
      "service.version": LECTERN_VERSION,
      "lectern.role": config.role,
    }),
  );
  let health: (() => Promise<{ status: number; text: string }>) | null = null;
  let meterProvider: MeterProvider | null = null;
  let listener: Server | null = null;
  let metricsUrl: URL | null = null;
  if (config.metrics !== null) {
    const exporter = new PrometheusExporter({ preventServerStart: true, withoutScopeInfo: true });
    meterProvider = new MeterProvider({ resource, readers: [exporter] });
    metrics.setGlobalMeterProvider(meterProvider);
    resetInstruments();
    telemetryState.metrics = true;
    const token = config.metrics.token === null ? null : Buffer.from(`Bearer ${config.metrics.token}`);
    const server = createServer((req, res) => {
      if (req.method !== "GET" && req.method !== "HEAD") {
        res.writeHead(405, { Allow: "GET, HEAD", "Content-Type": "text/plain" }).end("Method not allowed\n");
        return;
      }
      const pathname = new URL(req.url ?? "/", "http://metrics").pathname;
      if (pathname === "/livez" || pathname === "/readyz") {
        const answer =
          pathname === "/livez" || health === null ? Promise.resolve({ status: 200, text: "ok" }) : health();
        void answer.then(
          ({ status, text }) =>
            res.writeHead(status, { "Content-Type": "text/plain", "Cache-Control": "no-store" }).end(text),
          () => res.writeHead(503, { "Content-Type": "text/plain" }).end("not ready"),
        );
        return;
      }
      if (pathname !== "/metrics") {
        res.writeHead(404, { "Content-Type": "text/plain" }).end("Not found: metrics are at /metrics\n");
        return;
      }
      const given = Buffer.from(req.headers.authorization ?? "");
      if (token !== null && (given.length !== token.length || !timingSafeEqual(given, token))) {
        res
          .writeHead(401, { "WWW-Authenticate": 'Bearer realm="metrics"', "Content-Type": "text/plain" })
          .end("This endpoint needs Authorization: Bearer <metrics.token>\n");
        return;
      }
      exporter.getMetricsRequestHandler(req, res);
    });
    const { host, port } = config.metrics.listen;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen({ host, port }, () => resolve());
    });
    server.unref();
    listener = server;
    const bound = server.address();
    const shownHost = host.includes(":") ? `[${host}]` : host;
    metricsUrl = new URL(`http://${shownHost}:${typeof bound === "object" && bound ? bound.port : port}/metrics`);
  }
  const which = tracesExporter(env);
  let tracerProvider: NodeTracerProvider | null = null;
  if (which !== null) {
    // The OTLP exporter reads its endpoint, headers and timeout from OTEL_EXPORTER_OTLP_*; the sampler is
    // OTEL_TRACES_SAMPLER's (parent-based, always on, by default).
    const exporter = which === "otlp" ? new OTLPTraceExporter() : new ConsoleSpanExporter();
    tracerProvider = new NodeTracerProvider({ resource, spanProcessors: [new BatchSpanProcessor(exporter)] });
    tracerProvider.register();
    telemetryState.tracing = true;
  }
  return {
    metricsUrl,
    meterProvider,
    tracing: tracerProvider !== null,
    serveHealth(ready) {
      health = ready;
    },
    async close() {
      listener?.close();
      listener?.closeAllConnections();
      await Promise.allSettled([meterProvider?.shutdown(), tracerProvider?.shutdown()]);
      if (meterProvider !== null) metrics.disable();
      if (tracerProvider !== null) trace.disable();
      Object.assign(telemetryState, { metrics: false, tracing: false });
      resetInstruments();
    },
  };
}
