import type { AppData } from "../product/context.ts";
import { fetchJson, fetchOptions } from "../shared/http-client.ts";
import { Temporal } from "../shared/temporal.ts";

/** How long a server's software name is remembered. */
const REMEMBER = Temporal.Duration.from({ hours: 24 });

/**
 * The software a server runs, lower-cased, from its NodeInfo (remembered for
 * a day per server); null when it does not say. Fetched through the guarded
 * client (public addresses only, Lectern's User-Agent).
 */
export async function softwareOf(data: AppData, origin: string): Promise<string | null> {
  const key = ["lectern", "software", origin] as const;
  const known = await data.kv.get<{ name: string | null }>(key);
  if (known !== undefined) return known.name;
  const options = fetchOptions(data.config);
  let name: string | null = null;
  const index = (await fetchJson(new URL("/.well-known/nodeinfo", origin), options)) as {
    links?: { rel?: string; href?: string }[];
  };
  const link = index?.links?.find((l) => /nodeinfo\.diaspora\.software\/ns\/schema\/2\.[01]$/.test(l.rel ?? ""));
  if (link?.href) {
    try {
      const info = (await fetchJson(new URL(link.href, origin), options)) as { software?: { name?: unknown } };
      if (typeof info?.software?.name === "string") name = info.software.name.toLowerCase().slice(0, 64);
    } catch {
      name = null;
    }
  }
  await data.kv.set(key, { name }, { ttl: REMEMBER });
  return name;
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
