import type { Context } from "@fedify/fedify";
import { verifyRequest } from "@fedify/fedify";
import { getLogger } from "@logtape/logtape";
import type { AppData } from "../product/context.ts";
import { mayFeature } from "../product/interaction-rules.ts";
import type { InteractionRequest } from "../product/outbox.ts";
import { refuseUrl } from "../shared/http-client.ts";
import { isOurActor, signedLoader } from "./inbox-common.ts";
import { answer, firstAsking } from "./interactions.ts";
import { softwareOf, understandsReplyReject } from "./software.ts";

/*
 * Mastodon 4.6's Collections ask before featuring an account:
 * FeatureRequest{object: our actor, instrument: their collection}, answered
 * by the `features` rule with Accept{result: FeatureAuthorization} or Reject.
 * Fedify's vocabulary has no FeatureRequest (a context that names it makes
 * Fedify's parser refuse the activity), so it is read here from its JSON,
 * after the request's signature is verified as Fedify verifies any other
 * (draft-cavage or RFC 9421 with its Content-Digest).
 */

const logger = getLogger(["lectern", "inbox"]);

/** The activity types handled here rather than by Fedify's listeners (and any other `*Request`). */
const OWN_TYPES = ["FeatureRequest"] as const;

/** Whether an activity type is read here: FeatureRequest, or a polite request of a type nobody listens for. */
export function isOwnType(type: string, inbound: boolean): boolean {
  return (OWN_TYPES as readonly string[]).includes(type) || (!inbound && /^[A-Z]\w{0,40}Request$/.test(type));
}

/** An activity read here, its signature verified: a FeatureRequest, or a request of a type we do not know. */
export async function onOwnActivity(ctx: Context<AppData>, activity: Record<string, unknown>): Promise<void> {
  if (activity.type === "FeatureRequest") return await onFeatureRequested(ctx, activity);
  const request = readRequest(activity, "OtherRequest");
  if (request === null) return;
  // Refused where the sender's software reads a Reject of a request (GoToSocial, which sends them); once.
  if (!understandsReplyReject(await softwareOf(ctx.data, request.actor.origin).catch(() => null))) return;
  if (!(await firstAsking(ctx.data, "other-request", request.actor, request.id.href))) return;
  await answer(ctx, request, "feature", null, false);
}

/** Verifies the request's signature; the signer must be the activity's actor. 401 reasons otherwise. */
export async function verifiedSigner(ctx: Context<AppData>, request: Request, actor: string): Promise<string | null> {
  const key = await verifyRequest(request, {
    documentLoader: await signedLoader(ctx),
    contextLoader: ctx.contextLoader,
  }).catch(() => null);
  if (key === null) return "the request's signature could not be verified";
  if (key.ownerId?.href !== actor) return "the request is not signed by its actor";
  return null;
}

/** A FeatureRequest, read from its JSON (its signature already verified). */
export async function onFeatureRequested(ctx: Context<AppData>, activity: Record<string, unknown>): Promise<void> {
  const request = readRequest(activity, "FeatureRequest");
  if (request === null || !isOurActor(ctx, request.object)) return;
  const collection = request.instrument as URL;
  // The collection lives on the asker's server, at a public address: nothing else is asked about.
  if (collection.host !== request.actor.host || refuseUrl(collection, ctx.data.config.allowPrivateAddress)) {
    logger.info("Ignoring a FeatureRequest for a collection elsewhere: {collection}", { collection: collection.href });
    return;
  }
  if (!(await firstAsking(ctx.data, "feature", request.actor, collection.href))) return;
  await answer(ctx, request, "feature", null, await mayFeature(ctx.data, request.actor.href));
}

function readRequest(activity: Record<string, unknown>, type: InteractionRequest["type"]): InteractionRequest | null {
  const url = (v: unknown): URL | null => {
    const id = typeof v === "string" ? v : v !== null && typeof v === "object" ? (v as { id?: unknown }).id : null;
    if (typeof id !== "string" || !/^https?:\/\//.test(id)) return null;
    try {
      return new URL(id);
    } catch {
      return null;
    }
  };
  const [id, actor, object, instrument] = [activity.id, activity.actor, activity.object, activity.instrument].map(url);
  if (id === null || actor === null || object === null || instrument === null || id.host !== actor.host) return null;
  return { type, id, actor, object, instrument };
}
