import { statfs } from "node:fs/promises";
import type { Config } from "../shared/config.ts";
import type { Queryable } from "../storage/database.ts";
import { sql } from "../storage/sql.ts";
import { deliveryStatus } from "./status.ts";

/*
 * The Server page's facts: a sample of the backlog and pace each minute
 * (kept seven days), why deliveries are failing, and how much room is left.
 */

const KEEP_MS = 7 * 86_400_000;

export interface Sample {
  at: number;
  due: number;
  retrying: number;
  delivered: number;
  failed: number;
  workers: number;
}

/** Writes this minute's sample (once, whoever comes first) and forgets those older than seven days. */
export async function recordSample(db: Queryable, now: number = Date.now()): Promise<void> {
  const at = Math.floor(now / 60_000) * 60_000;
  const status = await deliveryStatus(db, now);
  const failed = Number(
    (
      await db.get<{ n: number }>(
        sql`SELECT count(*) AS n FROM deliveries
            WHERE updated_at > ${now - 60_000} AND (status <> 'pending' OR attempts > 0)`,
      )
    )?.n ?? 0,
  );
  await db.run(
    sql`INSERT INTO server_samples (at, due, retrying, delivered, failed, workers)
        VALUES (${at}, ${status.due + status.sending}, ${status.retrying}, ${status.deliveredLastMinute}, ${failed},
                ${status.workers.length})
        ON CONFLICT (at) DO NOTHING`,
  );
  await db.run(sql`DELETE FROM server_samples WHERE at < ${now - KEEP_MS}`);
}

/** The samples of the last `hours`, oldest first. */
export async function recentSamples(db: Queryable, hours: number, now: number = Date.now()): Promise<Sample[]> {
  const rows = await db.all<Record<string, number>>(
    sql`SELECT at, due, retrying, delivered, failed, workers FROM server_samples
        WHERE at >= ${now - hours * 3_600_000} ORDER BY at`,
  );
  return rows.map((r) => ({
    at: Number(r.at),
    due: Number(r.due),
    retrying: Number(r.retrying),
    delivered: Number(r.delivered),
    failed: Number(r.failed),
    workers: Number(r.workers),
  }));
}

/** Why deliveries are failing now (retrying) or failed in the last day, by class, the largest first. */
export async function failureClasses(
  db: Queryable,
  now: number = Date.now(),
): Promise<{ kind: string; deliveries: number; servers: number }[]> {
  const e = sql`coalesce(last_error, '')`;
  const kind = sql`CASE
      WHEN last_status = 429 THEN 'slow down (429)'
      WHEN last_status >= 500 THEN 'server error (5xx)'
      WHEN last_status IN (404, 410) THEN 'gone (404, 410)'
      WHEN last_status IN (401, 403) THEN 'refused signature (401, 403)'
      WHEN last_status >= 400 THEN 'refused (other 4xx)'
      WHEN ${e} LIKE '%TIMEOUT%' OR ${e} LIKE '%imeout%' OR ${e} LIKE '%aborted%' THEN 'timeout'
      WHEN ${e} LIKE '%ECONNREFUSED%' OR ${e} LIKE '%ECONNRESET%' THEN 'connection refused or reset'
      WHEN ${e} LIKE '%ENOTFOUND%' OR ${e} LIKE '%EAI_AGAIN%' THEN 'name not found (DNS)'
      WHEN ${e} LIKE '%CERT%' OR ${e} LIKE '%SSL%' OR ${e} LIKE '%TLS%' THEN 'certificate (TLS)'
      WHEN ${e} LIKE '%EPRIVATE%' OR ${e} LIKE '%non-public%' THEN 'private address (refused here)'
      ELSE 'other' END`;
  const rows = await db.all<{ kind: string; n: number; servers: number }>(
    sql`SELECT ${kind} AS kind, count(*) AS n, count(DISTINCT host) AS servers FROM deliveries
        WHERE (status = 'pending' AND attempts > 0) OR (status <> 'pending' AND updated_at > ${now - 86_400_000})
        GROUP BY 1 ORDER BY 2 DESC`,
  );
  return rows.map((r) => ({ kind: String(r.kind), deliveries: Number(r.n), servers: Number(r.servers) }));
}

/** The database's size, and the data folder's disk: its size and what is free. */
export async function storageSizes(
  db: Queryable,
  config: Pick<Config, "dataDir">,
): Promise<{ databaseBytes: number; diskBytes: number | null; freeBytes: number | null }> {
  const size =
    db.dialect === "postgres"
      ? await db.get<{ n: number }>(sql`SELECT pg_database_size(current_database()) AS n`)
      : await db.get<{ n: number }>(
          sql`SELECT page_count * page_size AS n FROM pragma_page_count(), pragma_page_size()`,
        );
  let diskBytes: number | null = null;
  let freeBytes: number | null = null;
  try {
    const fs = await statfs(config.dataDir);
    diskBytes = fs.blocks * fs.bsize;
    freeBytes = fs.bavail * fs.bsize;
  } catch {
    // No data folder (PostgreSQL and S3 only): no disk to report.
  }
  return { databaseBytes: Number(size?.n ?? 0), diskBytes, freeBytes };
}
