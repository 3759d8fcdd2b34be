import type { Context } from "@fedify/fedify";
import { QuoteAuthorization } from "@fedify/vocab";
import type { AppData } from "../product/context.ts";
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
