import { monitorEventLoopDelay } from "node:perf_hooks";
import { getLogger } from "@logtape/logtape";
import { type BatchObservableResult, metrics, type Observable } from "@opentelemetry/api";
import { withDeadline } from "../delivery/deadline.ts";
import { PARTITIONS } from "../delivery/partitions.ts";
import { readersDue } from "../readers/fanout.ts";
import { LECTERN_VERSION } from "../shared/version.ts";
import type { Database } from "../storage/database.ts";
import { sql } from "../storage/sql.ts";

const logger = getLogger(["lectern", "metrics"]);
const RESOLUTION_MS = 10;

/** What the database says at a scrape: the same in every process of a deployment (take the max). */
interface Backlog {
  pending: { partition: number; due: number; retrying: number; oldestDue: number | null }[];
  failing: number;
  paused: number;
  fanOutsQueueing: number;
  postsWaiting: number;
  inboxQueue: number;
  readersDue: { email: number; push: number };
}

async function readBacklog(db: Database, now: number): Promise<Backlog> {
  const n = async (query: ReturnType<typeof sql>) => Number((await db.get<{ n: number }>(query))?.n ?? 0);
  const rows = await db.all<{ p: number; due: number; retrying: number; oldest: number | null }>(
    sql`SELECT partition AS p,
          sum(CASE WHEN next_attempt_at <= ${now} THEN 1 ELSE 0 END) AS due,
          sum(CASE WHEN next_attempt_at > ${now} THEN 1 ELSE 0 END) AS retrying,
          min(CASE WHEN next_attempt_at <= ${now} THEN next_attempt_at END) AS oldest
        FROM deliveries WHERE status = 'pending' GROUP BY partition`,
  );
  return {
    pending: rows.map((r) => ({
      partition: Number(r.p),
      due: Number(r.due),
      retrying: Number(r.retrying),
      oldestDue: r.oldest === null ? null : Number(r.oldest),
    })),
    failing: await n(sql`SELECT count(*) AS n FROM servers WHERE failing_since IS NOT NULL AND probe_at IS NULL`),
    paused: await n(sql`SELECT count(*) AS n FROM servers WHERE probe_at IS NOT NULL`),
    fanOutsQueueing: await n(sql`SELECT count(*) AS n FROM outgoing WHERE queued_all = ${false}`),
    postsWaiting: await n(sql`SELECT count(*) AS n FROM posts WHERE queued_at IS NULL AND deleted_at IS NULL`),
    inboxQueue: await n(sql`SELECT count(*) AS n FROM queue`),
    readersDue: await readersDue(db, now),
  };
}

/**
 * Gauges read at each scrape: the delivery backlog by partition (due,
 * retrying, age of the oldest due), failing and paused servers, fan-outs and
 * posts not yet queued, inbox work, readers' messages due; and this process's
 * memory, event-loop delay and database pool. Each scrape reads the database
 * once (a few counts, bounded by a 2 s deadline; a failed read leaves the
 * backlog gauges out of that scrape).
 */
export function observeProcess(db: Database, pool: () => { inUse: number; max: number } | null): () => void {
  const meter = metrics.getMeter("lectern", LECTERN_VERSION);
  const gauge = (name: string, description: string, unit?: string) =>
    meter.createObservableGauge(name, { description, unit });
  const pending = gauge(
    "lectern.deliveries.pending",
    "Deliveries not yet made, by partition and state (due, retrying)",
  );
  const oldest = gauge("lectern.deliveries.oldest_due_age", "Age of the oldest due delivery, by partition", "s");
  const servers = gauge("lectern.servers", "Follower servers failing now or paused, by state");
  const fanOuts = gauge("lectern.fanouts.queueing", "Activities for every follower not fully queued yet");
  const posts = gauge("lectern.posts.waiting", "Posts stored and not yet turned into deliveries");
  const inbox = gauge("lectern.inbox.queue", "Inbox work waiting in the queue");
  const readers = gauge("lectern.readers.due", "Messages due to readers without an account, by channel");
  const rss = gauge("lectern.process.rss", "Resident memory of this process", "By");
  const heap = gauge("lectern.process.heap_used", "V8 heap in use in this process", "By");
  const delay = gauge("lectern.event_loop.delay", "Event-loop delay since the last scrape, by quantile", "s");
  const poolInUse = gauge("lectern.db.pool.in_use", "PostgreSQL connections busy or asked for");
  const poolMax = gauge("lectern.db.pool.max", "PostgreSQL connections this process may open");
  const loop = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  loop.enable();
  const callback = async (result: BatchObservableResult) => {
    const memory = process.memoryUsage();
    result.observe(rss, memory.rss);
    result.observe(heap, memory.heapUsed);
    // The histogram holds the time between the sampling timer's firings: the delay is what exceeds its period.
    for (const [quantile, ns] of [
      ["p50", loop.percentile(50)],
      ["p99", loop.percentile(99)],
      ["max", loop.max],
    ] as const)
      result.observe(delay, Number.isFinite(ns) ? Math.max(0, ns / 1e9 - RESOLUTION_MS / 1000) : 0, { quantile });
    loop.reset();
    const p = pool();
    if (p !== null) {
      result.observe(poolInUse, p.inUse);
      result.observe(poolMax, p.max);
    }
    const now = Date.now();
    let backlog: Backlog;
    try {
      backlog = await withDeadline(readBacklog(db, now), 2000, "reading the backlog");
    } catch (error) {
      logger.warning("Metrics: could not read the backlog: {error}", { error });
      return;
    }
    // Every partition, so a drained one reads 0 rather than vanishing.
    const byPartition = new Map(backlog.pending.map((r) => [r.partition, r]));
    for (let partition = 0; partition < PARTITIONS; partition++) {
      const r = byPartition.get(partition);
      result.observe(pending, r?.due ?? 0, { partition, state: "due" });
      result.observe(pending, r?.retrying ?? 0, { partition, state: "retrying" });
      result.observe(oldest, r?.oldestDue == null ? 0 : Math.max(0, (now - r.oldestDue) / 1000), { partition });
    }
    result.observe(servers, backlog.failing, { state: "failing" });
    result.observe(servers, backlog.paused, { state: "paused" });
    result.observe(fanOuts, backlog.fanOutsQueueing);
    result.observe(posts, backlog.postsWaiting);
    result.observe(inbox, backlog.inboxQueue);
    result.observe(readers, backlog.readersDue.email, { channel: "email" });
    result.observe(readers, backlog.readersDue.push, { channel: "push" });
  };
  const all: Observable[] = [pending, oldest, servers, fanOuts, posts, inbox, readers, rss, heap, delay];
  all.push(poolInUse, poolMax);
  meter.addBatchObservableCallback(callback, all);
  return () => {
    meter.removeBatchObservableCallback(callback, all);
    loop.disable();
  };
}
