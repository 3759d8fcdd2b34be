import type { AppData } from "../../product/context.ts";
import { countFollowers } from "../../product/followers.ts";
import { actorCreatedAt } from "../../product/instance.ts";
import { getMedia } from "../../product/media.ts";
import { countPosts, type Post } from "../../product/posts.ts";
import { getProfile } from "../../product/profile.ts";
import { escapeText } from "../../shared/markup.ts";
import { showAttachments } from "../attachments.ts";

/** The account's id in the API: there is one account. */
export const ACCOUNT_ID = "1";

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** The author's account in Mastodon's JSON shape (`source` too, for verify_credentials). */
export async function accountJson(data: AppData, withSource = false): Promise<Record<string, unknown>> {
  const profile = await getProfile(data);
  const pictures = await getMedia(
    data,
    [profile.avatarMediaId, profile.headerMediaId].filter((x): x is string => x !== null),
  );
  const picture = (id: string | null) => {
    const m = id === null ? undefined : pictures.get(id);
    return m === undefined ? new URL("/assets/none.png", data.urls.origin).href : data.urls.media(m.file).href;
  };
  const fields = profile.fields.map((f) => ({ name: f.name, value: f.value, verified_at: null }));
  const account: Record<string, unknown> = {
    id: ACCOUNT_ID,
    username: data.config.handle,
    acct: data.config.handle,
    display_name: profile.name,
    locked: profile.approveFollowers,
    bot: profile.bot,
    discoverable: true,
    indexable: true,
    group: false,
    noindex: false,
    created_at: iso(await actorCreatedAt(data.db)),
    note: profile.summaryHtml,
    url: data.urls.desk().href,
    uri: data.urls.actor().href,
    avatar: picture(profile.avatarMediaId),
    avatar_static: picture(profile.avatarMediaId),
    header: picture(profile.headerMediaId),
    header_static: picture(profile.headerMediaId),
    followers_count: await countFollowers(data.db),
    following_count: 0,
    statuses_count: await countPosts(data.db),
    last_status_at: null,
    emojis: [],
    fields,
    moved: null,
  };
  if (withSource) {
    account.source = {
      privacy: "public",
      sensitive: false,
      language: data.config.language,
      note: profile.summary,
      fields: profile.fields.map((f) => ({ name: f.name, value: f.value, verified_at: null })),
      follow_requests_count: await countFollowers(data.db, "pending"),
    };
  }
  return account;
}

export interface MediaNote {
  description: string;
  focus: [number, number] | null;
}

/** A picture or video as Mastodon describes it. */
export function attachmentJson(
  m: {
    mediaId: string;
    kind: string;
    url: string;
    previewUrl: string | null;
    width: number | null;
    height: number | null;
  },
  note: MediaNote,
  blurhash: string | null = null,
): Record<string, unknown> {
  return {
    id: m.mediaId,
    type: m.kind === "video" ? "video" : "image",
    url: m.url,
    preview_url: m.previewUrl ?? m.url,
    remote_url: null,
    text_url: null,
    description: note.description || null,
    blurhash,
    meta: {
      original: m.width && m.height ? { width: m.width, height: m.height, aspect: m.width / m.height } : {},
      ...(note.focus ? { focus: { x: note.focus[0], y: note.focus[1] } } : {}),
    },
  };
}

/** A post as a Mastodon status (the account embedded). */
export async function statusJson(
  data: AppData,
  post: Post,
  account?: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  const url = data.urls.post(post.id).href;
  const media = await showAttachments(data, post.attachments);
  return {
    id: post.id,
    uri: url,
    url,
    created_at: iso(post.publishedAt),
    edited_at: iso(post.updatedAt),
    in_reply_to_id: post.inReplyTo,
    in_reply_to_account_id: post.inReplyTo === null ? null : ACCOUNT_ID,
    sensitive: post.sensitive,
    spoiler_text: post.summary ?? "",
    visibility: "public",
    language: post.language,
    replies_count: 0,
    reblogs_count: post.boosts,
    favourites_count: 0,
    favourited: false,
    reblogged: false,
    muted: false,
    bookmarked: false,
    pinned: post.pinnedAt !== null,
    // Apps show no title: a statement's leads its text, as Mastodon shows an Article's.
    content:
      post.title === null ? post.contentHtml : `<p><strong>${escapeText(post.title)}</strong></p>${post.contentHtml}`,
    filtered: [],
    reblog: null,
    application: null,
    account: account ?? (await accountJson(data)),
    media_attachments: media.map((m) => {
      const a = post.attachments.find((x) => x.mediaId === m.mediaId);
      return attachmentJson(m, { description: m.alt, focus: a?.focus ?? null });
    }),
    mentions: [],
    tags: post.hashtags.map((name) => ({ name, url: data.urls.tag(name).href })),
    emojis: [],
    card: null,
    poll: null,
  };
}
