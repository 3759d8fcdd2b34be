import type { AppData } from "../product/context.ts";
import { fetchJson, fetchOptions } from "../shared/http-client.ts";
import { Temporal } from "../shared/temporal.ts";
import { sql } from "../storage/sql.ts";

/** How long a server's software name is remembered. */
const REMEMBER = Temporal.Duration.from({ hours: 24 });

/**
 * The software a server runs, lower-cased, and its version, from its
 * NodeInfo (remembered for a day per server); nulls when it does not say.
 * Fetched through the guarded client (public addresses only, Lectern's
 * User-Agent).
 */
export async function softwareInfo(
  data: AppData,
  origin: string,
): Promise<{ name: string | null; version: string | null }> {
  const key = ["lectern", "software", origin] as const;
  const known = await data.kv.get<{ name: string | null; version?: string | null }>(key);
  if (known !== undefined) return { name: known.name, version: known.version ?? null };
  const options = fetchOptions(data.config);
  let name: string | null = null;
  let version: string | null = null;
  const index = (await fetchJson(new URL("/.well-known/nodeinfo", origin), options)) as {
    links?: { rel?: string; href?: string }[];
  };
  const link = index?.links?.find((l) => /nodeinfo\.diaspora\.software\/ns\/schema\/2\.[01]$/.test(l.rel ?? ""));
  if (link?.href) {
    try {
      const info = (await fetchJson(new URL(link.href, origin), options)) as {
        software?: { name?: unknown; version?: unknown };
      };
      if (typeof info?.software?.name === "string") name = info.software.name.toLowerCase().slice(0, 64);
      if (typeof info?.software?.version === "string") version = info.software.version.slice(0, 64);
    } catch {
      name = null;
    }
  }
  await data.kv.set(key, { name, version }, { ttl: REMEMBER });
  return { name, version };
}

/** The software a server runs, lower-cased (see softwareInfo). */
export async function softwareOf(data: AppData, origin: string): Promise<string | null> {
  return (await softwareInfo(data, origin)).name;
}

/**
 * Whether a server verifies RFC 9421 signatures (with a signed
 * Content-Digest) by default: Mastodon from 4.5. Others get draft-cavage,
 * which every server understands (some accept an RFC 9421 POST with 202 and
 * drop it unverified: INTEROP.md).
 */
export function verifiesRfc9421(software: { name: string | null; version: string | null }): boolean {
  if (software.name !== "mastodon" || software.version === null) return false;
  const [major, minor] = software.version.split(/[.+-]/).map(Number);
  return major > 4 || (major === 4 && minor >= 5);
}

/**
 * Learns which signature a follower's server gets: RFC 9421 where its
 * software verifies it (and nothing was learned before: a server that
 * refused RFC 9421 stays on draft-cavage for good, see delivery/rows.ts).
 */
export async function learnSignatureScheme(data: AppData, actor: URL): Promise<void> {
  const host = actor.host.toLowerCase();
  const row = await data.db.get<{ signature: string }>(sql`SELECT signature FROM servers WHERE host = ${host}`);
  if (row !== undefined && row.signature !== "cavage") return;
  const info = await softwareInfo(data, actor.origin).catch(() => null);
  if (info === null || !verifiesRfc9421(info)) return;
  await data.db.run(
    sql`INSERT INTO servers (host, signature) VALUES (${host}, 'rfc9421')
        ON CONFLICT (host) DO UPDATE SET signature = 'rfc9421' WHERE servers.signature = 'cavage'`,
  );
}

/**
 * Servers known to read a `Reject` of a reply as what it is (GoToSocial's own
 * way to refuse one). honk reads any Reject from an account it follows as the
 * end of the follow and unsubscribes its user; Mastodon ignores it: neither
 * gets one.
 */
const UNDERSTANDS_REPLY_REJECT = new Set(["gotosocial"]);

export function understandsReplyReject(software: string | null): boolean {
  return software !== null && UNDERSTANDS_REPLY_REJECT.has(software);
}
