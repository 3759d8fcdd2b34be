import type { Context } from "hono";
import { normalizeDomain } from "../product/blocks.ts";
import type { Html } from "./views/layout.ts";

/**
 * Answers with `render()` unless the client already has this version
 * (`If-None-Match`): public pages change only when the author acts, so the
 * ETag is made from what they show, and revalidation is a cheap 304. Pages
 * are revalidated on every view (max-age 0): an edit or a delete shows at once.
 */
export async function cachedResponse(
  c: Context,
  version: string,
  render: () => Html | string | Promise<Html | string>,
  options: { type?: string; maxAge?: number; status?: number } = {},
): Promise<Response> {
  const etag = `W/"${version}"`;
  const headers: Record<string, string> = {
    ETag: etag,
    "Cache-Control": `public, max-age=${options.maxAge ?? 0}, must-revalidate`,
    Vary: "Accept, Accept-Encoding",
  };
  const match = c.req.header("if-none-match");
  if (match?.split(",").some((t) => t.trim() === etag)) {
    return c.body(null, 304, headers);
  }
  const body = await render();
  return c.body(String(body), (options.status ?? 200) as 200, {
    "Content-Type": options.type ?? "text/html; charset=utf-8",
    ...headers,
  });
}

/** A bare host name, optionally with a port: what readers type as "their server" (a dotted name). */
export function parseServer(input: string | undefined): string | null {
  if (input === undefined) return null;
  try {
    const host = normalizeDomain(input);
    return host.includes(".") ? host : null;
  } catch {
    return null;
  }
}
