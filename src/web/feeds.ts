import type { Context } from "@fedify/fedify";
import type { AppData } from "../context.ts";
import type { Post } from "../product/posts.ts";
import type { Profile } from "../product/profile.ts";
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

/** The post's HTML, with its content warning before it, as feed readers cannot hide it. */
function body(post: Post): string {
  return post.summary
    ? `<p><strong>Content warning: ${xml(post.summary)}</strong></p>${post.contentHtml}`
    : post.contentHtml;
}

export function rssFeed(ctx: Context<AppData>, profile: Profile, posts: Post[]): string {
  const home = ctx.data.urls.desk().href;
  const self = new URL("/feed.rss", ctx.data.config.origin).href;
  const items = posts.map((post) => {
    const url = ctx.data.urls.post(post.id).href;
    return `<item><title>${xml(title(post))}</title><link>${xml(url)}</link><guid isPermaLink="true">${xml(url)}</guid><pubDate>${new Date(post.publishedAt).toUTCString()}</pubDate><description>${xml(body(post))}</description></item>`;
  });
  return `<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom">
<channel>
<title>${xml(profile.name)}</title>
<link>${xml(home)}</link>
<description>${xml(plainText(profile.summaryHtml, 500) || `Posts by ${profile.name}`)}</description>
<language>${xml(ctx.data.config.language)}</language>
<atom:link href="${xml(self)}" rel="self" type="application/rss+xml"/>
${posts[0] ? `<lastBuildDate>${new Date(Math.max(...posts.map((p) => p.updatedAt ?? p.publishedAt))).toUTCString()}</lastBuildDate>` : ""}
${items.join("\n")}
</channel>
</rss>
`;
}

export function atomFeed(ctx: Context<AppData>, profile: Profile, posts: Post[]): string {
  const home = ctx.data.urls.desk().href;
  const self = new URL("/feed.atom", ctx.data.config.origin).href;
  const updated = posts.length ? Math.max(...posts.map((p) => p.updatedAt ?? p.publishedAt)) : (profile.updatedAt ?? 0);
  const entries = posts.map((post) => {
    const url = ctx.data.urls.post(post.id).href;
    return `<entry><id>${xml(url)}</id><title>${xml(title(post))}</title><link rel="alternate" type="text/html" href="${xml(url)}"/><published>${new Date(post.publishedAt).toISOString()}</published><updated>${new Date(post.updatedAt ?? post.publishedAt).toISOString()}</updated><content type="html" xml:lang="${xml(post.language)}">${xml(body(post))}</content></entry>`;
  });
  return `<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
<id>${xml(home)}</id>
<title>${xml(profile.name)}</title>
${profile.summary ? `<subtitle>${xml(plainText(profile.summaryHtml, 500))}</subtitle>` : ""}
<link rel="alternate" type="text/html" href="${xml(home)}"/>
<link rel="self" type="application/atom+xml" href="${xml(self)}"/>
<updated>${new Date(updated).toISOString()}</updated>
<author><name>${xml(profile.name)}</name><uri>${xml(home)}</uri></author>
${entries.join("\n")}
</feed>
`;
}
