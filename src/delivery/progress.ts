import type { Queryable } from "../storage/database.ts";
import { sql } from "../storage/sql.ts";

export interface DeliveryProgress {
  /** Servers the post was due to reach. */
  due: number;
  delivered: number;
  /** Not delivered yet, retrying (failed at least once). */
  failing: number;
  /** Not tried yet. */
  waiting: number;
  /** Retried until the end of the retry window. */
  givenUp: number;
  /** Refused for good (4xx), or gone (410/404: those followers were removed). */
  refused: number;
  gone: number;
  /** The servers that failed, with what they last answered. */
  failures: { host: string; status: string; lastStatus: number | null; lastError: string | null; attempts: number }[];
}

/** How far a post's Create has got: servers reached out of those due. */
export async function deliveryProgress(
  db: Queryable,
  postId: string,
  options: { failures?: number } = {},
): Promise<DeliveryProgress> {
  const empty: DeliveryProgress = {
    due: 0,
    delivered: 0,
    failing: 0,
    waiting: 0,
    givenUp: 0,
    refused: 0,
    gone: 0,
    failures: [],
  };
  const row = await db.get<{ id: number; q: number; g: number; f: number; u: number }>(
    sql`SELECT id, queued AS q, pruned_gone AS g, pruned_failed AS f, pruned_given_up AS u
        FROM outgoing WHERE post_id = ${postId} AND kind = 'Create' ORDER BY id LIMIT 1`,
  );
  if (row === undefined) return empty;
  const counts = await db.all<{ status: string; retried: unknown; n: number }>(
    sql`SELECT status, attempts > 0 AS retried, count(*) AS n FROM deliveries
        WHERE outgoing_id = ${row.id} GROUP BY status, attempts > 0`,
  );
  // A success deletes its row: delivered is what was queued less what remains or was pruned.
  const n = (x: unknown) => Number(x);
  const p = { ...empty, gone: n(row.g), refused: n(row.f), givenUp: n(row.u), due: n(row.q) };
  let remaining = n(row.g) + n(row.f) + n(row.u);
  for (const { status, retried, n: count } of counts) {
    const k = Number(count);
    remaining += k;
    if (status === "gone") p.gone += k;
    else if (status === "failed") p.refused += k;
    else if (status === "given_up") p.givenUp += k;
    else if (retried === true || retried === 1) p.failing += k;
    else p.waiting += k;
  }
  p.delivered = Math.max(0, p.due - remaining);
  p.failures = await db.all(
    sql`SELECT host, status, last_status AS "lastStatus", last_error AS "lastError", attempts FROM deliveries
        WHERE outgoing_id = ${row.id} AND attempts > 0 ORDER BY updated_at DESC
        LIMIT ${options.failures ?? 20}`,
  );
  return p;
}

/**
 * Folds deliveries that failed for good, older than `olderThanMs`, into their
 * activity's counters and deletes them (successes never stay: see
 * recordDelivered): a post's progress stays whole, the table stays the size of recent work.
 * Returns how many delivery rows went.
 */
export async function pruneDeliveries(
  db: Queryable,
  olderThanMs = 30 * 86_400_000,
  now: number = Date.now(),
): Promise<number> {
  const cutoff = now - olderThanMs;
  const finished = sql.raw("('gone', 'failed', 'given_up')");
  const count = (status: string) =>
    sql`(SELECT count(*) FROM deliveries d WHERE d.outgoing_id = outgoing.id AND d.status = ${status} AND d.updated_at < ${cutoff})`;
  return await db.transaction(async (tx) => {
    await tx.run(
      sql`UPDATE outgoing SET
            pruned_gone = pruned_gone + ${count("gone")},
            pruned_failed = pruned_failed + ${count("failed")},
            pruned_given_up = pruned_given_up + ${count("given_up")}
          WHERE id IN (SELECT DISTINCT outgoing_id FROM deliveries WHERE status IN ${finished} AND updated_at < ${cutoff})`,
    );
    return await tx.run(sql`DELETE FROM deliveries WHERE status IN ${finished} AND updated_at < ${cutoff}`);
  });
}
