import type { Context } from "@fedify/fedify";
import {
  Article,
  Collection,
  CollectionPage,
  Create,
  Delete,
  type Document,
  Hashtag,
  Image,
  InteractionPolicy,
  InteractionRule,
  LanguageString,
  Note,
  PUBLIC_COLLECTION,
  Tombstone,
  Update,
  Video,
} from "@fedify/vocab";
import type { AppData } from "../product/context.ts";
import { getMedia, type Media } from "../product/media.ts";
import { statementSummary } from "../product/post.ts";
import { type Attachment, getLivePost, listContinuations, type Post } from "../product/posts.ts";
import { UUID_PATTERN } from "../shared/ids.ts";
import { escapeText } from "../shared/markup.ts";
import { Temporal } from "../shared/temporal.ts";
import { PATHS } from "../shared/urls.ts";
import { mayFetch } from "./authorize.ts";
import { builder } from "./builder.ts";

builder
  .setObjectDispatcher(Note, PATHS.post, async (ctx, { id }) => {
    if (!UUID_PATTERN.test(id)) return null;
    // A deleted post falls through to the web routes, which answer 410 Gone.
    const post = await getLivePost(ctx.data.db, id);
    // A statement is an Article at the same address (Fedify serializes what the dispatcher returns).
    return post === undefined ? null : ((await noteFromPost(ctx, post)) as Note);
  })
  .authorize((ctx) => mayFetch(ctx));

builder
  .setObjectDispatcher(Create, PATHS.postActivity, async (ctx, { id }) => {
    if (!UUID_PATTERN.test(id)) return null;
    const post = await getLivePost(ctx.data.db, id);
    return post === undefined ? null : createFromPost(ctx, post);
  })
  .authorize((ctx) => mayFetch(ctx));

/**
 * The post as ActivityStreams: a `Note`, or for a statement an `Article` whose `name` is its title and
 * whose `summary` its first paragraph — what Mastodon shows of an Article (title, summary, link) reads on
 * its own; servers that show `content` get the whole text, led by the title.
 */
export async function noteFromPost(ctx: Context<AppData>, post: Post): Promise<Note | Article> {
  const { config, urls } = ctx.data;
  const id = urls.post(post.id);
  const replies = urls.replies(post.id);
  // The only replies are the author's own continuations (a thread); nobody else's are stored.
  const continuations = (await listContinuations(ctx.data.db, post.id)).map((c) => urls.post(c));
  const values = {
    // A continuation answers the author's previous post, in the conversation of the thread's first one.
    replyTarget: post.inReplyTo === null ? null : urls.post(post.inReplyTo),
    contexts: [urls.thread(post.threadRoot ?? post.id)],
    id,
    attribution: ctx.getActorUri(config.handle),
    contents: [post.contentHtml, new LanguageString(post.contentHtml, post.language)],
    summary: post.summary,
    sensitive: post.sensitive,
    published: Temporal.Instant.fromEpochMilliseconds(post.publishedAt),
    updated: post.updatedAt == null ? null : Temporal.Instant.fromEpochMilliseconds(post.updatedAt),
    url: id,
    to: PUBLIC_COLLECTION,
    cc: ctx.getFollowersUri(config.handle),
    tags: post.hashtags.map((tag) => new Hashtag({ name: `#${tag}`, href: urls.tag(tag) })),
    attachments: await attachmentObjects(ctx.data, post.attachments),
    interactionPolicy: interactionPolicy(ctx),
    replies: new Collection({
      id: replies,
      totalItems: continuations.length,
      first: new CollectionPage({ id: new URL(`${replies.href}?page=true`), partOf: replies, items: continuations }),
    }),
  };
  if (post.title === null) return new Note(values);
  // Servers that show an Article's content but not its name (GoToSocial takes the summary as a content
  // warning and drops the name) still show the title: it leads the content. Mastodon shows name and summary.
  const led = `<p><strong>${escapeText(post.title)}</strong></p>${post.contentHtml}`;
  return new Article({
    ...values,
    contents: [led, new LanguageString(led, post.language)],
    names: [post.title, new LanguageString(post.title, post.language)],
    // AS2's summary is HTML, as its content is: the plain first paragraph, escaped.
    summary: escapeText(statementSummary(post)),
    sensitive: false,
  });
}

export async function createFromPost(ctx: Context<AppData>, post: Post): Promise<Create> {
  const note = await noteFromPost(ctx, post);
  return new Create({
    id: ctx.data.urls.postCreate(post.id),
    actor: note.attributionId,
    object: note,
    published: note.published,
    tos: note.toIds,
    ccs: note.ccIds,
  });
}

/** An edit: servers apply it only when the Note's `updated` is newer than what they have. */
export async function updateFromPost(ctx: Context<AppData>, post: Post): Promise<Update> {
  const note = await noteFromPost(ctx, post);
  return new Update({
    id: ctx.data.urls.postUpdate(post.id, post.updatedAt ?? post.publishedAt),
    actor: note.attributionId,
    object: note,
    published: note.updated ?? note.published,
    tos: note.toIds,
    ccs: note.ccIds,
  });
}

export function deleteFromPost(ctx: Context<AppData>, post: Post, deletedAt: number): Delete {
  const id = ctx.data.urls.post(post.id);
  const handle = ctx.data.config.handle;
  return new Delete({
    id: ctx.data.urls.postDelete(post.id),
    actor: ctx.getActorUri(handle),
    object: new Tombstone({ id, deleted: Temporal.Instant.fromEpochMilliseconds(deletedAt) }),
    to: PUBLIC_COLLECTION,
    cc: ctx.getFollowersUri(handle),
  });
}

/**
 * The post's pictures and videos as ActivityStreams objects, with alt text
 * (`name`) and size. Fedify 2.3's vocabulary has no `blurhash` or
 * `focalPoint`: those stay on our pages (Mastodon computes its own blurhash).
 */
export async function attachmentObjects(
  data: AppData,
  attachments: Attachment[],
): Promise<(Image | Video | Document)[]> {
  const found = await getMedia(
    data,
    attachments.map((a) => a.mediaId),
  );
  return attachments.flatMap((a): (Image | Video | Document)[] => {
    const m: Media | undefined = found.get(a.mediaId);
    if (m === undefined) return [];
    const values = {
      url: data.urls.media(m.file),
      mediaType: m.mediaType,
      name: a.alt || null,
      width: m.width,
      height: m.height,
    };
    if (m.kind === "image") return [new Image(values)];
    return [
      new Video({
        ...values,
        duration: m.durationMs === null ? null : Temporal.Duration.from({ milliseconds: m.durationMs }),
        icon:
          m.previewFile === null
            ? null
            : new Image({
                url: data.urls.media(m.previewFile),
                mediaType: "image/webp",
                width: m.previewWidth,
                height: m.previewHeight,
              }),
      }),
    ];
  });
}

/**
 * The channel's rules, on every Note: replies only by the author, boosts by
 * anyone, likes and quotes as configured. GoToSocial enforces all of it;
 * Mastodon 4.4+ reads `canQuote` (and treats a missing one as "nobody").
 */
export function interactionPolicy(ctx: Context<AppData>): InteractionPolicy {
  const author = ctx.getActorUri(ctx.data.config.handle);
  return new InteractionPolicy({
    canReply: new InteractionRule({ automaticApproval: author }),
    canLike: new InteractionRule({
      automaticApproval: ctx.data.config.likes === "counted" ? PUBLIC_COLLECTION : author,
    }),
    canAnnounce: new InteractionRule({ automaticApproval: PUBLIC_COLLECTION }),
    canQuote: new InteractionRule({
      automaticApproval: ctx.data.config.quotes === "anyone" ? PUBLIC_COLLECTION : author,
    }),
  });
}
