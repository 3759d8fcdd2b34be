import { SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { contextFrom, instruments, telemetryState } from "../shared/metrics.ts";
import { LECTERN_VERSION } from "../shared/version.ts";
import type { Claimed } from "./rows.ts";
import type { Answer } from "./send.ts";

/**
 * What one fediverse delivery tells the metrics (its outcome, its request's
 * time, and for a post's Create the time since publication) and, traces on,
 * a client span under the activity's stored trace: one post's fan-out is one
 * trace across every worker.
 */
export function observeDelivery(row: Claimed, answer: Answer, outcome: string, now: number): void {
  const m = instruments();
  m.deliveries.add(1, { channel: "fediverse", outcome });
  if (answer.seconds > 0) m.deliveryDuration.record(answer.seconds, { channel: "fediverse" });
  const activity = answer.activity;
  if (outcome === "delivered" && activity?.kind === "Create")
    m.publishDelay.record(Math.max(0, (now - activity.createdAt) / 1000), { channel: "fediverse" });
  if (!telemetryState.tracing || activity === undefined) return;
  const tracer = trace.getTracer("lectern", LECTERN_VERSION);
  const end = Date.now();
  const span = tracer.startSpan(
    `deliver ${activity.kind}`,
    {
      kind: SpanKind.CLIENT,
      startTime: end - answer.seconds * 1000,
      attributes: {
        "server.address": row.host,
        "lectern.delivery.outcome": outcome,
        "lectern.delivery.attempt": row.attempts + 1,
        ...(answer.status === null ? {} : { "http.response.status_code": answer.status }),
      },
    },
    contextFrom(activity.traceParent),
  );
  if (outcome !== "delivered") span.setStatus({ code: SpanStatusCode.ERROR, message: answer.error ?? undefined });
  span.end(end);
}
