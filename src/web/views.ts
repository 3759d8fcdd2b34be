import { html, raw } from "hono/html";
import type { HtmlEscapedString } from "hono/utils/html";
import type { Post } from "../product/posts.ts";

type Html = HtmlEscapedString | Promise<HtmlEscapedString>;

export interface PageMeta {
  title: string;
  description?: string;
  canonical: URL;
  /** The ActivityPub document of the same resource. */
  activityPub?: URL;
}

const STYLE = `
:root{color-scheme:light dark;--fg:#1b1b1f;--muted:#5d5d6b;--bg:#fbfbfd;--card:#fff;--line:#e3e3ea;--accent:#3b4fd8}
@media (prefers-color-scheme:dark){:root{--fg:#ececf1;--muted:#a3a3b3;--bg:#15151a;--card:#1e1e25;--line:#2e2e38;--accent:#8b9bff}}
*{box-sizing:border-box}body{margin:0;font:16px/1.55 system-ui,-apple-system,"Segoe UI",sans-serif;color:var(--fg);background:var(--bg)}
main{max-width:42rem;margin:0 auto;padding:1.5rem 1rem 4rem}a{color:var(--accent)}
header.profile{padding:1rem 0 1.5rem;border-bottom:1px solid var(--line);margin-bottom:1rem}
header.profile h1{margin:0;font-size:1.6rem}.handle{color:var(--muted);font-family:ui-monospace,monospace;font-size:.95rem}
article{background:var(--card);border:1px solid var(--line);border-radius:.75rem;padding:1rem 1.1rem;margin:0 0 1rem}
article .meta{color:var(--muted);font-size:.875rem;margin-top:.5rem}article .content p{margin:.4rem 0}
details.cw summary{cursor:pointer;font-weight:600}nav.pages{display:flex;justify-content:space-between;margin-top:1rem}
.stats{color:var(--muted);font-size:.95rem}
`;

export function layout(meta: PageMeta, body: Html): Html {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${meta.title}</title>
${meta.description ? html`<meta name="description" content="${meta.description}">` : ""}
<link rel="canonical" href="${meta.canonical.href}">
${meta.activityPub ? html`<link rel="alternate" type="application/activity+json" href="${meta.activityPub.href}">` : ""}
<style>${raw(STYLE)}</style>
</head>
<body><main>${body}</main></body>
</html>`;
}

export interface ProfileView {
  name: string;
  summaryHtml: string;
  handle: string;
  followers: number;
  posts: number;
}

export function profileHeader(p: ProfileView): Html {
  return html`<header class="profile">
<h1>${p.name}</h1>
<div class="handle">${p.handle}</div>
${p.summaryHtml ? html`<div class="bio">${raw(p.summaryHtml)}</div>` : ""}
<p class="stats">${p.posts} ${p.posts === 1 ? "post" : "posts"} · ${p.followers} ${p.followers === 1 ? "follower" : "followers"}</p>
</header>`;
}

export function postArticle(post: Post, url: URL): Html {
  const published = new Date(post.publishedAt);
  const content = html`<div class="content" lang="${post.language}">${raw(post.contentHtml)}</div>`;
  return html`<article>
${post.summary ? html`<details class="cw"><summary>${post.summary}</summary>${content}</details>` : content}
<div class="meta"><a href="${url.href}"><time datetime="${published.toISOString()}">${published.toUTCString()}</time></a>${
    post.updatedAt ? html` · edited` : ""
  }</div>
</article>`;
}
