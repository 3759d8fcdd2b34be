import { uuidv7 } from "../shared/ids.ts";
import type { Queryable } from "../storage/database.ts";
import { sql } from "../storage/sql.ts";

/** A quote permission we granted (FEP-044f stamp): what a revocation needs, nothing more. */
export interface QuoteStamp {
  id: string;
  postId: string;
  /** The quoting post. */
  quoteIri: string;
  /** Who quoted, and where to tell them when the stamp is revoked. */
  actorIri: string;
  inbox: string;
  createdAt: number;
}

const COLUMNS = sql.raw(
  `id, post_id AS "postId", quote_iri AS "quoteIri", actor_iri AS "actorIri", inbox, created_at AS "createdAt"`,
);

/** Records a granted quote (the same quote asking twice gets the same stamp). */
export async function grantQuote(
  db: Queryable,
  q: { postId: string; quoteIri: string; actorIri: string; inbox: string },
  now: number = Date.now(),
): Promise<QuoteStamp> {
  await db.run(
    sql`INSERT INTO quote_stamps (id, post_id, quote_iri, actor_iri, inbox, created_at)
        VALUES (${uuidv7(now)}, ${q.postId}, ${q.quoteIri}, ${q.actorIri}, ${q.inbox}, ${now}) ON CONFLICT DO NOTHING`,
  );
  return (await db.get<QuoteStamp>(
    sql`SELECT ${COLUMNS} FROM quote_stamps WHERE post_id = ${q.postId} AND quote_iri = ${q.quoteIri}`,
  )) as QuoteStamp;
}

export async function getStamp(db: Queryable, id: string): Promise<QuoteStamp | undefined> {
  return await db.get<QuoteStamp>(sql`SELECT ${COLUMNS} FROM quote_stamps WHERE id = ${id}`);
}

/** Removes and returns the stamps of a post (to revoke them when it is deleted). */
export async function takeStamps(db: Queryable, postId: string): Promise<QuoteStamp[]> {
  return await db.all<QuoteStamp>(sql`DELETE FROM quote_stamps WHERE post_id = ${postId} RETURNING ${COLUMNS}`);
}
