import { createHash } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";
import type { MiddlewareHandler } from "hono";
import type { Config } from "../shared/config.ts";
import type { SiteVersion } from "./site-version.ts";

/** How long a kept response is served before it is rendered again (follower counts move without a version). */
const ENTRY_TTL_MS = 60_000;
const MIN_COMPRESS = 1024;
/** Query parameters public URLs use (cursors, WebFinger's resource); any other makes a response not worth keeping. */
const KNOWN_PARAMS = new Set(["after", "cursor", "resource", "page", "rel"]);

/** Whether a path's query holds only known parameters (random ones would flush the cache: not kept). */
function keepable(path: string): boolean {
  const q = path.indexOf("?");
  if (q < 0) return true;
  for (const key of new URLSearchParams(path.slice(q + 1)).keys()) if (!KNOWN_PARAMS.has(key)) return false;
  return true;
}
const COMPRESSIBLE =
  /^(text\/|application\/(activity\+json|ld\+json|json|jrd\+json|rss\+xml|atom\+xml|xml|javascript))/;

/** The `Cache-Control` of every public page and document. */
export function publicCacheControl(p: Config["cache"]): string {
  return `public, max-age=${p.maxAge}, s-maxage=${p.sharedMaxAge}, stale-while-revalidate=${p.staleWhileRevalidate}, stale-if-error=${p.staleIfError}`;
}

/** Which of a URL's representations a request asks for: ActivityPub JSON, HTML, other JSON, or anything. */
function kindOf(accept: string): "ap" | "html" | "json" | "other" {
  return /application\/(activity|ld)\+json/.test(accept)
    ? "ap"
    : /text\/html/.test(accept)
      ? "html"
      : /json/.test(accept)
        ? "json"
        : "other";
}

/** Path and query of a request URL (absolute in Fetch, relative in node:http). */
function pathOf(url: string): string {
  if (url.startsWith("/")) return url;
  return url.slice(url.indexOf("/", url.indexOf("//") + 2));
}

interface Variant {
  body: Uint8Array;
  /** Flat `[name, value, name, value…]`, as `writeHead` takes it. */
  head: string[];
}

interface Entry {
  status: number;
  etag: string;
  expires: number;
  base: [string, string][];
  identity: Variant;
  compressible: boolean;
  gzip?: Variant;
  br?: Variant;
  bytes: number;
}

export interface ResponseCacheOptions {
  policy: Config["cache"];
  authorizedFetch: boolean;
  /** Path prefixes whose URL serves both HTML and ActivityPub JSON (they get `Vary: Accept`). */
  negotiated: (path: string) => boolean;
  maxEntries?: number;
  maxBytes?: number;
}

/**
 * The public face's cache, in each process: public GET responses kept in
 * memory until the author next changes anything (the key holds the site
 * version, which lives in the database, so every process follows every
 * change) or a minute passes. It is also where the caching headers of public
 * responses are set, once, for everything public: `Cache-Control` made for
 * shared caches (see {@link publicCacheControl}), an ETag (from the bytes when
 * the route gave none), `Vary: Accept` only where one URL serves both HTML and
 * JSON; and where they are compressed (brotli or gzip by `Accept-Encoding`,
 * each variant made once per version). Hits are answered straight on the
 * Node socket ({@link serveNode}) without building a Fetch request or
 * response. The desk, media (immutable, with their own headers) and, with
 * authorized fetch, ActivityPub documents are never kept.
 */
export class ResponseCache {
  readonly #entries = new Map<string, Entry>();
  readonly #version: SiteVersion;
  readonly #options: ResponseCacheOptions;
  readonly #cacheControl: string;
  #bytes = 0;

  constructor(version: SiteVersion, options: ResponseCacheOptions) {
    this.#version = version;
    this.#options = options;
    this.#cacheControl = publicCacheControl(options.policy);
  }

  #skipped(method: string, path: string): boolean {
    return (
      (method !== "GET" && method !== "HEAD") ||
      path.startsWith("/admin") ||
      path.startsWith("/api/") ||
      path.startsWith("/oauth/") ||
      path.startsWith("/media/") ||
      path === "/health" ||
      path === "/livez" ||
      path === "/readyz"
    );
  }

  #key(version: number, kind: string, path: string): string {
    return `${version}\n${kind}\n${path}`;
  }

  #lookup(key: string): Entry | undefined {
    const hit = this.#entries.get(key);
    if (hit === undefined) return undefined;
    if (hit.expires < Date.now()) {
      this.#drop(key, hit);
      return undefined;
    }
    this.#entries.delete(key);
    this.#entries.set(key, hit); // most recently used last
    return hit;
  }

  #drop(key: string, entry: Entry): void {
    this.#entries.delete(key);
    this.#bytes -= entry.bytes;
  }

  /** The variant for this `Accept-Encoding` (made on first use). */
  #variant(entry: Entry, acceptEncoding: string | undefined): Variant {
    if (!entry.compressible || acceptEncoding === undefined) return entry.identity;
    const br = /\bbr\b/.test(acceptEncoding);
    if (!br && !/\bgzip\b/.test(acceptEncoding)) return entry.identity;
    const encoding = br ? "br" : "gzip";
    let v = entry[encoding];
    if (v === undefined) {
      const body = br
        ? brotliCompressSync(entry.identity.body, {
            params: {
              [constants.BROTLI_PARAM_QUALITY]: 5,
              [constants.BROTLI_PARAM_SIZE_HINT]: entry.identity.body.byteLength,
            },
          })
        : gzipSync(entry.identity.body, { level: 6 });
      v = {
        body,
        head: flat([...entry.base, ["content-encoding", encoding], ["content-length", String(body.length)]]),
      };
      entry[encoding] = v;
      entry.bytes += body.byteLength;
      this.#bytes += body.byteLength;
    }
    return v;
  }

  /**
   * Answers a request from the cache directly on the socket; false when it
   * cannot (not cached, not public, the version not known this instant).
   */
  serveNode(req: IncomingMessage, res: ServerResponse): boolean {
    const method = req.method ?? "GET";
    const url = req.url ?? "/";
    if (this.#skipped(method, url)) return false;
    const version = this.#version.peek();
    if (version === undefined) return false;
    const entry = this.#lookup(this.#key(version, kindOf(req.headers.accept ?? ""), url));
    if (entry === undefined) return false;
    const match = req.headers["if-none-match"];
    if (match !== undefined && etagMatches(match, entry.etag)) {
      res.writeHead(304, flat(entry.base.filter(([h]) => h !== "content-type")));
      res.end();
      return true;
    }
    const v = this.#variant(entry, req.headers["accept-encoding"]);
    res.writeHead(entry.status, v.head);
    res.end(method === "HEAD" ? undefined : v.body);
    return true;
  }

  /** The same, inside Hono: stores what routes render and answers hits the socket path could not. */
  middleware(): MiddlewareHandler {
    return async (c, next) => {
      const method = c.req.method;
      const path = pathOf(c.req.url);
      if (this.#skipped(method, path)) return next();
      const kind = kindOf(c.req.header("accept") ?? "");
      const negotiated = this.#options.negotiated(c.req.path);
      if (kind === "ap" && this.#options.authorizedFetch) {
        await next();
        // Answers depend on who signed the request: no shared cache may keep them.
        c.res.headers.set("Cache-Control", "private, no-cache");
        return;
      }
      const version = await this.#version.current();
      const key = this.#key(version, kind, path);
      let entry = this.#lookup(key);
      const rendered = entry === undefined;
      if (entry === undefined) {
        await next();
        const res = c.res;
        const cc = res.headers.get("cache-control") ?? "";
        if ((res.status !== 200 && res.status !== 410) || res.headers.has("set-cookie") || /no-store|private/.test(cc))
          return;
        if (!keepable(path)) {
          // Served, with the caching headers of public responses, but not kept here.
          if (!cc.includes("immutable")) c.res.headers.set("Cache-Control", this.#cacheControl);
          return;
        }
        const made = await this.#store(key, res, negotiated, cc.includes("immutable"));
        if (made === undefined) return;
        entry = made;
        if (method === "HEAD") return; // a HEAD's response has no body to keep: answered as rendered
      }
      const answer = this.#answer(entry, method, c.req.header("if-none-match"), c.req.header("accept-encoding"));
      if (!rendered) return answer;
      // After a render Hono keeps c.res and would merge its headers into ours: replace it whole.
      c.res = undefined;
      c.res = answer;
    };
  }

  #answer(entry: Entry, method: string, ifNoneMatch: string | undefined, acceptEncoding: string | undefined): Response {
    if (ifNoneMatch !== undefined && etagMatches(ifNoneMatch, entry.etag)) {
      return new Response(null, { status: 304, headers: entry.base.filter(([h]) => h !== "content-type") });
    }
    const v = this.#variant(entry, acceptEncoding);
    const headers = new Headers();
    for (let i = 0; i < v.head.length; i += 2) headers.append(v.head[i], v.head[i + 1]);
    return new Response(method === "HEAD" ? null : (v.body as Uint8Array<ArrayBuffer>), {
      status: entry.status,
      headers,
    });
  }

  async #store(key: string, res: Response, negotiated: boolean, immutable: boolean): Promise<Entry | undefined> {
    const body = new Uint8Array(await res.clone().arrayBuffer());
    if (body.byteLength > 1024 * 1024) return undefined;
    const type = res.headers.get("content-type") ?? "";
    const compressible = body.byteLength >= MIN_COMPRESS && COMPRESSIBLE.test(type);
    const base: [string, string][] = [];
    for (const [name, value] of res.headers) {
      if (name === "cache-control" || name === "vary" || name === "content-length" || name === "etag") continue;
      base.push([name, value]);
    }
    const etag = res.headers.get("etag") ?? `"${createHash("sha256").update(body).digest("base64url").slice(0, 27)}"`;
    base.push(["etag", etag]);
    base.push(["cache-control", immutable ? "public, max-age=31536000, immutable" : this.#cacheControl]);
    const vary = [negotiated ? "Accept" : "", compressible ? "Accept-Encoding" : ""].filter(Boolean).join(", ");
    if (vary !== "") base.push(["vary", vary]);
    const entry: Entry = {
      status: res.status,
      etag,
      expires: Date.now() + ENTRY_TTL_MS,
      base,
      identity: { body, head: flat([...base, ["content-length", String(body.byteLength)]]) },
      compressible,
      bytes: body.byteLength,
    };
    const max = this.#options.maxEntries ?? 2000;
    const maxBytes = this.#options.maxBytes ?? 64 * 1024 * 1024;
    while (this.#entries.size > 0 && (this.#entries.size >= max || this.#bytes + entry.bytes * 3 > maxBytes)) {
      const [oldestKey, oldest] = this.#entries.entries().next().value as [string, Entry];
      this.#drop(oldestKey, oldest);
    }
    this.#entries.set(key, entry);
    this.#bytes += entry.bytes;
    return entry;
  }
}

function flat(pairs: [string, string][]): string[] {
  const out: string[] = [];
  for (const [k, v] of pairs) out.push(k, v);
  return out;
}

function etagMatches(header: string, etag: string): boolean {
  const weak = etag.replace(/^W\//, "");
  return header.split(",").some((t) => {
    const tag = t.trim();
    return tag === "*" || tag.replace(/^W\//, "") === weak;
  });
}
