import { isDomainBlocked } from "../product/blocks.ts";
import type { AppData } from "../product/context.ts";
import { getFollower } from "../product/followers.ts";
import { getFollowing } from "../product/following.ts";
import { getProfile } from "../product/profile.ts";
import { isRelayActor, relayByFollow } from "../product/relays.ts";
import { isOwnType } from "./features.ts";
import { type InboundType, isInbound } from "./inbound.ts";

export type Triage =
  /** Answer 202 at once: nothing to do, so no signature check, no fetch, nothing stored. */
  | { action: "drop" }
  /** Answer with this 4xx and a short reason. */
  | { action: "refuse"; status: 400 | 403; reason: string }
  /** Hand to Fedify (signature verification, then our listeners); `server` is the sender's host. */
  | { action: "pass"; server: string }
  /** Verify the signature and handle it ourselves (a type Fedify's vocabulary cannot read: features.ts). */
  | { action: "own"; server: string; actor: string; activity: Record<string, unknown> };

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

  if (isOwnType(type, isInbound(type)))
    return isOurs(data, activity.object) || data.urls.isUnderPosts(idOf(activity.object) ?? "")
      ? { action: "own", server: actorUrl.host, actor, activity }
      : { action: "drop" };
  if (!isInbound(type)) return { action: "drop" }; // chatter: nobody listens for it
  return await TRIAGE[type]({ data, actor, activity, server: actorUrl.host });
}

interface Arrival {
  data: AppData;
  actor: string;
  activity: Record<string, unknown>;
  server: string;
}

const pass = (a: Arrival): Triage => ({ action: "pass", server: a.server });
const drop: Triage = { action: "drop" };
const ours = (a: Arrival, value: unknown) => {
  const id = idOf(value);
  return id !== undefined && a.data.urls.isUnderPosts(id);
};
const fromFollower = async (a: Arrival) => (await getFollower(a.data.db, a.actor)) !== undefined;
const objectOf = (a: Arrival) =>
  a.activity.object !== null && typeof a.activity.object === "object"
    ? (a.activity.object as Record<string, unknown>)
    : undefined;

/**
 * Whether an activity of each inbound type (inbound.ts) reaches its listener:
 * what can change something or needs an answer does; the rest is dropped.
 */
const TRIAGE: Record<InboundType, (a: Arrival) => Promise<Triage> | Triage> = {
  Follow: pass,
  QuoteRequest: pass,
  ReplyRequest: pass,
  AnnounceRequest: (a) => (ours(a, a.activity.object) ? pass(a) : drop),
  // Answered either way (granted or refused, by the likes rule): a request gets an answer.
  LikeRequest: (a) => (ours(a, a.activity.object) ? pass(a) : drop),
  // A bare Like changes something only when likes are counted.
  Like: (a) => (a.data.config.likes === "counted" && ours(a, a.activity.object) ? pass(a) : drop),
  // A reply to one of our posts is answered (with a Reject); everything else created elsewhere is not ours.
  Create: (a) => (ours(a, objectOf(a)?.inReplyTo) ? pass(a) : drop),
  // A relay forwarding our own post back is not a boost.
  Announce: async (a) => (ours(a, a.activity.object) && !(await isRelayActor(a.data.db, a.actor)) ? pass(a) : drop),
  // A follower leaving, or a boost or like taken back.
  Undo: async (a) =>
    (await fromFollower(a)) || ["Announce", "Like", "LikeRequest"].includes(firstType(objectOf(a)?.type) ?? "")
      ? pass(a)
      : drop,
  Delete: async (a) => ((await fromFollower(a)) ? pass(a) : drop),
  Update: async (a) => ((await fromFollower(a)) ? pass(a) : drop),
  // Answers to our own Follow (a bridge or a relay we follow); anyone else's are noise.
  Accept: async (a) => ((await answersOurFollow(a)) ? pass(a) : drop),
  Reject: async (a) => ((await answersOurFollow(a)) ? pass(a) : drop),
  // One of the author's other accounts moving here.
  Move: async (a) => ((await getProfile(a.data)).aliases.includes(a.actor) ? pass(a) : drop),
};

async function answersOurFollow(a: Arrival): Promise<boolean> {
  if ((await getFollowing(a.data.db, a.actor)) !== undefined) return true;
  const follow = idOf(a.activity.object);
  return follow !== undefined && (await relayByFollow(a.data.db, follow)) !== undefined;
}

/** The inbound types triage has a rule for (a test checks they are the ones the inbox listens for). */
export const TRIAGED_TYPES = Object.keys(TRIAGE);

/** Whether an activity's object is our actor. */
function isOurs(data: AppData, value: unknown): boolean {
  return idOf(value) === data.urls.actor().href;
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
