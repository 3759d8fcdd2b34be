import type { Context } from "@fedify/fedify";
import type { AppData } from "../context.ts";
import type { Post } from "../product/posts.ts";
import type { Profile } from "../product/profile.ts";
import type { ShownAttachment } from "./attachments.ts";
import { plainText } from "./views/layout.ts";

export const FEED_SIZE = 20;

function xml(text: string): string {
  return text.replace(
    /[<>&'"]/g,
    (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", "'": "&apos;", '"': "&quot;" })[c] as string,
  );
}

function title(post: Post): string {
  return post.summary ? `CW: ${post.summary}` : plainText(post.contentHtml, 80);
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
function body({ post, media }: FeedItem): string {
  const warning = post.summary ? `<p><strong>Content warning: ${xml(post.summary)}</strong></p>` : "";
  const hidden = post.summary !== null || post.sensitive;
  const pictures =
    media.length === 0
      ? ""
      : hidden
        ? `<p><a href="${xml(media[0].url)}">${media.length === 1 ? "Sensitive media" : `${media.length} sensitive media`} (open to view)</a></p>`
        : media
            .map((m) =>
              m.kind === "image"
                ? `<p><img src="${xml(m.url)}" alt="${xml(m.alt)}"${m.width ? ` width="${m.width}" height="${m.height}"` : ""}></p>`
                : `<p><a href="${xml(m.url)}">Video${m.alt ? `: ${xml(m.alt)}` : ""}</a></p>`,
            )
            .join("");
  return `${warning}${post.contentHtml}${pictures}`;
}

export function rssFeed(ctx: Context<AppData>, profile: Profile, items: FeedItem[], options: FeedOptions = {}): string {
  const home = ctx.data.urls.desk().href;
  const self = (options.self ?? ctx.data.urls.feed("rss")).href;
  const posts = items.map((i) => i.post);
  const entries = items.map((item) => {
    const { post, media } = item;
    const url = ctx.data.urls.post(post.id).href;
    // RSS has one enclosure per item (the first file); Media RSS lists them all, with descriptions.
    const enclosure = media[0]
      ? `<enclosure url="${xml(media[0].url)}" length="${media[0].size}" type="${xml(media[0].mediaType)}"/>`
      : "";
    const contents = media
      .map(
        (m) =>
          `<media:content url="${xml(m.url)}" type="${xml(m.mediaType)}" fileSize="${m.size}" medium="${m.kind}"${m.width ? ` width="${m.width}" height="${m.height}"` : ""}>${m.alt ? `<media:description>${xml(m.alt)}</media:description>` : ""}${post.sensitive || post.summary ? '<media:rating scheme="urn:simple">adult</media:rating>' : ""}</media:content>`,
      )
      .join("");
    return `<item><title>${xml(title(post))}</title><link>${xml(url)}</link><guid isPermaLink="true">${xml(url)}</guid><pubDate>${new Date(post.publishedAt).toUTCString()}</pubDate><description>${xml(body(item))}</description>${enclosure}${contents}</item>`;
  });
  return `<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom" xmlns:media="http://search.yahoo.com/mrss/">
<channel>
<title>${xml(options.title ? `${options.title} · ${profile.name}` : profile.name)}</title>
<link>${xml(home)}</link>
<description>${xml(plainText(profile.summaryHtml, 500) || `Posts by ${profile.name}`)}</description>
<language>${xml(ctx.data.config.language)}</language>
<atom:link href="${xml(self)}" rel="self" type="application/rss+xml"/>
${posts[0] ? `<lastBuildDate>${new Date(Math.max(...posts.map((p) => p.updatedAt ?? p.publishedAt))).toUTCString()}</lastBuildDate>` : ""}
${entries.join("\n")}
</channel>
</rss>
`;
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
    const enclosures = media
      .map((m) => `<link rel="enclosure" href="${xml(m.url)}" type="${xml(m.mediaType)}" length="${m.size}"/>`)
      .join("");
    return `<entry><id>${xml(url)}</id><title>${xml(title(post))}</title><link rel="alternate" type="text/html" href="${xml(url)}"/>${enclosures}<published>${new Date(post.publishedAt).toISOString()}</published><updated>${new Date(post.updatedAt ?? post.publishedAt).toISOString()}</updated><content type="html" xml:lang="${xml(post.language)}">${xml(body(item))}</content></entry>`;
  });
  return `<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
<id>${xml(options.self ? self : home)}</id>
<title>${xml(options.title ? `${options.title} · ${profile.name}` : profile.name)}</title>
${profile.summary ? `<subtitle>${xml(plainText(profile.summaryHtml, 500))}</subtitle>` : ""}
<link rel="alternate" type="text/html" href="${xml(home)}"/>
<link rel="self" type="application/atom+xml" href="${xml(self)}"/>
<updated>${new Date(updated).toISOString()}</updated>
<author><name>${xml(profile.name)}</name><uri>${xml(home)}</uri></author>
${entries.join("\n")}
</feed>
`;
}
