import { PUBLIC_COLLECTION } from "@fedify/vocab";

const ADDRESSING = new Set(["to", "cc", "bto", "bcc", "audience"]);

/**
 * Writes the public collection as its full URI in addressing fields. JSON-LD
 * compaction shortens it to "as:Public", which Fedify expands only in what it
 * delivers; several servers (Lemmy among them) compare these fields as plain
 * URLs, so the objects we serve get the same treatment.
 */
export function expandPublicAudience(value: unknown, key?: string, depth = 0): unknown {
  if (depth > 32) return value;
  if (typeof value === "string") {
    return key !== undefined && ADDRESSING.has(key) && (value === "as:Public" || value === "Public")
      ? PUBLIC_COLLECTION.href
      : value;
  }
  if (Array.isArray(value)) return value.map((v) => expandPublicAudience(v, key, depth + 1));
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = k === "@context" ? v : expandPublicAudience(v, k, depth + 1);
    return out;
  }
  return value;
}

/** Applies {@link expandPublicAudience} to an ActivityPub JSON response; other responses pass through. */
export async function withExpandedPublicAudience(response: Response): Promise<Response> {
  const type = response.headers.get("content-type") ?? "";
  if (response.status !== 200 || !/^application\/(activity|ld)\+json/.test(type)) return response;
  const text = await response.text();
  if (!text.includes("Public")) return new Response(text, response);
  const body = JSON.stringify(expandPublicAudience(JSON.parse(text)));
  const headers = new Headers(response.headers);
  headers.delete("content-length");
  return new Response(body, { status: response.status, statusText: response.statusText, headers });
}
