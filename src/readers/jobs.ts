import type { AppData } from "../product/context.ts";
import { getMedia } from "../product/media.ts";
import type { Post } from "../product/post.ts";
import { getProfile } from "../product/profile.ts";
import { htmlToText } from "../shared/markup.ts";
import { linkToken, type ReaderKeys } from "./keys.ts";
import { composeBody, confirmationBody, type MailBody, personalise } from "./message.ts";
import type { Mail, PushTarget } from "./senders.ts";

/** A reader's row as claimed: enough to build and record their message. */
export interface ReaderRow {
  id: number;
  partition: number;
  /** Email: the recipient's domain; push: the push service's host. */
  host: string;
  dueAt: number;
  sentThrough: number;
  attempts: number;
  /** Email only. */
  address?: string;
  status?: string;
  cadence?: string;
  nonce?: string | null;
  /** Push only. */
  endpoint?: string;
  p256dh?: string;
  auth?: string;
}

/** What a reader's due row comes to: the message (if any), the posts it holds, and what to record after. */
export interface Job {
  posts: Post[];
  /** `sent_through` once sent: the last post's hand-over time. */
  through: number;
  /** When the reader's next message is due (a digest's next period), or null. */
  nextDue: number | null;
  confirmation: boolean;
  mail: Mail | null;
  push: { target: PushTarget; payload: string } | null;
}

const DAY = 86_400_000;
/** Posts in one email at most (a digest), and in one batch; more go in the next message, due at once. */
const DIGEST_POSTS = 100;
const BATCH_POSTS = 20;

/** Bodies made for a set of posts, shared by every reader who gets that set (the common case: all of them). */
const bodies = new Map<string, { at: number; body: Promise<MailBody> }>();
function bodyFor(data: AppData, posts: Post[], digest: "daily" | "weekly" | null): Promise<MailBody> {
  const key = `${digest}:${posts.map((p) => `${p.id}@${p.updatedAt ?? 0}`).join(",")}`;
  const now = Date.now();
  const hit = bodies.get(key);
  if (hit !== undefined && now - hit.at < 60_000) return hit.body;
  if (bodies.size > 200) bodies.clear();
  const body = composeBody(data, posts, digest);
  bodies.set(key, { at: now, body });
  body.catch(() => bodies.delete(key));
  return body;
}

const through = (row: ReaderRow, posts: Post[]) => Math.max(row.sentThrough, ...posts.map((p) => p.queuedAt ?? 0));

export async function emailJob(
  data: AppData,
  keys: ReaderKeys,
  row: ReaderRow,
  postsSince: (limit: number) => Promise<Post[]>,
): Promise<Job> {
  const origin = data.config.origin.origin;
  const name = (await getProfile(data)).name;
  const listId = `${data.config.handle}.${data.config.origin.hostname}`;
  const none = { posts: [], through: row.sentThrough, confirmation: false, push: null };
  if (row.status === "pending") {
    if (!row.nonce || !row.address) return { ...none, nextDue: null, mail: null };
    const link = `${origin}/email/confirm?s=${row.id}&t=${linkToken(keys, "confirm", `${row.id}:${row.nonce}`)}`;
    const body = confirmationBody(name, link);
    return {
      ...none,
      nextDue: null,
      confirmation: true,
      mail: { to: row.address, ...body, unsubscribe: null, listId },
    };
  }
  const digest = row.cadence === "daily" || row.cadence === "weekly" ? row.cadence : null;
  const limit = digest ? DIGEST_POSTS : BATCH_POSTS;
  const posts = await postsSince(limit);
  const period = digest === "daily" ? DAY : 7 * DAY;
  const now = Date.now();
  const nextDue = digest
    ? row.dueAt + period > now
      ? row.dueAt + period
      : now + period
    : posts.length >= limit
      ? now
      : null;
  if (posts.length === 0 || !row.address) return { ...none, nextDue, mail: null };
  const body = await bodyFor(data, posts, digest);
  const token = linkToken(keys, "manage", row.id);
  const manage = (path: string, extra = "") => `${origin}/email/${path}?s=${row.id}&t=${token}${extra}`;
  const links = {
    unsubscribe: manage("unsubscribe"),
    each: manage("cadence", "&c=each"),
    daily: manage("cadence", "&c=daily"),
    weekly: manage("cadence", "&c=weekly"),
  };
  const parts = personalise(body, links, row.cadence ?? "each");
  return {
    posts,
    through: through(row, posts),
    nextDue,
    confirmation: false,
    mail: { to: row.address, subject: body.subject, ...parts, unsubscribe: links.unsubscribe, listId },
    push: null,
  };
}

/**
 * A push for the newest of the posts since the reader's last: its first line,
 * the author's name and avatar, the permalink — as a Declarative Web Push
 * message (Safari 18.4+ shows it itself; other browsers hand it to the
 * service worker, which shows the same thing).
 */
export async function pushJob(
  data: AppData,
  row: ReaderRow,
  postsSince: (limit: number) => Promise<Post[]>,
): Promise<Job> {
  const posts = await postsSince(20);
  const none = { posts: [], through: row.sentThrough, nextDue: null, confirmation: false, mail: null, push: null };
  if (posts.length === 0 || !row.endpoint || !row.p256dh || !row.auth) return none;
  const profile = await getProfile(data);
  const newest = posts[posts.length - 1];
  const avatar =
    profile.avatarMediaId === null
      ? undefined
      : (await getMedia(data, [profile.avatarMediaId])).get(profile.avatarMediaId);
  const text = newest.title
    ? `Statement: ${newest.title}`
    : newest.summary
      ? `Content warning: ${newest.summary}`
      : htmlToText(newest.contentHtml, 140) || "A new post";
  const more = posts.length > 1 ? `${posts.length} new posts. ` : "";
  const url = data.urls.post(newest.id).href;
  const notification = {
    title: profile.name,
    body: `${more}${text}`,
    navigate: url,
    lang: newest.language,
    tag: `lectern-${data.config.handle}`,
    ...(avatar ? { icon: data.urls.media(avatar.previewFile ?? avatar.file).href } : {}),
  };
  return {
    ...none,
    posts,
    through: through(row, posts),
    nextDue: posts.length >= 20 ? Date.now() : null,
    push: {
      target: { endpoint: row.endpoint, p256dh: row.p256dh, auth: row.auth },
      payload: JSON.stringify({ web_push: 8030, notification }),
    },
  };
}
