import type { AppData } from "../context.ts";
import { isDomainBlocked } from "../product/blocks.ts";
import { getFollower } from "../product/followers.ts";
import { getFollowing } from "../product/following.ts";
import { getProfile } from "../product/profile.ts";

export type Triage =
  /** Answer 202 at once: nothing to do, so no signature check, no fetch, nothing stored. */
  | { action: "drop" }
  /** Answer with this 4xx and a short reason. */
  | { action: "refuse"; status: 400 | 403; reason: string }
  /** Hand to Fedify (signature verification, then our listeners); `server` is the sender's host. */
  | { action: "pass"; server: string };

const MAX_DEPTH = 32;
const MAX_CONTEXTS = 8;

/**
 * Decides what an inbox POST deserves before any expensive work. Only what
 * can change something or needs an answer is verified and processed: follows
 * and their undoing, replies to our posts (answered with Reject), reply and
 * quote requests, boosts of our posts (counted), and what followers send
 * about themselves. The rest of the fediverse's chatter is dropped cheaply.
 */
export async function triageInbox(data: AppData, body: string): Promise<Triage> {
  let doc: unknown;
  try {
    doc = JSON.parse(body);
  } catch (e) {
    return { action: "refuse", status: 400, reason: `malformed JSON: ${(e as Error).message}` };
  }
  if (doc === null || typeof doc !== "object" || Array.isArray(doc))
    return { action: "refuse", status: 400, reason: "an activity must be a JSON object" };
  if (tooDeep(doc)) return { action: "refuse", status: 400, reason: `nested more than ${MAX_DEPTH} levels deep` };
  const activity = doc as Record<string, unknown>;
  // Each unknown context is a fetch: real servers use a handful.
  const contexts = [activity["@context"]].flat();
  if (contexts.length > MAX_CONTEXTS)
    return { action: "refuse", status: 400, reason: `more than ${MAX_CONTEXTS} @context entries` };
  if (contexts.some((c) => typeof c === "string" && !/^https?:\/\//.test(c)))
    return { action: "refuse", status: 400, reason: "an @context entry is not an http(s) URL" };
  const type = firstType(activity.type);
  if (type === undefined) return { action: "refuse", status: 400, reason: "the activity has no type" };
  const actor = idOf(activity.actor);
  if (actor === undefined) return { action: "refuse", status: 400, reason: "the activity has no actor" };
  let actorUrl: URL;
  try {
    actorUrl = new URL(actor);
  } catch {
    return { action: "refuse", status: 400, reason: "the actor is not a URL" };
  }
  if (await isDomainBlocked(data.db, actorUrl.host))
    return { action: "refuse", status: 403, reason: "this server is blocked" };

  const ours = (value: unknown) => {
    const id = idOf(value);
    return id !== undefined && data.urls.isUnderPosts(id);
  };
  const isFollower = async () => (await getFollower(data.db, actor)) !== undefined;
  const object = activity.object;
  switch (type) {
    case "Follow":
    case "QuoteRequest":
    case "ReplyRequest":
      return { action: "pass", server: actorUrl.host };
    case "Create": {
      const inReplyTo =
        object !== null && typeof object === "object" ? (object as Record<string, unknown>).inReplyTo : undefined;
      return ours(inReplyTo) ? { action: "pass", server: actorUrl.host } : { action: "drop" };
    }
    case "Announce":
      return ours(object) ? { action: "pass", server: actorUrl.host } : { action: "drop" };
    case "Undo":
      return (await isFollower()) ||
        (object !== null &&
          typeof object === "object" &&
          firstType((object as Record<string, unknown>).type) === "Announce")
        ? { action: "pass", server: actorUrl.host }
        : { action: "drop" };
    case "Delete":
    case "Update":
      return (await isFollower()) ? { action: "pass", server: actorUrl.host } : { action: "drop" };
    case "Accept":
    case "Reject":
      // Answers to our own Follow (a bridge we follow); anyone else's are noise.
      return (await getFollowing(data.db, actor)) !== undefined
        ? { action: "pass", server: actorUrl.host }
        : { action: "drop" };
    case "Move":
      // One of the author's other accounts moving here.
      return (await getProfile(data)).aliases.includes(actor)
        ? { action: "pass", server: actorUrl.host }
        : { action: "drop" };
    default:
      return { action: "drop" };
  }
}

function firstType(value: unknown): string | undefined {
  if (typeof value === "string")
    return value.replace(/^(as|https:\/\/www\.w3\.org\/ns\/activitystreams#)/, "").replace(/^:/, "") || undefined;
  if (Array.isArray(value)) for (const v of value) if (typeof v === "string") return firstType(v);
  return undefined;
}

function idOf(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (value !== null && typeof value === "object" && !Array.isArray(value)) {
    const id = (value as Record<string, unknown>).id;
    return typeof id === "string" ? id : undefined;
  }
  if (Array.isArray(value) && value.length > 0) return idOf(value[0]);
  return undefined;
}

function tooDeep(root: object): boolean {
  const stack: [unknown, number][] = [[root, 0]];
  while (stack.length > 0) {
    const [value, depth] = stack.pop() as [unknown, number];
    if (depth > MAX_DEPTH) return true;
    if (value !== null && typeof value === "object") {
      for (const child of Object.values(value))
        if (child !== null && typeof child === "object") stack.push([child, depth + 1]);
    }
  }
  return false;
}
