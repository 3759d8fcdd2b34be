import type { Context } from "@fedify/fedify";
import { type Activity, Note } from "@fedify/vocab";
import type { AppData } from "../product/context.ts";
import type { InteractionRequest } from "../product/outbox.ts";
import { getLivePost } from "../product/posts.ts";

/* What the inbox's listeners share: whose URL is whose, and how we fetch. */

/** A polite request as received, by its ids (what our answer's object is). */
export function receivedRequest(type: InteractionRequest["type"], request: Activity): InteractionRequest {
  return {
    type,
    id: request.id as URL,
    actor: request.actorId as URL,
    object: request.objectId,
    instrument: request.instrumentId,
  };
}

export function isOurActor(ctx: Context<AppData>, uri: URL | null): boolean {
  const parsed = ctx.parseUri(uri);
  return parsed?.type === "actor" && parsed.identifier === ctx.data.config.handle;
}

/** The id of our live post a URL names, or null. */
export async function ourPostId(ctx: Context<AppData>, uri: URL | null): Promise<string | null> {
  const parsed = ctx.parseUri(uri);
  if (parsed?.type !== "object" || parsed.class !== Note) return null;
  const id = parsed.values.id;
  return id !== undefined && (await getLivePost(ctx.data.db, id)) !== undefined ? id : null;
}

/** Fetches signed as our actor (servers with authorized fetch answer nothing else). */
export function signedLoader(ctx: Context<AppData>) {
  return ctx.getDocumentLoader({ identifier: ctx.data.config.handle });
}
