import type { Context } from "@fedify/fedify";
import { sql } from "../storage/sql.ts";
import { AccountNotFoundError, resolveAccount } from "./accounts.ts";
import { InvalidBlockError, normalizeActor, normalizeDomain } from "./blocks.ts";
import type { AppData } from "./context.ts";
import { blockServer } from "./publish.ts";

/** Someone or somewhere the author named: an account (its actor id) or a whole server. */
export type Named = { kind: "actor"; iri: string } | { kind: "domain"; domain: string };

const HANDLE = /^@?([^@\s/]+)@([^@\s/]+)$/;

/**
 * What the author typed to name an account or a server, as people write
 * them: `@user@server` (or `user@server`), an account's URL, or a bare server
 * name. A handle is looked for among followers first (no request), then
 * found by WebFinger through the guarded client.
 */
export async function identify(ctx: Context<AppData>, input: string): Promise<Named> {
  const text = input.trim();
  if (text === "") throw new InvalidBlockError("name an account (@user@server or its URL) or a server");
  if (/^https?:\/\//i.test(text)) return { kind: "actor", iri: normalizeActor(text) };
  const handle = HANDLE.exec(text);
  if (handle !== null) {
    const written = `@${handle[1]}@${handle[2]}`.toLowerCase();
    const known = await ctx.data.db.get<{ iri: string }>(
      sql`SELECT actor_iri AS iri FROM followers WHERE lower(handle) = ${written} LIMIT 1`,
    );
    if (known !== undefined) return { kind: "actor", iri: known.iri };
    try {
      return { kind: "actor", iri: (await resolveAccount(ctx, text)).id.href };
    } catch (e) {
      if (e instanceof AccountNotFoundError) throw new InvalidBlockError(e.message);
      throw e;
    }
  }
  const domain = normalizeDomain(text);
  if (!domain.includes("."))
    throw new InvalidBlockError(`not a server name (like spam.example): ${JSON.stringify(text)}`);
  return { kind: "domain", domain };
}

/** Most lines a domain blocklist may have; more is not a blocklist someone curated. */
const MAX_LINES = 20_000;

export interface ImportReport {
  blocked: string[];
  /** Lines not acted on, with why (a silence, an obfuscated name, not a server name). */
  skipped: { line: string; why: string }[];
  followersRemoved: number;
}

/**
 * Imports a domain blocklist as Mastodon exports it (`#domain,#severity,…`
 * CSV) or a plain list of server names, one per line. Suspensions become
 * server blocks; silences and obfuscated names (`ex*mple.com`) are skipped
 * and reported, as Lectern has no silence.
 */
export async function importDomainBlocks(ctx: Context<AppData>, csv: string): Promise<ImportReport> {
  const lines = csv.split(/\r?\n/).map((l) => l.trim());
  if (lines.length > MAX_LINES) throw new InvalidBlockError(`a blocklist of at most ${MAX_LINES} lines, please`);
  const report: ImportReport = { blocked: [], skipped: [], followersRemoved: 0 };
  for (const line of lines) {
    if (line === "" || /^#?domain\b/i.test(line) || line.startsWith("//")) continue;
    const [name, severity = "suspend"] = line.split(",").map((f) => f.trim().replace(/^"|"$/g, ""));
    if (name.includes("*")) {
      report.skipped.push({ line: name, why: "obfuscated name" });
      continue;
    }
    if (severity !== "suspend") {
      report.skipped.push({ line: name, why: `${severity || "no severity"} (Lectern only blocks)` });
      continue;
    }
    try {
      const { domain, removed } = await blockServer(ctx, name);
      report.blocked.push(domain);
      report.followersRemoved += removed;
    } catch (e) {
      if (!(e instanceof InvalidBlockError)) throw e;
      report.skipped.push({ line: name.slice(0, 100), why: "not a server name" });
    }
  }
  return report;
}
