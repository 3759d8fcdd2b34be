import { eq } from "drizzle-orm";
import type { Db } from "../storage/db.ts";
import { quoteStamps } from "../storage/schema.ts";
import { uuidv7 } from "./ids.ts";

export type QuoteStamp = typeof quoteStamps.$inferSelect;

/** Records a granted quote (the same quote asking twice gets the same stamp). */
export function grantQuote(
  db: Db,
  q: { postId: string; quoteIri: string; actorIri: string; inbox: string },
  now: number = Date.now(),
): QuoteStamp {
  db.insert(quoteStamps)
    .values({ id: uuidv7(now), ...q, createdAt: now })
    .onConflictDoNothing()
    .run();
  return db
    .select()
    .from(quoteStamps)
    .where(eq(quoteStamps.quoteIri, q.quoteIri))
    .all()
    .find((s) => s.postId === q.postId) as QuoteStamp;
}

export function getStamp(db: Db, id: string): QuoteStamp | undefined {
  return db.select().from(quoteStamps).where(eq(quoteStamps.id, id)).get();
}

/** Removes and returns the stamps of a post (to revoke them when it is deleted). */
export function takeStamps(db: Db, postId: string): QuoteStamp[] {
  return db.delete(quoteStamps).where(eq(quoteStamps.postId, postId)).returning().all();
}
