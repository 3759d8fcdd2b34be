import { PUBLIC_COLLECTION } from "@fedify/vocab";
import type { AppData } from "../product/context.ts";
import { getMedia } from "../product/media.ts";
import { getPost, type Post } from "../product/posts.ts";

/*
 * The last touches on the JSON Lectern sends and serves, after Fedify's
 * compaction, for what real servers read (INTEROP.md):
 * - the public collection written as its full IRI wherever it names an
 *   audience or an interaction rule (GoToSocial recognises only the full IRI);
 * - interaction rules also under their older names (`always`,
 *   `approvalRequired`), the only ones GoToSocial ≤ 0.19 reads;
 * - attachments with Mastodon's `blurhash` and `focalPoint` (Fedify's
 *   vocabulary has neither, and its compaction would drop them);
 * - our actor's properties Fedify's vocabulary lacks (see ActorTouches).
 */

const PUBLIC_KEYS = new Set([
  "to",
  "cc",
  "bto",
  "bcc",
  "audience",
  "automaticApproval",
  "manualApproval",
  "always",
  "approvalRequired",
  // A relay Follow (Mastodon style) names the Public collection as its object; relays compare the full IRI.
  "object",
]);
const RULES = ["canReply", "canLike", "canAnnounce", "canQuote"];
const LEGACY = { automaticApproval: "always", manualApproval: "approvalRequired" } as const;

/**
 * What our actor gets beyond Fedify's vocabulary, wherever it appears (served,
 * or inside an Update): Mastodon 4.6's `showFeatured`, `showMedia`,
 * `attributionDomains` and `interactionPolicy.canFeature`, and FEP-2c59's
 * `webfinger`.
 */
export interface ActorTouches {
  id: string;
  props: Record<string, unknown>;
}

const ACTOR_CONTEXT = {
  toot: "http://joinmastodon.org/ns#",
  showFeatured: "toot:showFeatured",
  showMedia: "toot:showMedia",
  attributionDomains: { "@id": "toot:attributionDomains", "@type": "@id" },
  webfinger: "https://purl.archive.org/socialweb/webfinger#webfinger",
  gts: "https://gotosocial.org/ns#",
  interactionPolicy: { "@id": "gts:interactionPolicy", "@type": "@id" },
  canFeature: { "@id": "gts:canFeature", "@type": "@id" },
  automaticApproval: { "@id": "gts:automaticApproval", "@type": "@id" },
  always: { "@id": "gts:always", "@type": "@id" },
};

/** The touches of our actor, from the configuration. */
export function actorTouches(data: AppData): ActorTouches {
  const { config, urls } = data;
  const actor = urls.actor().href;
  const featurers = {
    anyone: PUBLIC_COLLECTION.href,
    followers: urls.followers().href,
    nobody: actor,
  }[config.features];
  return {
    id: actor,
    props: {
      webfinger: `${config.handle}@${config.origin.host}`,
      showFeatured: true,
      showMedia: true,
      ...(config.attributionDomains.length > 0 ? { attributionDomains: [...config.attributionDomains] } : {}),
      interactionPolicy: { canFeature: { automaticApproval: featurers, always: featurers } },
    },
  };
}

/** What an attachment gets beyond Fedify's vocabulary, by its URL. */
export type AttachmentExtras = Map<string, { blurhash: string | null; focalPoint: [number, number] | null }>;

const TOOT_CONTEXT = {
  toot: "http://joinmastodon.org/ns#",
  blurhash: "toot:blurhash",
  focalPoint: { "@container": "@list", "@id": "toot:focalPoint" },
};

function isPublic(value: unknown): boolean {
  return value === "as:Public" || value === "Public" || value === PUBLIC_COLLECTION.href;
}

interface Walk {
  extras: AttachmentExtras;
  actor: ActorTouches | undefined;
  used: { toot: boolean; actor: boolean };
}

function walk(value: unknown, key: string | undefined, w: Walk, depth: number): unknown {
  if (depth > 32) return value;
  if (typeof value === "string")
    return key !== undefined && PUBLIC_KEYS.has(key) && isPublic(value) ? PUBLIC_COLLECTION.href : value;
  if (Array.isArray(value)) return value.map((v) => walk(v, key, w, depth + 1));
  if (value === null || typeof value !== "object") return value;
  const { extras, used } = w;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = k === "@context" ? v : walk(v, k, w, depth + 1);
  if (w.actor !== undefined && out.id === w.actor.id && (out.type === "Person" || out.type === "Service")) {
    Object.assign(out, w.actor.props);
    used.actor = true;
  }
  if (key !== undefined && RULES.includes(key)) {
    for (const [now, old] of Object.entries(LEGACY))
      if (out[now] !== undefined && out[old] === undefined) out[old] = out[now];
  }
  const url = typeof out.url === "string" ? out.url : undefined;
  const extra = url === undefined ? undefined : extras.get(url);
  if (extra !== undefined && (out.type === "Image" || out.type === "Video" || out.type === "Document")) {
    if (extra.blurhash) out.blurhash = extra.blurhash;
    if (extra.focalPoint) out.focalPoint = extra.focalPoint;
    used.toot = true;
  }
  return out;
}

/** Applies the touches above to a compacted JSON-LD document. */
export function finishJson(value: unknown, extras: AttachmentExtras = new Map(), actor?: ActorTouches): unknown {
  const used = { toot: false, actor: false };
  const out = walk(value, undefined, { extras, actor, used }, 0);
  if ((used.toot || used.actor) && out !== null && typeof out === "object" && !Array.isArray(out)) {
    const doc = out as Record<string, unknown>;
    const context = doc["@context"];
    doc["@context"] = [
      ...(Array.isArray(context) ? context : context === undefined ? [] : [context]),
      ...(used.toot ? [TOOT_CONTEXT] : []),
      ...(used.actor ? [ACTOR_CONTEXT] : []),
    ];
  }
  return out;
}

/** Blurhash and focal point of the posts' attachments, by URL. */
export async function attachmentExtras(data: AppData, posts: Post[]): Promise<AttachmentExtras> {
  const extras: AttachmentExtras = new Map();
  const attachments = posts.flatMap((p) => p.attachments);
  if (attachments.length === 0) return extras;
  const media = await getMedia(
    data,
    attachments.map((a) => a.mediaId),
  );
  for (const a of attachments) {
    const m = media.get(a.mediaId);
    if (m === undefined) continue;
    extras.set(data.urls.media(m.file).href, { blurhash: m.blurhash, focalPoint: a.focus ?? null });
  }
  return extras;
}

/** Our posts a served document shows (its own id, its object's, a collection's items), for their extras. */
async function postsIn(data: AppData, doc: unknown): Promise<Post[]> {
  const ids = new Set<string>();
  const collect = (v: unknown, depth: number) => {
    if (depth > 6 || v === null || typeof v !== "object") return;
    if (Array.isArray(v)) {
      for (const x of v) collect(x, depth + 1);
      return;
    }
    const o = v as Record<string, unknown>;
    // One attachment is compacted to an object, more to a list: either names a post with media.
    if (typeof o.id === "string" && o.attachment !== null && typeof o.attachment === "object") {
      const id = data.urls.parsePost(o.id);
      if (id !== null) ids.add(id);
    }
    for (const k of ["object", "orderedItems", "items", "first"]) collect(o[k], depth + 1);
  };
  collect(doc, 0);
  const posts = await Promise.all([...ids].map((id) => getPost(data.db, id)));
  return posts.filter((p): p is Post => p !== undefined);
}

/** Applies {@link finishJson} to an ActivityPub JSON response; other responses pass through. */
export async function finishResponse(response: Response, data: AppData): Promise<Response> {
  const type = response.headers.get("content-type") ?? "";
  if (response.status !== 200 || !/^application\/(activity|ld)\+json/.test(type)) return response;
  const text = await response.text();
  // Nothing to touch (no audience, rule or attachment): the bytes go out as they are.
  const actor = text.includes('"Person"') || text.includes('"Service"');
  if (!text.includes("Public") && !text.includes('"attachment"') && !actor) return new Response(text, response);
  const doc = JSON.parse(text);
  const extras = text.includes('"attachment"') ? await attachmentExtras(data, await postsIn(data, doc)) : new Map();
  const body = JSON.stringify(finishJson(doc, extras, actor ? actorTouches(data) : undefined));
  const headers = new Headers(response.headers);
  headers.delete("content-length");
  return new Response(body, { status: response.status, statusText: response.statusText, headers });
}
