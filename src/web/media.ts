import { Readable } from "node:stream";
import type { Hono } from "hono";
import { PATHS, route } from "../shared/urls.ts";
import { MEDIA_CACHE_CONTROL, MEDIA_NAME, MEDIA_TYPES } from "../storage/media-store.ts";
import type { WebDeps } from "./deps.ts";

/**
 * Media files: content-addressed, so cached forever; `Range` for seeking in
 * videos; the name must be a hash and a known extension, so nothing outside
 * the store can be named. With `media.public_url` set (a CDN in front of the
 * bucket), links made before it still work: they are sent there.
 */
export function mediaRoutes(app: Hono, deps: WebDeps): void {
  const store = deps.lectern.media;
  const { urls } = deps.lectern.data;
  const elsewhere = urls.mediaBase.origin !== urls.origin.origin;
  app.on(["GET", "HEAD"], route(PATHS.mediaFile), async (c) => {
    const name = c.req.param("name");
    if (!MEDIA_NAME.test(name)) return c.notFound();
    if (elsewhere) return c.redirect(urls.media(name).href, 301);
    const size = await store.size(name);
    if (size === null) return c.notFound();
    const headers: Record<string, string> = {
      "Content-Type": MEDIA_TYPES[name.split(".")[1]],
      "Cache-Control": MEDIA_CACHE_CONTROL,
      ETag: `"${name.slice(0, 64)}"`,
      "Accept-Ranges": "bytes",
      "X-Content-Type-Options": "nosniff",
      "Content-Security-Policy": "default-src 'none'; sandbox",
    };
    if (c.req.header("if-none-match") === headers.ETag) return c.body(null, 304, headers);
    let start = 0;
    let end = size - 1;
    let status: 200 | 206 = 200;
    const range = c.req.header("range");
    if (range !== undefined) {
      const m = /^bytes=(\d*)-(\d*)$/.exec(range.trim());
      if (m === null || (m[1] === "" && m[2] === "")) return c.body(null, 416, { "Content-Range": `bytes */${size}` });
      if (m[1] === "") {
        start = Math.max(0, size - Number(m[2])); // the last N bytes
      } else {
        start = Number(m[1]);
        if (m[2] !== "") end = Math.min(Number(m[2]), size - 1);
      }
      if (start > end || start >= size) return c.body(null, 416, { "Content-Range": `bytes */${size}` });
      status = 206;
      headers["Content-Range"] = `bytes ${start}-${end}/${size}`;
    }
    headers["Content-Length"] = String(end - start + 1);
    if (c.req.method === "HEAD") return c.body(null, status, headers);
    const stream = Readable.toWeb(await store.read(name, { start, end })) as ReadableStream<Uint8Array>;
    return c.body(stream, status, headers);
  });
}
