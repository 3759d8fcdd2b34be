import {
  type Context,
  type Counter,
  context,
  defaultTextMapGetter,
  defaultTextMapSetter,
  type Histogram,
  metrics,
} from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { LECTERN_VERSION } from "./version.ts";

/*
 * The measurements Lectern's own code makes (README: Metrics lists each).
 * Without `metrics.listen` no meter provider is set and every instrument is
 * OpenTelemetry's no-op: counting costs a function call. The instruments are
 * made on first use, after start-up has set the provider (start/telemetry.ts).
 */

export type Channel = "fediverse" | "email" | "push";

export interface Instruments {
  /** HTTP requests answered, by route template, method and status class, with their duration. */
  readonly httpDuration: Histogram;
  /** Deliveries finished, by channel and outcome. */
  readonly deliveries: Counter;
  /** How long each delivery request took, by channel. */
  readonly deliveryDuration: Histogram;
  /** From a post's publication to each successful delivery of it, by channel. */
  readonly publishDelay: Histogram;
  /** Cache purges sent to the shared cache, by outcome. */
  readonly purges: Counter;
  /** Sign-ins refused, by reason (password, second factor, throttled). */
  readonly signInFailures: Counter;
}

/** What start-up turned on in this process (start/telemetry.ts). */
export const telemetryState = { metrics: false, tracing: false };

let made: Instruments | undefined;

/** Lectern's instruments, from the meter provider set at start (or no-ops). */
export function instruments(): Instruments {
  if (made !== undefined) return made;
  const meter = metrics.getMeter("lectern", LECTERN_VERSION);
  const seconds = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
  made = {
    httpDuration: meter.createHistogram("lectern.http.server.duration", {
      description: "HTTP requests answered, by route, method and status",
      unit: "s",
      advice: { explicitBucketBoundaries: seconds },
    }),
    deliveries: meter.createCounter("lectern.deliveries", {
      description: "Deliveries finished, by channel (fediverse, email, push) and outcome",
    }),
    deliveryDuration: meter.createHistogram("lectern.delivery.duration", {
      description: "Time of one delivery request, by channel",
      unit: "s",
      advice: { explicitBucketBoundaries: seconds },
    }),
    publishDelay: meter.createHistogram("lectern.publish.delivery_delay", {
      description: "From a post's publication to each successful delivery of it, by channel",
      unit: "s",
      advice: { explicitBucketBoundaries: [0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800, 3600] },
    }),
    purges: meter.createCounter("lectern.cache.purges", { description: "Shared-cache purges sent, by outcome" }),
    signInFailures: meter.createCounter("lectern.sign_in.failures", {
      description: "Sign-ins refused, by reason (password, second_factor, throttled)",
    }),
  };
  return made;
}

/** Forgets the instruments (after the meter provider changed). */
export function resetInstruments(): void {
  made = undefined;
}

/** W3C Trace Context, written and read by OpenTelemetry's own propagator. */
const propagator = new W3CTraceContextPropagator();

/** The active span as a W3C traceparent, to store beside what is handed to another process; null without one. */
export function activeTraceParent(): string | null {
  if (!telemetryState.tracing) return null;
  const carrier: { traceparent?: string } = {};
  propagator.inject(context.active(), carrier, defaultTextMapSetter);
  return carrier.traceparent ?? null;
}

/** A context whose parent is a stored traceparent (or the active one when there is none, or it is malformed). */
export function contextFrom(traceParent: string | null | undefined): Context {
  if (!traceParent) return context.active();
  return propagator.extract(context.active(), { traceparent: traceParent }, defaultTextMapGetter);
}
