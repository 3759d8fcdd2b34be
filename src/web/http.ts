import { type BlockList, isIP } from "node:net";
import { getConnInfo } from "@hono/node-server/conninfo";
import type { Context } from "hono";
import { normalizeDomain } from "../product/blocks.ts";
import { type Html, renderToString } from "./views/layout.tsx";

/**
 * Answers with `render()` unless the client already has this version
 * (`If-None-Match`): public pages change only when the author acts, so the
 * ETag is made from what they show, and revalidation is a cheap 304. The
 * caching headers are set by the response cache, for every public response.
 */
export async function cachedResponse(
  c: Context,
  version: string,
  render: () => Html | string | Promise<Html | string>,
  options: { type?: string; status?: number } = {},
): Promise<Response> {
  const etag = `W/"${version}"`;
  const match = c.req.header("if-none-match");
  if (match?.split(",").some((t) => t.trim() === etag)) return c.body(null, 304, { ETag: etag });
  const body = await renderToString(await render());
  return c.body(body, (options.status ?? 200) as 200, {
    "Content-Type": options.type ?? "text/html; charset=utf-8",
    ETag: etag,
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

/**
 * Who is asking: the connection's address, or — when that is one of the
 * trusted proxies (`trusted_proxies`) — the last address in X-Forwarded-For
 * that is not itself a trusted proxy. Without trusted proxies the header is
 * ignored (anyone can write it).
 */
export function clientAddress(c: Context, trusted: BlockList | null): string {
  let peer: string;
  try {
    peer = getConnInfo(c).remote.address ?? "unknown";
  } catch {
    return "unknown";
  }
  if (trusted === null || !isTrusted(trusted, peer)) return peer;
  const forwarded = (c.req.header("x-forwarded-for") ?? "")
    .split(",")
    .map((a) => a.trim())
    .filter(Boolean);
  for (let i = forwarded.length - 1; i >= 0; i--) {
    if (isIP(forwarded[i]) === 0) return peer;
    if (!isTrusted(trusted, forwarded[i])) return forwarded[i];
  }
  return peer;
}

function isTrusted(list: BlockList, address: string): boolean {
  const bare = address.replace(/^::ffff:(?=\d+\.)/, "");
  const family = isIP(bare);
  return family !== 0 && list.check(bare, family === 4 ? "ipv4" : "ipv6");
}
