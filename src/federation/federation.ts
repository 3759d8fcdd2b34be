import type { Federation, KvStore, MessageQueue } from "@fedify/fedify";
import { metrics, trace } from "@opentelemetry/api";
import type { AppData } from "../product/context.ts";
import type { Config } from "../shared/config.ts";
import { LECTERN_VERSION } from "../shared/version.ts";
import { builder } from "./builder.ts";
import { guardedLoaders } from "./loader.ts";
import "./actor.ts";
import "./collections.ts";
import "./inbox.ts";
import "./nodeinfo.ts";
import "./note.ts";
import "./stamps.ts";

export type LecternFederation = Federation<AppData>;

/** Builds the federation for one Lectern instance: its store, its queue, its settings. */
export async function createLecternFederation(
  config: Config,
  kv: KvStore,
  queue: MessageQueue,
): Promise<LecternFederation> {
  return await builder.build({
    kv,
    queue,
    // The server starts the queue; the CLI only enqueues for it.
    manuallyStartQueue: true,
    // The providers start-up set (start/telemetry.ts), or OpenTelemetry's no-ops.
    meterProvider: metrics.getMeterProvider(),
    tracerProvider: trace.getTracerProvider(),
    origin: config.origin.origin,
    // Outside tests, every fetch Fedify makes goes through Lectern's guarded client (loader.ts); Fedify
    // accepts custom loaders only without its own allowPrivateAddress and userAgent options.
    ...(config.allowPrivateAddress
      ? { allowPrivateAddress: true, userAgent: { software: `Lectern/${LECTERN_VERSION}`, url: config.origin } }
      : guardedLoaders(config, kv)),
    // Nothing is sent through Fedify's outbox (delivery/ signs and sends every activity), so its outbox
    // settings (first knock, retry policy) are left out.
  });
}
