import type { Post } from "../../product/posts.ts";
import type { Profile } from "../../product/profile.ts";
import { fieldValueHtml } from "../../product/profile.ts";
import type { ShownAttachment } from "../attachments.ts";
import { type Html, html, plainText, raw } from "./layout.ts";

export interface ProfileView {
  profile: Profile;
  /** `@desk@example.org` */
  handle: string;
  followers: number;
  posts: number;
  avatarUrl?: string;
  headerUrl?: string;
}

export function profileHeader(v: ProfileView, options: { heading?: boolean } = {}): Html {
  const p = v.profile;
  const name =
    options.heading === false ? html`<p class="h1"><strong>${p.name}</strong></p>` : html`<h1>${p.name}</h1>`;
  return html`${p.movedTo ? html`<p class="notice moved" role="status">This account has moved to <a href="${p.movedTo}">${p.movedTo}</a>.</p>` : ""}<section class="profile" aria-label="Profile">
${v.headerUrl ? html`<img class="banner" src="${v.headerUrl}" alt="">` : html`<div class="banner"></div>`}
${v.avatarUrl ? html`<img class="avatar" src="${v.avatarUrl}" alt="" width="88" height="88">` : html`<div class="avatar none" aria-hidden="true">${[...p.name][0] ?? "?"}</div>`}
${name}
<div class="handle">${v.handle}${p.bot ? html`<span class="badge">Automated</span>` : ""}</div>
${p.summaryHtml ? html`<div class="bio">${raw(p.summaryHtml)}</div>` : ""}
${p.fields.length ? html`<dl class="fields">${p.fields.map((f) => html`<dt>${f.name}</dt><dd>${raw(fieldValueHtml(f.value))}</dd>`)}</dl>` : ""}
<p class="stats"><strong>${v.posts}</strong> ${v.posts === 1 ? "post" : "posts"} · <strong data-followers>${v.followers}</strong> ${v.followers === 1 ? "follower" : "followers"}</p>
</section>`;
}

export function followBox(handle: string, error?: string): Html {
  return html`<section class="card follow" aria-labelledby="follow-title">
<h2 id="follow-title">Follow on the fediverse</h2>
<p class="hint">From Mastodon, Misskey, GoToSocial, Pleroma or any fediverse server: search for <strong class="handle">${handle}</strong>
<button type="button" data-copy="${handle}" hidden>Copy</button>, or enter your server (or your own @handle) and we send you to its follow page.</p>
${error ? html`<p class="error" role="alert">${error}</p>` : ""}
<form method="get" action="/follow" data-remember-server>
<label class="sr" for="follow-server">Your server or handle</label>
<input id="follow-server" name="server" placeholder="mastodon.social or @you@mastodon.social" autocomplete="url" autocapitalize="none" spellcheck="false" required maxlength="300">
<button class="primary" type="submit">Follow</button>
</form>
</section>`;
}

/** For readers without a fediverse account: the feeds, and what a feed is. */
export function subscribeBox(feeds: { rss: URL; atom: URL }, what = "new posts"): Html {
  return html`<section class="card subscribe" aria-labelledby="subscribe-title">
<h2 id="subscribe-title">Subscribe without an account</h2>
<p class="hint">A feed reader (Feedly, Inoreader, NetNewsWire, Thunderbird…) checks a feed for ${what} and shows them to you.</p>
<p><a href="${feeds.rss.href}" type="application/rss+xml">RSS feed</a> · <a href="${feeds.atom.href}" type="application/atom+xml">Atom feed</a>
<button type="button" data-copy="${feeds.rss.href}" hidden>Copy the RSS address</button></p>
</section>`;
}

/** When a reader's server has no follow page we know of: what to search for there. */
export function followElsewhere(handle: string, server: string, software: string | null): Html {
  return html`<section class="card"><h1>Follow from ${server}</h1>
<p>${software ? html`${server} runs ${software}, which` : html`${server} did not say what it runs, or it`} has no follow page we can send you to.
Open ${server}, search for <strong class="handle">${handle}</strong> <button type="button" data-copy="${handle}" hidden>Copy</button>, and follow the account from there.</p>
<p><a href="/">Back to the posts</a></p></section>`;
}

export function mediaGrid(items: ShownAttachment[], sensitive: boolean): Html {
  if (items.length === 0) return html``;
  const grid = html`<div class="media media-${Math.min(items.length, 4)}">${items.map((m) =>
    m.kind === "image"
      ? html`<a href="${m.url}"${m.alt ? "" : html` aria-label="Picture (no description), full size"`}><img src="${m.url}" alt="${m.alt}" ${m.width ? html`width="${m.width}" height="${m.height}"` : ""} loading="lazy" decoding="async"></a>`
      : html`<video controls preload="none" ${m.previewUrl ? html`poster="${m.previewUrl}"` : ""} ${m.width ? html`width="${m.width}" height="${m.height}"` : ""} aria-label="${m.alt || "Video"}"><source src="${m.url}" type="${m.mediaType}"><a href="${m.url}">Download the video</a></video>`,
  )}</div>`;
  return sensitive ? html`<details class="sensitive"><summary>Sensitive media · show</summary>${grid}</details>` : grid;
}

export function postArticle(post: Post, url: URL, options: { pinned?: boolean; media?: ShownAttachment[] } = {}): Html {
  const published = new Date(post.publishedAt);
  const text = post.contentHtml
    ? html`<div class="content" lang="${post.language}">${raw(post.contentHtml)}</div>`
    : "";
  const content = html`${text}${mediaGrid(options.media ?? [], post.sensitive && !post.summary)}`;
  return html`<article class="post card" data-post="${post.id}">
${options.pinned ? html`<div class="pinned">Pinned</div>` : ""}
${post.summary ? html`<details class="cw"><summary>${post.summary}</summary>${content}</details>` : content}
<div class="meta"><a href="${url.href}"><time datetime="${published.toISOString()}">${formatDate(published)}</time></a>${
    post.updatedAt ? html`<span title="${new Date(post.updatedAt).toISOString()}">· edited</span>` : ""
  }</div>
</article>`;
}

export interface ShareLinks {
  url: string;
  text: string;
}

/** Share this post: copy, a Mastodon server of the reader's choice, Bluesky, X, Facebook, email. No replies, no counters. */
export function shareBox(s: ShareLinks): Html {
  const both = `${s.text}\n\n${s.url}`;
  const q = encodeURIComponent;
  return html`<section class="card" aria-labelledby="share-title">
<h2 id="share-title">Share</h2>
<div class="share">
<button type="button" data-copy="${s.url}" hidden>Copy link</button>
<a href="https://bsky.app/intent/compose?text=${q(both)}" rel="noopener" target="_blank">Bluesky</a>
<a href="https://x.com/intent/post?text=${q(s.text)}&amp;url=${q(s.url)}" rel="noopener" target="_blank">X</a>
<a href="https://www.facebook.com/sharer/sharer.php?u=${q(s.url)}" rel="noopener" target="_blank">Facebook</a>
<a href="mailto:?subject=${q(s.text)}&amp;body=${q(both)}">Email</a>
</div>
<form method="get" action="/share" class="follow">
<label for="share-server">Share on your fediverse server</label>
<div class="row"><input type="hidden" name="url" value="${s.url}">
<div><input id="share-server" name="server" placeholder="mastodon.social" required pattern="[A-Za-z0-9.:\\-]+"></div>
<button type="submit">Share</button></div>
</form>
<p class="hint">Link: <a href="${s.url}">${s.url}</a></p>
</section>`;
}

/** Paging: older posts, and back to the newest once paged. */
export function pager(next: string | null, newest: string | null = null): Html {
  return html`<nav class="pages" aria-label="Pages">${newest ? html`<a href="${newest}">← Newest posts</a>` : html`<span></span>`}${next ? html`<a rel="next" href="${next}">Older posts →</a>` : ""}</nav>`;
}

export function gone(): Html {
  return html`<section class="card"><h1>This post was deleted</h1><p>The author removed it.</p><p><a href="/">See the latest posts</a></p></section>`;
}

/** A page for what went wrong (404, 400…), in the site's own dress, with a way back. */
export function problem(title: string, message: string): Html {
  return html`<section class="card"><h1>${title}</h1><p>${message}</p><p><a href="/">See the latest posts</a></p></section>`;
}

export function excerpt(post: Post): string {
  return post.summary ? `${post.summary} (content warning)` : plainText(post.contentHtml, 200);
}

export function formatDate(d: Date): string {
  return `${new Intl.DateTimeFormat("en", { dateStyle: "medium", timeStyle: "short", timeZone: "UTC" }).format(d)} UTC`;
}
