import { escapeAttribute, escapeText } from "entities";
import { convert } from "html-to-text";
import type { AppData } from "../product/context.ts";
import { getMedia } from "../product/media.ts";
import type { Post } from "../product/post.ts";
import { getProfile } from "../product/profile.ts";
import { htmlToText } from "../shared/markup.ts";

/*
 * What a reader gets by email: the posts as they read on the site (text,
 * a content warning kept as a warning, pictures as links with their
 * descriptions, the permalink, share links), the author's name and avatar,
 * in an HTML part and a plain-text part. The body is made once per set of
 * posts; each subscriber's own links (unsubscribe, how often) are added to it.
 */

export interface MailBody {
  subject: string;
  html: string;
  text: string;
}

export interface ReaderLinks {
  unsubscribe: string;
  each: string;
  daily: string;
  weekly: string;
}

const q = encodeURIComponent;

async function author(data: AppData): Promise<{ name: string; avatar: string | null; home: string }> {
  const p = await getProfile(data);
  const found = p.avatarMediaId === null ? new Map() : await getMedia(data, [p.avatarMediaId]);
  const m = p.avatarMediaId === null ? undefined : found.get(p.avatarMediaId);
  return {
    name: p.name,
    avatar: m ? data.urls.media(m.previewFile ?? m.file).href : null,
    home: data.urls.desk().href,
  };
}

async function postHtml(data: AppData, post: Post): Promise<string> {
  const url = data.urls.post(post.id).href;
  const found = await getMedia(
    data,
    post.attachments.map((a) => a.mediaId),
  );
  const media = post.attachments.flatMap((a) => {
    const m = found.get(a.mediaId);
    return m === undefined
      ? []
      : [
          {
            kind: m.kind,
            alt: a.alt,
            url: data.urls.media(m.file).href,
            previewUrl: m.previewFile ? data.urls.media(m.previewFile).href : null,
          },
        ];
  });
  const first = post.title ?? (htmlToText(post.contentHtml, 100) || "A post");
  const pictures = media
    // A statement's pictures placed in its text are there already.
    .filter((m) => !post.contentHtml.includes(`src="${m.url}"`))
    .map((m) => {
      const label = m.kind === "video" ? "Video" : "Picture";
      const alt = m.alt ? `${label}: ${m.alt}` : `${label} (no description)`;
      const img =
        m.kind === "image" || m.previewUrl
          ? `<img src="${escapeAttribute(m.previewUrl ?? m.url)}" alt="${escapeAttribute(alt)}" style="max-width:100%;height:auto;border-radius:6px">`
          : escapeText(alt);
      return `<p><a href="${escapeAttribute(m.url)}">${img}</a><br><small>${escapeText(alt)}</small></p>`;
    })
    .join("");
  const heading =
    post.title === null ? "" : `<h1 style="font-size:22px;margin:0 0 12px">${escapeText(post.title)}</h1>`;
  const body = `${heading}${post.contentHtml}${pictures}`;
  const shown = post.summary
    ? `<p><strong>Content warning: ${escapeText(post.summary)}</strong></p><details><summary>Show the post</summary>${body}</details>`
    : body;
  const share = [
    `<a href="${escapeAttribute(url)}">Open the post</a>`,
    `<a href="${escapeAttribute(`${url}#share-title`)}">Share on your fediverse server</a>`,
    `<a href="https://bsky.app/intent/compose?text=${escapeAttribute(q(`${first}\n\n${url}`))}">Bluesky</a>`,
    `<a href="https://www.facebook.com/sharer/sharer.php?u=${escapeAttribute(q(url))}">Facebook</a>`,
  ].join(" · ");
  const when = new Date(post.publishedAt).toUTCString();
  return `<article style="margin:0 0 28px">${shown}<p style="color:#555;font-size:13px">${escapeText(when)} · ${share}</p></article>`;
}

/** The body for these posts (oldest first): one post, a batch, or a digest. */
export async function composeBody(data: AppData, posts: Post[], digest: "daily" | "weekly" | null): Promise<MailBody> {
  const who = await author(data);
  const firstPost = posts[0];
  const subject =
    digest !== null
      ? `${who.name}: your ${digest} digest (${posts.length} ${posts.length === 1 ? "post" : "posts"})`
      : posts.length === 1
        ? firstPost.title !== null
          ? `${who.name}: ${firstPost.title}`
          : firstPost.summary
            ? `${who.name}: content warning: ${firstPost.summary}`
            : `${who.name}: ${htmlToText(firstPost.contentHtml, 80) || "a new post"}`
        : `${who.name}: ${posts.length} new posts`;
  const head = `<p style="margin:0 0 20px">${
    who.avatar
      ? `<img src="${escapeAttribute(who.avatar)}" alt="" width="48" height="48" style="border-radius:50%;vertical-align:middle;margin-right:10px">`
      : ""
  }<a href="${escapeAttribute(who.home)}" style="font-weight:bold;font-size:18px;color:#111;text-decoration:none">${escapeText(who.name)}</a></p>`;
  const articles = (await Promise.all(posts.map((p) => postHtml(data, p)))).join("");
  const html = `${head}${articles}`;
  return {
    subject: subject.replace(/[\r\n]+/g, " ").slice(0, 200),
    html,
    text: convert(html, { wordwrap: 78, selectors: [{ selector: "img", format: "skip" }] }),
  };
}

/** The whole message for one reader: the body and their own links, in both parts. */
export function personalise(body: MailBody, links: ReaderLinks, cadence: string): { html: string; text: string } {
  const choice = (c: string, label: string, href: string) =>
    c === cadence ? `<strong>${label}</strong>` : `<a href="${escapeAttribute(href)}">${label}</a>`;
  const footer = `<hr style="border:0;border-top:1px solid #ddd;margin:24px 0 12px"><p style="color:#555;font-size:13px">You get these because you subscribed to this address. How often: ${choice("each", "every post", links.each)} · ${choice("daily", "a daily digest", links.daily)} · ${choice("weekly", "a weekly digest", links.weekly)}.<br><a href="${escapeAttribute(links.unsubscribe)}">Unsubscribe</a> (at once, with one click). Replies to this address are not read.</p>`;
  const html = `<!doctype html><html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"></head><body style="font-family:system-ui,sans-serif;line-height:1.5;max-width:640px;margin:0 auto;padding:16px;color:#111">${body.html}${footer}</body></html>`;
  const text = `${body.text}\n\n--\nHow often: every post: ${links.each}\nA daily digest: ${links.daily}\nA weekly digest: ${links.weekly}\nUnsubscribe (at once): ${links.unsubscribe}\n`;
  return { html, text };
}

/** The confirmation: one link, to a page with a button (a link scanner following it confirms nothing). */
export function confirmationBody(name: string, link: string): MailBody {
  const html = `<!doctype html><html><body style="font-family:system-ui,sans-serif;line-height:1.5;max-width:640px;margin:0 auto;padding:16px"><p><a href="${escapeAttribute(link)}">Confirm your subscription to ${escapeText(name)}</a></p><p>Someone (we hope you) asked to get ${escapeText(name)}'s posts by email at this address. If it was not you, ignore this message: nothing more will be sent, and the address is deleted within 7 days.</p></body></html>`;
  return {
    subject: `Confirm your subscription to ${name}`.replace(/[\r\n]+/g, " "),
    html,
    text: `Confirm your subscription to ${name}:\n${link}\n\nSomeone (we hope you) asked to get ${name}'s posts by email at this address. If it was not you, ignore this message: nothing more will be sent, and the address is deleted within 7 days.\n`,
  };
}
