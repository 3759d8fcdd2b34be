import type { Db } from "../storage/db.ts";

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
export function deliveryProgress(db: Db, postId: string, options: { failures?: number } = {}): DeliveryProgress {
  const c = db.$client;
  const row = c
    .prepare<[string], { id: number; d: number; g: number; f: number; u: number }>(
      `SELECT id, pruned_delivered AS d, pruned_gone AS g, pruned_failed AS f, pruned_given_up AS u
       FROM outgoing WHERE post_id = ? AND kind = 'Create' ORDER BY id LIMIT 1`,
    )
    .get(postId);
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
  if (row === undefined) return empty;
  const outgoingId = row.id;
  const counts = c
    .prepare<[number], { status: string; retried: number; n: number }>(
      "SELECT status, attempts > 0 AS retried, count(*) AS n FROM deliveries WHERE outgoing_id = ? GROUP BY status, retried",
    )
    .all(outgoingId);
  // What was pruned (finished long ago) counts as it ended.
  const p = {
    ...empty,
    delivered: row.d,
    gone: row.g,
    refused: row.f,
    givenUp: row.u,
    due: row.d + row.g + row.f + row.u,
  };
  for (const { status, retried, n } of counts) {
    p.due += n;
    if (status === "delivered") p.delivered += n;
    else if (status === "gone") p.gone += n;
    else if (status === "failed") p.refused += n;
    else if (status === "given_up") p.givenUp += n;
    else if (retried) p.failing += n;
    else p.waiting += n;
  }
  p.failures = c
    .prepare<[number, number], DeliveryProgress["failures"][number]>(
      `SELECT host, status, last_status AS lastStatus, last_error AS lastError, attempts FROM deliveries
       WHERE outgoing_id = ? AND status != 'delivered' AND attempts > 0 ORDER BY updated_at DESC LIMIT ?`,
    )
    .all(outgoingId, options.failures ?? 20);
  return p;
}

/**
 * Folds finished deliveries older than `olderThanMs` into their activity's
 * counters and deletes them: a post's progress stays whole, the table stays
 * the size of recent work. Returns how many rows went.
 */
export function pruneDeliveries(db: Db, olderThanMs = 30 * 86_400_000, now: number = Date.now()): number {
  const c = db.$client;
  const cutoff = now - olderThanMs;
  return c.transaction(() => {
    c.prepare(
      `UPDATE outgoing SET
         pruned_delivered = pruned_delivered + (SELECT count(*) FROM deliveries d WHERE d.outgoing_id = outgoing.id AND d.status = 'delivered' AND d.updated_at < @cutoff),
         pruned_gone = pruned_gone + (SELECT count(*) FROM deliveries d WHERE d.outgoing_id = outgoing.id AND d.status = 'gone' AND d.updated_at < @cutoff),
         pruned_failed = pruned_failed + (SELECT count(*) FROM deliveries d WHERE d.outgoing_id = outgoing.id AND d.status = 'failed' AND d.updated_at < @cutoff),
         pruned_given_up = pruned_given_up + (SELECT count(*) FROM deliveries d WHERE d.outgoing_id = outgoing.id AND d.status = 'given_up' AND d.updated_at < @cutoff)
       WHERE id IN (SELECT DISTINCT outgoing_id FROM deliveries WHERE status IN ('delivered', 'gone', 'failed', 'given_up') AND updated_at < @cutoff)`,
    ).run({ cutoff });
    return c
      .prepare("DELETE FROM deliveries WHERE status IN ('delivered', 'gone', 'failed', 'given_up') AND updated_at < ?")
      .run(cutoff).changes;
  })();
}
