import { type BlockList, isIP } from "node:net";
import { getConnInfo } from "@hono/node-server/conninfo";
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
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

/**
 * Reads a small form (the body limit applies before), giving up after `ms`:
 * a client that trickles its body in holds its own connection and nothing
 * else, and not for long (408, and the connection is closed).
 */
export async function readFormWithin(c: Context, ms: number): Promise<Record<string, string>> {
  let timer: NodeJS.Timeout | undefined;
  const parsing = c.req.parseBody();
  parsing.catch(() => {}); // given up on: its end (the connection closed) is nobody's error
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new HTTPException(408, {
            res: new Response("The form took too long to arrive.", {
              status: 408,
              headers: { Connection: "close", "Content-Type": "text/plain; charset=utf-8" },
            }),
          }),
        ),
      ms,
    );
  });
  try {
    const form = await Promise.race([parsing, late]);
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(form)) if (typeof v === "string") out[k] = v;
    return out;
  } finally {
    clearTimeout(timer);
  }
}
