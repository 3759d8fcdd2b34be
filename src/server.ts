import type { AddressInfo } from "node:net";
import { type ServerType, serve } from "@hono/node-server";
import { getLogger } from "@logtape/logtape";
import type { Config } from "./config.ts";
import { pruneDeliveries } from "./delivery/progress.ts";
import { DeliveryWorker } from "./delivery/worker.ts";
import { type Lectern, openLectern } from "./lectern.ts";
import { ensurePassword } from "./product/auth.ts";
import { sweepUnusedMedia } from "./product/media.ts";
import { queueNewPosts } from "./product/publish.ts";
import { startScheduler } from "./product/schedule.ts";
import { createApp } from "./web/app.ts";

const logger = getLogger(["lectern", "server"]);

export interface RunningServer {
  readonly lectern: Lectern;
  readonly deliveries: DeliveryWorker;
  /** Where it listens (not necessarily the public origin). */
  readonly url: URL;
  /** Set when this start made up the author's first password (print it once). */
  readonly initialPassword?: string;
  /** Stops accepting requests, lets in-flight queue work finish, closes the database. */
  close(): Promise<void>;
}

export interface ServerOptions {
  /** The clock for scheduled posts and sessions; tests move it forward. */
  now?: () => number;
  /** How often scheduled posts are looked for, in milliseconds. */
  schedulerIntervalMs?: number;
}

/** Starts the HTTP server, the delivery queue worker and the scheduler. */
export async function startServer(config: Config, options: ServerOptions = {}): Promise<RunningServer> {
  const lectern = await openLectern(config);
  const initialPassword = await ensurePassword(lectern.db);
  const app = createApp(lectern, { now: options.now });
  const server: ServerType = await new Promise((resolve, reject) => {
    const s = serve({ fetch: app.fetch, port: config.port, hostname: config.host }, () => resolve(s));
    s.once("error", reject);
  });
  const address = server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  const url = new URL(`http://${host}:${address.port}`);

  const deliveries = new DeliveryWorker(lectern.data, lectern.context().getActorUri(config.handle), {
    now: options.now,
    queuePosts: () => queueNewPosts(lectern.context()),
  });
  deliveries.start();
  const stopQueue = new AbortController();
  const queueDone = lectern.federation.startQueue(lectern.data, { signal: stopQueue.signal });
  const scheduler = startScheduler(() => lectern.context(), {
    now: options.now,
    intervalMs: options.schedulerIntervalMs,
  });
  // Uploads never used by a post (an abandoned draft), pictures replaced in the profile,
  // expired key-value entries (answered replies, counted boosts, caches), and deliveries
  // finished more than 30 days ago (folded into per-activity counts).
  const sweep = () => {
    lectern.kv.purgeExpired();
    pruneDeliveries(lectern.db);
    void sweepUnusedMedia(lectern.data).catch((error) =>
      logger.error("Sweeping unused media failed: {error}", { error }),
    );
  };
  sweep();
  const sweeper = setInterval(sweep, 6 * 3600_000);
  sweeper.unref();

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Keep-alive connections would hold close() open.
        if ("closeAllConnections" in server) server.closeAllConnections();
      });
      clearInterval(sweeper);
      await scheduler.stop();
      stopQueue.abort();
      await Promise.all([queueDone, deliveries.stop()]);
      lectern.close();
      logger.info("Stopped");
    })();
    return closing;
  };
  return { lectern, deliveries, url, initialPassword, close };
}
