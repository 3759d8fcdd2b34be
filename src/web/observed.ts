import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { isIP } from "node:net";
import { getLogger, withContext } from "@logtape/logtape";
import { context, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import type { Config } from "../shared/config.ts";
import { instruments, telemetryState } from "../shared/metrics.ts";
import { LECTERN_VERSION } from "../shared/version.ts";

const accessLog = getLogger(["lectern", "http", "access"]);

type Listener = (req: IncomingMessage, res: ServerResponse) => void;

/** Health checks are asked every few seconds by every balancer: not in the access log. */
const QUIET = new Set(["/livez", "/readyz", "/health"]);

/**
 * A route template for a path, for metrics and traces: ids, handles and file
 * names become placeholders, and anything answered 404 is `(unmatched)`, so
 * a scanner's made-up paths cannot multiply the series.
 */
export function routeLabel(path: string, status: number): string {
  if (status === 404) return "(unmatched)";
  const parts = path.split("/").slice(1, 6);
  const shown = parts.map((p) => {
    if (p.startsWith("@")) return ":handle";
    if (/^\d+$/.test(p) || (p.length >= 12 && /\d/.test(p)) || p.length > 40) return ":id";
    return p;
  });
  return `/${shown.join("/")}`;
}

/** The request id a trusted proxy set (nginx's $request_id, a load balancer's), or a new one. */
function requestId(req: IncomingMessage, config: Config): string {
  const given = req.headers["x-request-id"];
  const peer = req.socket.remoteAddress ?? "";
  const trusted =
    config.trustedProxies !== null &&
    isIP(peer) !== 0 &&
    config.trustedProxies.check(peer, isIP(peer) === 6 ? "ipv6" : "ipv4");
  return trusted && typeof given === "string" && /^[A-Za-z0-9._:-]{8,128}$/.test(given) ? given : randomUUID();
}

/**
 * Every HTTP request, answered from the cache or by the app: an
 * `X-Request-Id` on the answer (also in every log line written while it is
 * handled), one access-log line at info (method, path without its query —
 * tokens travel there —, status, milliseconds), its duration in
 * `lectern.http.server.duration`, and a server span when traces are on.
 */
export function observedListener(listener: Listener, config: Config): Listener {
  const tracer = trace.getTracer("lectern", LECTERN_VERSION);
  return (req, res) => {
    const id = requestId(req, config);
    res.setHeader("X-Request-Id", id);
    const logged = config.logRequests && accessLog.isEnabledFor("info");
    // Nothing to measure, trace or log (the default without metrics, or logs at warning): just the id.
    if (!logged && !telemetryState.metrics && !telemetryState.tracing) {
      withContext({ requestId: id }, () => listener(req, res));
      return;
    }
    const started = performance.now();
    const method = req.method ?? "GET";
    const path = (req.url ?? "/").split("?")[0];
    const span = telemetryState.tracing
      ? tracer.startSpan(`${method}`, {
          kind: SpanKind.SERVER,
          attributes: { "http.request.method": method, "url.path": path, "lectern.request_id": id },
        })
      : undefined;
    res.once("close", () => {
      const status = res.statusCode;
      const seconds = (performance.now() - started) / 1000;
      if (telemetryState.metrics || span !== undefined) {
        const route = routeLabel(path, status);
        if (telemetryState.metrics)
          instruments().httpDuration.record(seconds, {
            "http.route": route,
            "http.request.method": method,
            "http.response.status_code": status,
          });
        if (span !== undefined) {
          span.updateName(`${method} ${route}`);
          span.setAttributes({ "http.route": route, "http.response.status_code": status });
          if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
          span.end();
        }
      }
      if (logged && !QUIET.has(path))
        withContext({ requestId: id }, () =>
          accessLog.info("{method} {path} {status} {ms} ms", {
            method,
            path: path.slice(0, 300),
            status,
            ms: Math.round(seconds * 10_000) / 10,
          }),
        );
    });
    const run = () => withContext({ requestId: id }, () => listener(req, res));
    if (span === undefined) run();
    else context.with(trace.setSpan(context.active(), span), run);
  };
}
