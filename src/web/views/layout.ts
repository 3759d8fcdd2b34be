import { html, raw } from "hono/html";
import type { HtmlEscapedString } from "hono/utils/html";
import { SCRIPT, STYLE } from "../assets.ts";

export type Html = HtmlEscapedString | Promise<HtmlEscapedString>;

export interface PageMeta {
  title: string;
  /** Plain text for link previews and search results. */
  description?: string;
  canonical?: URL;
  /** The ActivityPub document of the same resource. */
  activityPub?: URL;
  /** Link-preview picture. */
  image?: URL;
  ogType?: "website" | "article" | "profile";
  siteName: string;
  /** Feeds to announce. */
  feeds?: { rss: URL; atom: URL };
  /** Profile links the page vouches for (rel="me"). */
  me?: string[];
  published?: Date;
  lang?: string;
  /** Admin pages: not indexed. */
  private?: boolean;
  /** Move on to this address at once (a meta refresh): back to an app after an OAuth consent. */
  refreshTo?: string;
}

export interface Chrome {
  /** Link target of the site name in the top bar. */
  home: string;
  siteName: string;
  /** Present when someone is signed in to the desk: its links (the owner's too for the owner) and a sign-out form. */
  admin?: { csrf: string; username: string; owner: boolean; full: boolean };
}

export function page(meta: PageMeta, chrome: Chrome, body: Html): Html {
  return html`<!doctype html>
<html lang="${meta.lang ?? "en"}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${meta.title}</title>
${meta.private ? html`<meta name="robots" content="noindex, nofollow">` : ""}
${meta.refreshTo ? html`<meta http-equiv="refresh" content="0;url=${meta.refreshTo}">` : ""}
${meta.description ? html`<meta name="description" content="${meta.description}">` : ""}
${meta.canonical ? html`<link rel="canonical" href="${meta.canonical.href}">` : ""}
${meta.activityPub ? html`<link rel="alternate" type="application/activity+json" href="${meta.activityPub.href}">` : ""}
${
  meta.feeds
    ? html`<link rel="alternate" type="application/rss+xml" title="${meta.siteName} (RSS)" href="${meta.feeds.rss.href}">
<link rel="alternate" type="application/atom+xml" title="${meta.siteName} (Atom)" href="${meta.feeds.atom.href}">`
    : ""
}
${(meta.me ?? []).map((href) => html`<link rel="me" href="${href}">`)}
<meta property="og:site_name" content="${meta.siteName}">
<meta property="og:title" content="${meta.title}">
<meta property="og:type" content="${meta.ogType ?? "website"}">
${meta.canonical ? html`<meta property="og:url" content="${meta.canonical.href}">` : ""}
${meta.description ? html`<meta property="og:description" content="${meta.description}">` : ""}
${meta.image ? html`<meta property="og:image" content="${meta.image.href}">` : ""}
${meta.published ? html`<meta property="article:published_time" content="${meta.published.toISOString()}">` : ""}
<meta name="twitter:card" content="${meta.image ? "summary_large_image" : "summary"}">
<meta name="twitter:title" content="${meta.title}">
${meta.description ? html`<meta name="twitter:description" content="${meta.description}">` : ""}
${meta.image ? html`<meta name="twitter:image" content="${meta.image.href}">` : ""}
<link rel="stylesheet" href="${STYLE.path}">
<script src="${SCRIPT.path}" defer></script>
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="topbar"><div class="wrap">
<a class="brand" href="${chrome.home}">${chrome.siteName}</a>
${
  chrome.admin
    ? html`${chrome.admin.full ? html`<a href="/admin">Write</a><a href="/admin/posts">Posts</a>` : ""}${
        chrome.admin.full && chrome.admin.owner
          ? html`<a href="/admin/profile">Profile</a><a href="/admin/followers">Followers</a><a href="/admin/audience">Audience</a><a href="/admin/blocks">Blocks</a><a href="/admin/staff">Staff</a><a href="/admin/audit">Audit log</a>`
          : ""
      }<a href="/admin/security">Security (${chrome.admin.username})</a>
<form method="post" action="/admin/logout"><input type="hidden" name="_csrf" value="${chrome.admin.csrf}"><button type="submit">Sign out</button></form>`
    : ""
}
</div></header>
<main id="main" class="wrap">${body}</main>
</body>
</html>`;
}

/** Text for previews: tags stripped, whitespace folded, cut at `max` characters. */
export function plainText(htmlText: string, max = 200): string {
  const text = htmlText
    .replace(/<br\s*\/?>|<\/p>/gi, " ")
    .replace(/<[^>]*>/g, "")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;|&#34;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, "&")
    .replace(/\s+/g, " ")
    .trim();
  const chars = [...text];
  return chars.length > max
    ? `${chars
        .slice(0, max - 1)
        .join("")
        .trimEnd()}…`
    : text;
}

export { html, raw };
