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
  const outgoingId = c
    .prepare<[string], { id: number }>("SELECT id FROM outgoing WHERE post_id = ? AND kind = 'Create' ORDER BY id LIMIT 1")
    .get(postId)?.id;
  const empty: DeliveryProgress = { due: 0, delivered: 0, failing: 0, waiting: 0, givenUp: 0, refused: 0, gone: 0, failures: [] };
  if (outgoingId === undefined) return empty;
  const counts = c
    .prepare<[number], { status: string; retried: number; n: number }>(
      "SELECT status, attempts > 0 AS retried, count(*) AS n FROM deliveries WHERE outgoing_id = ? GROUP BY status, retried",
    )
    .all(outgoingId);
  const p = { ...empty };
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
