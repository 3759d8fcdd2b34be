import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { getLogger } from "@logtape/logtape";
import { sweepEmptyTargets } from "../delivery/fanout.ts";
import { warmUp } from "../delivery/outbox.ts";
import { pruneDeliveries } from "../delivery/progress.ts";
import { publishNewPosts } from "../delivery/published.ts";
import { PurgeSender } from "../delivery/purges.ts";
import { recordSample } from "../delivery/samples.ts";
import { DeliveryWorker } from "../delivery/worker.ts";
import { type Lectern, openLectern } from "../lectern.ts";
import { ensureOwner } from "../product/access/staff.ts";
import { removeGoneFollowers } from "../product/gone.ts";
import { reviewRules } from "../product/interaction-rules.ts";
import { sweepUnusedMedia } from "../product/media.ts";
import type { Channel } from "../product/outbox.ts";
import { startScheduler } from "../product/schedule.ts";
import { deleteUnconfirmed } from "../readers/subscribers.ts";
import { ReaderWorker } from "../readers/worker.ts";
import type { Config } from "../shared/config.ts";
import { type Periodic, periodic } from "../storage/periodic.ts";
import { PostgresDatabase } from "../storage/postgres.ts";
import { createWeb, type Web } from "../web/app.ts";
import { sweepUploads } from "../web/uploads.ts";
import { observeProcess } from "./gauges.ts";

const logger = getLogger(["lectern", "server"]);
const SWEEP_EVERY_MS = 6 * 3600_000;

export interface RunningServer {
  readonly lectern: Lectern;
  /** The delivery worker of this process (absent in the `web` role). */
  readonly deliveries?: DeliveryWorker;
  /** Where it listens (not necessarily the public origin); absent in the `worker` role. */
  readonly url: URL;
  /** Set when this start made up the author's first password (print it once). */
  readonly initialPassword?: string;
  /** Stops accepting requests, lets in-flight work finish, closes the database. */
  close(): Promise<void>;
}

export interface ServerOptions {
  /** The clock for scheduled posts and sessions; tests move it forward. */
  now?: () => number;
  /** How often scheduled posts are looked for, in milliseconds. */
  schedulerIntervalMs?: number;
  /** How often followers behind inboxes answering 404/410 are checked for being gone, in milliseconds. */
  goneCheckIntervalMs?: number;
  /** Ways out besides the fediverse (see product/outbox.ts). */
  channels?: Channel[];
}

/**
 * Starts what this process's role asks for: `web` serves HTTP (pages,
 * ActivityPub, inbox, the desk) and never sends; `worker` delivers, runs
 * Fedify's queue (inbox work), the scheduler and the sweeps; `all` does both.
 * Any number of each can share one database.
 */
export async function startServer(config: Config, options: ServerOptions = {}): Promise<RunningServer> {
  const lectern = await openLectern(config, { channels: options.channels });
  const db = lectern.db;
  const unobserve =
    config.metrics === null ? () => {} : observeProcess(db, () => (db instanceof PostgresDatabase ? db.pool() : null));
  const serving = config.role !== "worker";
  const working = config.role !== "web";
  const initialPassword = serving ? await ensureOwner(lectern.db) : undefined;

  // Uploads cut off by a crash leave their temporary files: a dead process's are nobody's, and so
  // is anything older than an hour. Checked at start and every ten minutes.
  const uploads = path.join(config.dataDir, "tmp");
  let uploadSweeper: Periodic | undefined;
  if (serving) {
    await sweepUploads(uploads, 3600_000);
    uploadSweeper = periodic({
      name: "Sweeping uploads",
      everyMs: 10 * 60_000,
      runAtStart: false,
      run: () => sweepUploads(uploads, 3600_000),
    });
  }
  let server: Server | undefined;
  let web: Web | undefined;
  let url = new URL("http://localhost/");
  if (serving) {
    const w = createWeb(lectern, { now: options.now });
    web = w;
    server = await new Promise<Server>((resolve, reject) => {
      const s = createServer(w.listener);
      s.once("error", reject);
      // Several processes serving one port (web.processes): the kernel spreads connections among them.
      s.listen({ port: config.port, host: config.host, reusePort: config.webProcesses > 1 }, () => resolve(s));
    }).catch(async (error) => {
      w.close();
      await lectern.close();
      throw error;
    });
    const address = server.address() as AddressInfo;
    const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
    url = new URL(`http://${host}:${address.port}`);
  }

  let stopWork = async () => {};
  let deliveries: DeliveryWorker | undefined;
  if (working) {
    // Readers' email and push go out beside the deliveries, in the same partitions (a partition with
    // either in flight is not given up).
    let readerWorker: ReaderWorker | undefined;
    const worker = new DeliveryWorker(lectern.data, {
      now: options.now,
      publishPosts: () => publishNewPosts(lectern.context()),
      busy: (p) => readerWorker?.busy(p) ?? false,
    });
    readerWorker = new ReaderWorker(lectern.data, { partitions: () => worker.leases.current(), now: options.now });
    const readers = readerWorker;
    deliveries = worker;
    await warmUp(lectern.context()).catch((error) => logger.warning("Warm-up failed: {error}", { error }));
    // Likes or featuring narrowed since the last start: what no longer holds is revoked, its holders told.
    await reviewRules(lectern.data).catch((error) => logger.warning("Reviewing the rules failed: {error}", { error }));
    await worker.start();
    await readers.start();
    const purges = new PurgeSender(lectern.db, config, worker.workerId, { now: options.now });
    await purges.start();
    const stopQueue = new AbortController();
    const queueDone = lectern.federation.startQueue(lectern.data, { signal: stopQueue.signal });
    const scheduler = startScheduler(() => lectern.context(), {
      now: options.now,
      intervalMs: options.schedulerIntervalMs,
    });
    // Uploads never used by a post (an abandoned draft), pictures replaced in the profile,
    // expired key-value entries (answered replies, counted boosts, caches), deliveries that
    // failed for good more than 30 days ago (folded into per-activity counts), delivery targets
    // no follower is behind any more. One worker does it.
    const sweeper = periodic({
      name: "sweep",
      everyMs: SWEEP_EVERY_MS,
      // Held a little less than the interval: the next sweep may fall to another worker.
      lease: { db: lectern.db, owner: worker.workerId, ttlMs: SWEEP_EVERY_MS - 60_000 },
      failure: "error",
      run: async () => {
        await lectern.kv.purgeExpired();
        await pruneDeliveries(lectern.db);
        await sweepEmptyTargets(lectern.db);
        await sweepUnusedMedia(lectern.data);
        await deleteUnconfirmed(lectern.db, Date.now());
      },
    });
    // The Server page's minute samples: one worker writes each.
    const sampler = periodic({
      name: "samples",
      everyMs: 60_000,
      lease: { db: lectern.db, owner: worker.workerId, ttlMs: 55_000 },
      run: () => recordSample(lectern.db),
    });
    const goneEvery = options.goneCheckIntervalMs ?? 5 * 60_000;
    const goneChecker = periodic({
      name: "gone-check",
      everyMs: goneEvery,
      runAtStart: false,
      lease: { db: lectern.db, owner: worker.workerId },
      run: () => removeGoneFollowers(lectern.data),
    });
    stopWork = async () => {
      await Promise.all([sweeper.stop(), goneChecker.stop(), sampler.stop()]);
      await scheduler.stop();
      stopQueue.abort();
      await readers.stop();
      await Promise.all([queueDone, worker.stop(), purges.stop()]);
    };
  }

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      if (server !== undefined) {
        const s = server;
        await new Promise<void>((resolve) => {
          s.close(() => resolve());
          // Keep-alive connections would hold close() open.
          s.closeAllConnections();
        });
      }
      web?.close();
      await uploadSweeper?.stop();
      await stopWork();
      unobserve();
      await lectern.close();
      logger.info("Stopped");
    })();
    return closing;
  };
  return { lectern, deliveries, url, initialPassword, close };
}
