import type { Context } from "@fedify/fedify";
import { AnnounceAuthorization, LikeAuthorization, QuoteAuthorization } from "@fedify/vocab";
import type { Authorization } from "../product/authorizations.ts";
import type { AppData } from "../product/context.ts";
import { mayFeature } from "../product/interaction-rules.ts";
import { getLivePost } from "../product/posts.ts";
import { getStamp } from "../product/quotes.ts";
import { UUID_PATTERN } from "../shared/ids.ts";
import { PATHS } from "../shared/urls.ts";
import { mayFetch } from "./authorize.ts";
import { builder } from "./builder.ts";

// A quote authorization (FEP-044f): servers fetch it to check a quote was allowed.
builder
  .setObjectDispatcher(QuoteAuthorization, PATHS.stamp, async (ctx, { id }) => {
    if (!UUID_PATTERN.test(id)) return null;
    const stamp = await getStamp(ctx.data.db, id);
    if (stamp === undefined) return null;
    return new QuoteAuthorization({
      id: stampUrl(ctx, stamp.id),
      attribution: ctx.getActorUri(ctx.data.config.handle),
      interactingObject: new URL(stamp.quoteIri),
      interactionTarget: ctx.data.urls.post(stamp.postId),
    });
  })
  .authorize((ctx) => mayFetch(ctx));

export function stampUrl(ctx: Context<AppData>, id: string): URL {
  return ctx.getObjectUri(QuoteAuthorization, { id });
}

const GTS_CONTEXT = {
  gts: "https://gotosocial.org/ns#",
  FeatureAuthorization: "gts:FeatureAuthorization",
  interactingObject: { "@id": "gts:interactingObject", "@type": "@id" },
  interactionTarget: { "@id": "gts:interactionTarget", "@type": "@id" },
};

/**
 * A boost, like or featuring we authorized, as served at its id for third
 * parties to check; null when it no longer holds (revoked, its post deleted,
 * or the rule changed since: likes refused, featuring narrowed).
 */
export async function authorizationDocument(ctx: Context<AppData>, a: Authorization): Promise<unknown | null> {
  const { config, urls, db } = ctx.data;
  if (a.revokedAt !== null) return null;
  if (a.kind === "like" && config.likes !== "counted") return null;
  if (a.kind === "feature" && !(await mayFeature(ctx.data, a.actorIri))) return null;
  const values = {
    id: urls.authorization(a.id),
    attribution: urls.actor(),
    interactingObject: new URL(a.interactingIri),
    interactionTarget: a.postId === null ? urls.actor() : urls.post(a.postId),
  };
  if (a.kind === "feature") {
    return {
      "@context": ["https://www.w3.org/ns/activitystreams", GTS_CONTEXT],
      id: values.id.href,
      type: "FeatureAuthorization",
      attributedTo: values.attribution.href,
      interactingObject: values.interactingObject.href,
      interactionTarget: values.interactionTarget.href,
    };
  }
  if (a.postId === null || (await getLivePost(db, a.postId)) === undefined) return null;
  const object = a.kind === "announce" ? new AnnounceAuthorization(values) : new LikeAuthorization(values);
  return await object.toJsonLd({ format: "compact", contextLoader: ctx.contextLoader });
}
