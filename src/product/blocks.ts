import { InvalidInputError } from "../shared/errors.ts";
import type { Queryable } from "../storage/database.ts";
import { sql } from "../storage/sql.ts";

export interface Block {
  id: number;
  kind: "actor" | "domain";
  /** An actor id, or a lower-case host name. */
  value: string;
  createdAt: number;
}

export class InvalidBlockError extends InvalidInputError {
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

export async function addBlock(db: Queryable, kind: "actor" | "domain", value: string, now: number = Date.now()) {
  await db.run(
    sql`INSERT INTO blocks (kind, value, created_at) VALUES (${kind}, ${value}, ${now}) ON CONFLICT DO NOTHING`,
  );
}

export async function removeBlock(db: Queryable, kind: "actor" | "domain", value: string): Promise<boolean> {
  return (await db.run(sql`DELETE FROM blocks WHERE kind = ${kind} AND value = ${value}`)) > 0;
}

export async function listBlocks(db: Queryable): Promise<Block[]> {
  return await db.all<Block>(sql`SELECT id, kind, value, created_at AS "createdAt" FROM blocks ORDER BY kind, value`);
}

/** Whether this actor, or its whole server, is blocked. Cheap: two index lookups. */
export async function isBlocked(db: Queryable, actorIri: string | URL): Promise<boolean> {
  let host: string;
  try {
    host = new URL(actorIri).host.toLowerCase();
  } catch {
    return false;
  }
  const href = typeof actorIri === "string" ? actorIri : actorIri.href;
  const row = await db.get(
    sql`SELECT 1 AS x FROM blocks WHERE (kind = 'domain' AND value = ${host}) OR (kind = 'actor' AND value = ${href})`,
  );
  return row !== undefined;
}

export async function isDomainBlocked(db: Queryable, host: string): Promise<boolean> {
  return (
    (await db.get(sql`SELECT 1 AS x FROM blocks WHERE kind = 'domain' AND value = ${host.toLowerCase()}`)) !== undefined
  );
}
