import type { MiddlewareHandler } from "hono";
import { siteVersion } from "../product/instance.ts";
import type { Database } from "../storage/database.ts";

interface Entry {
  status: number;
  headers: [string, string][];
  body: Uint8Array<ArrayBuffer>;
}

/**
 * Public GET responses, kept in memory until the author next changes anything
 * (the key holds the site version, which every publish, edit, delete, pin,
 * profile change and follower change bumps). Readers, crawlers and servers
 * fetching the same actor, post or page then cost a lookup, not a render or
 * a JSON-LD compaction. Admin pages, media (cached by browsers forever) and,
 * with authorized fetch, ActivityPub documents are never kept.
 */
export function responseCache(
  db: Database,
  options: { authorizedFetch: boolean; maxEntries?: number; maxBytes?: number },
): MiddlewareHandler {
  const entries = new Map<string, Entry>();
  const max = options.maxEntries ?? 2000;
  const maxBytes = options.maxBytes ?? 64 * 1024 * 1024;
  let bytes = 0;
  const evictOldest = () => {
    const oldest = entries.keys().next().value as string;
    bytes -= entries.get(oldest)?.body.byteLength ?? 0;
    entries.delete(oldest);
  };
  return async (c, next) => {
    const method = c.req.method;
    const path = c.req.path;
    if (
      (method !== "GET" && method !== "HEAD") ||
      path.startsWith("/admin") ||
      path.startsWith("/media/") ||
      path === "/health"
    ) {
      return next();
    }
    const accept = c.req.header("accept") ?? "";
    const kind = /application\/(activity|ld)\+json/.test(accept)
      ? "ap"
      : /text\/html/.test(accept)
        ? "html"
        : /json/.test(accept)
          ? "json"
          : "other";
    if (kind === "ap" && options.authorizedFetch) return next();
    const key = `${await siteVersion(db)}\n${kind}\n${c.req.url}`;
    const hit = entries.get(key);
    if (hit !== undefined) {
      entries.delete(key);
      entries.set(key, hit); // most recently used last
      const etag = hit.headers.find(([h]) => h === "etag")?.[1];
      const match = c.req.header("if-none-match");
      if (etag && match?.split(",").some((t) => t.trim() === etag)) {
        return new Response(null, {
          status: 304,
          headers: hit.headers.filter(([h]) => h !== "content-length" && h !== "content-type"),
        });
      }
      return new Response(method === "HEAD" ? null : hit.body, { status: hit.status, headers: hit.headers });
    }
    await next();
    const res = c.res;
    if (
      res.status !== 200 ||
      res.headers.has("set-cookie") ||
      (res.headers.get("cache-control") ?? "").includes("no-store")
    )
      return;
    const body = new Uint8Array(await res.clone().arrayBuffer()) as Uint8Array<ArrayBuffer>;
    if (body.byteLength > 512 * 1024) return;
    while (entries.size > 0 && (entries.size >= max || bytes + body.byteLength > maxBytes)) evictOldest();
    entries.set(key, { status: res.status, headers: [...res.headers], body });
    bytes += body.byteLength;
  };
}
