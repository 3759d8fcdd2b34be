import { raw } from "hono/html";
import type { Child } from "hono/jsx";
import type { HtmlEscapedString } from "hono/utils/html";
import { READERS, SCRIPT, STYLE } from "../assets.ts";

/** What a view renders to: hono/jsx elements and hono/html templates are both this. */
export type Html = HtmlEscapedString | Promise<HtmlEscapedString>;

/** A view as text: hono/jsx renders a view with async parts (promises among its children) to a promise. */
export async function renderToString(view: Html | string): Promise<string> {
  return String(await (await view).toString());
}

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

/** Every page: the head (title, description, canonical, feeds, link previews), the top bar, and the body. */
export function Page({ meta, chrome, children }: { meta: PageMeta; chrome: Chrome; children?: Child }): Html {
  return (
    <>
      {raw("<!doctype html>\n")}
      <html lang={meta.lang ?? "en"}>
        <head>
          <meta charset="utf-8" />
          <meta name="viewport" content="width=device-width, initial-scale=1" />
          <title>{meta.title}</title>
          {meta.private && <meta name="robots" content="noindex, nofollow" />}
          {meta.refreshTo && <meta http-equiv="refresh" content={`0;url=${meta.refreshTo}`} />}
          {meta.description && <meta name="description" content={meta.description} />}
          {meta.canonical && <link rel="canonical" href={meta.canonical.href} />}
          {meta.activityPub && <link rel="alternate" type="application/activity+json" href={meta.activityPub.href} />}
          {meta.feeds && (
            <>
              <link
                rel="alternate"
                type="application/rss+xml"
                title={`${meta.siteName} (RSS)`}
                href={meta.feeds.rss.href}
              />
              <link
                rel="alternate"
                type="application/atom+xml"
                title={`${meta.siteName} (Atom)`}
                href={meta.feeds.atom.href}
              />
            </>
          )}
          {(meta.me ?? []).map((href) => (
            <link rel="me" href={href} />
          ))}
          <meta property="og:site_name" content={meta.siteName} />
          <meta property="og:title" content={meta.title} />
          <meta property="og:type" content={meta.ogType ?? "website"} />
          {meta.canonical && <meta property="og:url" content={meta.canonical.href} />}
          {meta.description && <meta property="og:description" content={meta.description} />}
          {meta.image && <meta property="og:image" content={meta.image.href} />}
          {meta.published && <meta property="article:published_time" content={meta.published.toISOString()} />}
          <meta name="twitter:card" content={meta.image ? "summary_large_image" : "summary"} />
          <meta name="twitter:title" content={meta.title} />
          {meta.description && <meta name="twitter:description" content={meta.description} />}
          {meta.image && <meta name="twitter:image" content={meta.image.href} />}
          <link rel="stylesheet" href={STYLE.path} />
          <script src={SCRIPT.path} defer />
          {!meta.private && <script src={READERS.path} defer />}
          {!meta.private && <link rel="manifest" href="/manifest.webmanifest" />}
          {!meta.private && <link rel="icon" href="/favicon.svg" type="image/svg+xml" />}
        </head>
        <body>
          <a class="skip" href="#main">
            Skip to content
          </a>
          <header class="topbar">
            <div class="wrap">
              <a class="brand" href={chrome.home}>
                {chrome.siteName}
              </a>
              {chrome.admin && <DeskLinks {...chrome.admin} />}
            </div>
          </header>
          <main id="main" class="wrap">
            {children}
          </main>
        </body>
      </html>
    </>
  );
}

/** The desk's links in the top bar: writing for everyone signed in, the rest for the owner; then sign-out. */
function DeskLinks(admin: NonNullable<Chrome["admin"]>): Html {
  return (
    <>
      {admin.full && (
        <>
          <a href="/admin">Write</a>
          <a href="/admin/posts">Posts</a>
        </>
      )}
      {admin.full && admin.owner && (
        <>
          <a href="/admin/profile">Profile</a>
          <a href="/admin/followers">Followers</a>
          <a href="/admin/audience">Audience</a>
          <a href="/admin/readers">Readers</a>
          <a href="/admin/blocks">Blocks</a>
          <a href="/admin/staff">Staff</a>
          <a href="/admin/audit">Audit log</a>
          <a href="/admin/server">Server</a>
        </>
      )}
      <a href="/admin/security">Security ({admin.username})</a>
      <form method="post" action="/admin/logout">
        <input type="hidden" name="_csrf" value={admin.csrf} />
        <button type="submit">Sign out</button>
      </form>
    </>
  );
}
