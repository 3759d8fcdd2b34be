import type { Context } from "@fedify/fedify";
import type { AppData } from "../product/context.ts";
import type { Post } from "../product/posts.ts";
import type { Profile } from "../product/profile.ts";
import { h, htmlToText, join, type Markup, trusted, x, xmlDocument } from "../shared/markup.ts";
import type { ShownAttachment } from "./attachments.ts";

export const FEED_SIZE = 20;

function title(post: Post): string {
  if (post.title !== null) return post.title;
  return post.summary ? `CW: ${post.summary}` : htmlToText(post.contentHtml, 80);
}

/** A post with its pictures and videos, as a feed shows it. */
export interface FeedItem {
  post: Post;
  media: ShownAttachment[];
}

/** Which feed: the account's (default) or a tag's, with its own address and title. */
export interface FeedOptions {
  self?: URL;
  title?: string;
}

/**
 * The post's HTML, with its content warning before it (feed readers cannot
 * hide it), and its pictures inline with their descriptions — unless the
 * post is behind a warning or marked sensitive: then only a link to them.
 */
function body({ post, media: all }: FeedItem): string {
  // A statement's pictures placed in its text are there already.
  const media = all.filter((m) => !post.contentHtml.includes(`src="${m.url}"`));
  const hidden = post.summary !== null || post.sensitive;
  const pictures =
    media.length === 0
      ? null
      : hidden
        ? h(
            "p",
            null,
            h(
              "a",
              { href: media[0].url },
              media.length === 1 ? "Sensitive media" : `${media.length} sensitive media`,
              " (open to view)",
            ),
          )
        : media.map((m) =>
            h(
              "p",
              null,
              m.kind === "image"
                ? h("img", { src: m.url, alt: m.alt, width: m.width || null, height: m.width ? m.height : null })
                : h("a", { href: m.url }, "Video", m.alt ? `: ${m.alt}` : null),
            ),
          );
  const warning = post.summary ? h("p", null, h("strong", null, `Content warning: ${post.summary}`)) : null;
  return join([warning, trusted(post.contentHtml), pictures]).toString();
}

/** Both feeds' title: the tag's, or the account's name. */
function feedTitle(profile: Profile, options: FeedOptions): string {
  return options.title ? `${options.title} · ${profile.name}` : profile.name;
}

/** Media RSS for each file (with its description), and an adult rating when the post is behind a warning. */
function mediaContents({ post, media }: FeedItem): Markup[] {
  const rated = post.sensitive || post.summary !== null;
  return media.map((m) =>
    x(
      "media:content",
      {
        url: m.url,
        type: m.mediaType,
        fileSize: m.size,
        medium: m.kind,
        width: m.width || null,
        height: m.width ? m.height : null,
      },
      m.alt ? x("media:description", null, m.alt) : null,
      rated ? x("media:rating", { scheme: "urn:simple" }, "adult") : null,
    ),
  );
}

export function rssFeed(ctx: Context<AppData>, profile: Profile, items: FeedItem[], options: FeedOptions = {}): string {
  const home = ctx.data.urls.desk().href;
  const self = (options.self ?? ctx.data.urls.feed("rss")).href;
  const posts = items.map((i) => i.post);
  const entries = items.map((item) => {
    const { post, media } = item;
    const url = ctx.data.urls.post(post.id).href;
    // RSS has one enclosure per item (the first file); Media RSS lists them all, with descriptions.
    return x(
      "item",
      null,
      x("title", null, title(post)),
      x("link", null, url),
      x("guid", { isPermaLink: "true" }, url),
      x("pubDate", null, new Date(post.publishedAt).toUTCString()),
      x("description", null, body(item)),
      media[0] ? x("enclosure", { url: media[0].url, length: media[0].size, type: media[0].mediaType }) : null,
      mediaContents(item),
    );
  });
  const lastBuild = posts.length ? Math.max(...posts.map((p) => p.updatedAt ?? p.publishedAt)) : null;
  const channel = x(
    "channel",
    null,
    "\n",
    x("title", null, feedTitle(profile, options)),
    x("link", null, home),
    x("description", null, htmlToText(profile.summaryHtml, 500) || `Posts by ${profile.name}`),
    x("language", null, ctx.data.config.language),
    x("atom:link", { href: self, rel: "self", type: "application/rss+xml" }),
    lastBuild === null ? null : x("lastBuildDate", null, new Date(lastBuild).toUTCString()),
    "\n",
    join(entries, "\n"),
    "\n",
  );
  const rss = x(
    "rss",
    { version: "2.0", "xmlns:atom": "http://www.w3.org/2005/Atom", "xmlns:media": "http://search.yahoo.com/mrss/" },
    channel,
  );
  return xmlDocument(rss);
}

export function atomFeed(
  ctx: Context<AppData>,
  profile: Profile,
  items: FeedItem[],
  options: FeedOptions = {},
): string {
  const home = ctx.data.urls.desk().href;
  const self = (options.self ?? ctx.data.urls.feed("atom")).href;
  const posts = items.map((i) => i.post);
  const updated = posts.length ? Math.max(...posts.map((p) => p.updatedAt ?? p.publishedAt)) : (profile.updatedAt ?? 0);
  const entries = items.map((item) => {
    const { post, media } = item;
    const url = ctx.data.urls.post(post.id).href;
    return x(
      "entry",
      null,
      x("id", null, url),
      x("title", null, title(post)),
      x("link", { rel: "alternate", type: "text/html", href: url }),
      media.map((m) => x("link", { rel: "enclosure", href: m.url, type: m.mediaType, length: m.size })),
      x("published", null, new Date(post.publishedAt).toISOString()),
      x("updated", null, new Date(post.updatedAt ?? post.publishedAt).toISOString()),
      x("content", { type: "html", "xml:lang": post.language }, body(item)),
    );
  });
  const feed = x(
    "feed",
    { xmlns: "http://www.w3.org/2005/Atom" },
    "\n",
    x("id", null, options.self ? self : home),
    x("title", null, feedTitle(profile, options)),
    profile.summary ? x("subtitle", null, htmlToText(profile.summaryHtml, 500)) : null,
    x("link", { rel: "alternate", type: "text/html", href: home }),
    x("link", { rel: "self", type: "application/atom+xml", href: self }),
    x("updated", null, new Date(updated).toISOString()),
    x("author", null, x("name", null, profile.name), x("uri", null, home)),
    "\n",
    join(entries, "\n"),
    "\n",
  );
  return xmlDocument(feed);
}
