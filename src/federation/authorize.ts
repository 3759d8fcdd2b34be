import type { RequestContext } from "@fedify/fedify";
import { isBlocked } from "../product/blocks.ts";
import type { AppData } from "../product/context.ts";

/**
 * With authorized fetch on, ActivityPub documents (posts, collections,
 * stamps) are served only to requests signed by servers that are not
 * blocked. The actor stays public: servers fetch it to verify our signatures.
 */
export async function mayFetch(ctx: RequestContext<AppData>): Promise<boolean> {
  if (!ctx.data.config.authorizedFetch) return true;
  const owner = await ctx.getSignedKeyOwner({
    documentLoader: await ctx.getDocumentLoader({ identifier: ctx.data.config.handle }),
  });
  return owner?.id != null && !(await isBlocked(ctx.data.db, owner.id));
}
