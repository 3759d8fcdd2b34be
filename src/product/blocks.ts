import { and, eq, sql } from "drizzle-orm";
import type { Db } from "../storage/db.ts";
import { blocks, followers } from "../storage/schema.ts";

export type Block = typeof blocks.$inferSelect;

export class InvalidBlockError extends Error {
  override name = "InvalidBlockError";
}

/** A host name as blocks store it: lower case, no scheme, no path, no user. */
export function normalizeDomain(input: string): string {
  const value = input
    .trim()
    .toLowerCase()
    .replace(/^https?:\/\//, "")
    .replace(/^@?[^@/]*@/, "")
    .replace(/\/.*$/, "");
  if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(:\d{1,5})?$/.test(value)) {
    throw new InvalidBlockError(`not a server name: ${JSON.stringify(input)}`);
  }
  return value;
}

export function normalizeActor(input: string): string {
  let url: URL;
  try {
    url = new URL(input.trim());
  } catch {
    throw new InvalidBlockError(`not an account URL: ${JSON.stringify(input)}`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:")
    throw new InvalidBlockError(`not an account URL: ${JSON.stringify(input)}`);
  return url.href;
}

export function addBlock(db: Db, kind: "actor" | "domain", value: string, now: number = Date.now()): void {
  db.insert(blocks).values({ kind, value, createdAt: now }).onConflictDoNothing().run();
}

export function removeBlock(db: Db, kind: "actor" | "domain", value: string): boolean {
  return (
    db
      .delete(blocks)
      .where(and(eq(blocks.kind, kind), eq(blocks.value, value)))
      .run().changes > 0
  );
}

export function listBlocks(db: Db): Block[] {
  return db.select().from(blocks).orderBy(blocks.kind, blocks.value).all();
}

/** Whether this actor, or its whole server, is blocked. Cheap: two index lookups. */
export function isBlocked(db: Db, actorIri: string | URL): boolean {
  let host: string;
  try {
    host = new URL(actorIri).host.toLowerCase();
  } catch {
    return false;
  }
  const href = typeof actorIri === "string" ? actorIri : actorIri.href;
  return (
    db
      .select({ n: sql<number>`1` })
      .from(blocks)
      .where(
        sql`(${blocks.kind} = 'domain' and ${blocks.value} = ${host}) or (${blocks.kind} = 'actor' and ${blocks.value} = ${href})`,
      )
      .get() !== undefined
  );
}

export function isDomainBlocked(db: Db, host: string): boolean {
  return (
    db
      .select({ n: sql<number>`1` })
      .from(blocks)
      .where(and(eq(blocks.kind, "domain"), eq(blocks.value, host.toLowerCase())))
      .get() !== undefined
  );
}

/** Followers on a host (for removing them when the host is blocked). */
export function followersOnHost(db: Db, host: string) {
  return db.select().from(followers).where(eq(followers.host, host.toLowerCase())).all();
}
