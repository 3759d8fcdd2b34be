import { raw } from "hono/html";
import { statementSummary } from "../../product/post.ts";
import type { Post } from "../../product/posts.ts";
import type { Profile } from "../../product/profile.ts";
import { fieldValueHtml } from "../../product/profile.ts";
import { htmlToText } from "../../shared/markup.ts";
import type { ShownAttachment } from "../attachments.ts";
import { type Html, Page } from "./layout.tsx";
import { MediaGrid, PostMeta } from "./media-grid.tsx";
import { StatementArticle } from "./statement.tsx";

export interface ProfileView {
  profile: Profile;
  /** `@desk@example.org` */
  handle: string;
  followers: number;
  posts: number;
  avatarUrl?: string;
  headerUrl?: string;
}

/** The author's header, avatar, name, handle, bio, fields and counts. */
export function ProfileHeader({ view: v, heading = true }: { view: ProfileView; heading?: boolean }): Html {
  const p = v.profile;
  return (
    <>
      {p.movedTo && (
        <p class="notice moved" role="status">
          This account has moved to <a href={p.movedTo}>{p.movedTo}</a>.
        </p>
      )}
      <section class="profile" aria-label="Profile">
        {v.headerUrl ? <img class="banner" src={v.headerUrl} alt="" /> : <div class="banner" />}
        {v.avatarUrl ? (
          <img class="avatar" src={v.avatarUrl} alt="" width="88" height="88" />
        ) : (
          <div class="avatar none" aria-hidden="true">
            {[...p.name][0] ?? "?"}
          </div>
        )}
        {heading ? (
          <h1>{p.name}</h1>
        ) : (
          <p class="h1">
            <strong>{p.name}</strong>
          </p>
        )}
        <div class="handle">
          {v.handle}
          {p.bot && <span class="badge">Automated</span>}
        </div>
        {p.summaryHtml && <div class="bio">{raw(p.summaryHtml)}</div>}
        {p.fields.length > 0 && (
          <dl class="fields">
            {p.fields.map((f) => (
              <>
                <dt>{f.name}</dt>
                <dd>{raw(fieldValueHtml(f.value))}</dd>
              </>
            ))}
          </dl>
        )}
        <p class="stats">
          <strong>{v.posts}</strong> {v.posts === 1 ? "post" : "posts"} · <strong data-followers>{v.followers}</strong>{" "}
          {v.followers === 1 ? "follower" : "followers"}
        </p>
      </section>
    </>
  );
}

export function FollowBox({ handle, error }: { handle: string; error?: string }): Html {
  return (
    <section class="card follow" aria-labelledby="follow-title">
      <h2 id="follow-title">Follow on the fediverse</h2>
      <p class="hint">
        From Mastodon, Misskey, GoToSocial, Pleroma or any fediverse server: search for{" "}
        <strong class="handle">{handle}</strong>{" "}
        <button type="button" data-copy={handle} hidden>
          Copy
        </button>
        , or enter your server (or your own @handle) and we send you to its follow page.
      </p>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <form method="get" action="/follow" data-remember-server>
        <label class="sr" for="follow-server">
          Your server or handle
        </label>
        <input
          id="follow-server"
          name="server"
          placeholder="mastodon.social or @you@mastodon.social"
          autocomplete="url"
          autocapitalize="none"
          spellcheck={false}
          required
          maxlength={300}
        />
        <button class="primary" type="submit">
          Follow
        </button>
      </form>
    </section>
  );
}

/** What readers without an account can turn on besides feeds: email (when SMTP is set) and Web Push. */
export interface ReaderOptions {
  email: boolean;
  /** The VAPID public key, when push is on. */
  vapidKey: string | null;
}

/** For readers without a fediverse account: email, notifications, the feeds, and what a feed is. */
export function SubscribeBox({
  feeds,
  what = "new posts",
  readers,
}: {
  feeds: { rss: URL; atom: URL };
  what?: string;
  readers?: ReaderOptions;
}): Html {
  return (
    <section class="card subscribe" aria-labelledby="subscribe-title">
      <h2 id="subscribe-title">Subscribe without an account</h2>
      {readers?.email && (
        <form method="post" action="/email/subscribe" class="follow">
          <label for="subscribe-email">Get every post by email</label>
          <div class="row">
            <div>
              <input
                id="subscribe-email"
                type="email"
                name="email"
                placeholder="you@example.com"
                autocomplete="email"
                required
                maxlength={254}
              />
            </div>
            <button type="submit">Subscribe</button>
          </div>
          <p class="hint">We send one email to confirm. Every email has a one-click unsubscribe link.</p>
        </form>
      )}
      {readers?.vapidKey && (
        <div data-notify data-vapid-key={readers.vapidKey} hidden>
          <button type="button" aria-pressed="false">
            Notify me
          </button>{" "}
          <span data-notify-status role="status" class="hint" />
        </div>
      )}
      <p class="hint">
        A feed reader (Feedly, Inoreader, NetNewsWire, Thunderbird…) checks a feed for {what} and shows them to you.
      </p>
      <p>
        <a href={feeds.rss.href} type="application/rss+xml">
          RSS feed
        </a>{" "}
        ·{" "}
        <a href={feeds.atom.href} type="application/atom+xml">
          Atom feed
        </a>{" "}
        <button type="button" data-copy={feeds.rss.href} hidden>
          Copy the RSS address
        </button>
      </p>
    </section>
  );
}

/** When a reader's server has no follow page we know of: what to search for there. */
export function FollowElsewhere(p: { handle: string; server: string; software: string | null }): Html {
  return (
    <section class="card">
      <h1>Follow from {p.server}</h1>
      <p>
        {p.software ? `${p.server} runs ${p.software}, which` : `${p.server} did not say what it runs, or it`} has no
        follow page we can send you to. Open {p.server}, search for <strong class="handle">{p.handle}</strong>{" "}
        <button type="button" data-copy={p.handle} hidden>
          Copy
        </button>
        , and follow the account from there.
      </p>
      <p>
        <a href="/">Back to the posts</a>
      </p>
    </section>
  );
}

/** A post as a card; a statement as its title and summary linking to its page (`full`: the whole of it). */
export function PostArticle(p: {
  post: Post;
  url: URL;
  pinned?: boolean;
  media?: ShownAttachment[];
  full?: boolean;
}): Html {
  const { post } = p;
  if (post.title !== null) return <StatementArticle {...p} title={post.title} />;
  const content = (
    <>
      {post.contentHtml && (
        <div class="content" lang={post.language}>
          {raw(post.contentHtml)}
        </div>
      )}
      <MediaGrid items={p.media ?? []} sensitive={post.sensitive && !post.summary} />
    </>
  );
  return (
    <article class="post card" data-post={post.id}>
      {p.pinned && <div class="pinned">Pinned</div>}
      {post.summary ? (
        <details class="cw">
          <summary>{post.summary}</summary>
          {content}
        </details>
      ) : (
        content
      )}
      <PostMeta post={post} url={p.url} />
    </article>
  );
}

export interface ShareLinks {
  url: string;
  text: string;
}

/** Share this post: copy, a Mastodon server of the reader's choice, Bluesky, X, Facebook, email. No replies, no counters. */
export function ShareBox({ url, text }: ShareLinks): Html {
  const both = `${text}\n\n${url}`;
  const q = encodeURIComponent;
  return (
    <section class="card" aria-labelledby="share-title">
      <h2 id="share-title">Share</h2>
      <div class="share">
        <button type="button" data-copy={url} hidden>
          Copy link
        </button>
        <a href={`https://bsky.app/intent/compose?text=${q(both)}`} rel="noopener" target="_blank">
          Bluesky
        </a>
        <a href={`https://x.com/intent/post?text=${q(text)}&url=${q(url)}`} rel="noopener" target="_blank">
          X
        </a>
        <a href={`https://www.facebook.com/sharer/sharer.php?u=${q(url)}`} rel="noopener" target="_blank">
          Facebook
        </a>
        <a href={`mailto:?subject=${q(text)}&body=${q(both)}`}>Email</a>
      </div>
      <form method="get" action="/share" class="follow">
        <label for="share-server">Share on your fediverse server</label>
        <div class="row">
          <input type="hidden" name="url" value={url} />
          <div>
            <input id="share-server" name="server" placeholder="mastodon.social" required pattern="[A-Za-z0-9.:\-]+" />
          </div>
          <button type="submit">Share</button>
        </div>
      </form>
      <p class="hint">
        Link: <a href={url}>{url}</a>
      </p>
    </section>
  );
}

/** Paging: older posts, and back to the newest once paged. */
export function Pager({ next, newest = null }: { next: string | null; newest?: string | null }): Html {
  return (
    <nav class="pages" aria-label="Pages">
      {newest ? <a href={newest}>← Newest posts</a> : <span />}
      {next && (
        <a rel="next" href={next}>
          Older posts →
        </a>
      )}
    </nav>
  );
}

export function Gone(): Html {
  return <Problem title="This post was deleted" message="The author removed it." />;
}

/** A page for what went wrong (404, 400…), in the site's own dress, with a way back. */
export function Problem({ title, message }: { title: string; message: string }): Html {
  return (
    <section class="card">
      <h1>{title}</h1>
      <p>{message}</p>
      <p>
        <a href="/">See the latest posts</a>
      </p>
    </section>
  );
}

export function excerpt(post: Post): string {
  if (post.title !== null) return statementSummary(post);
  return post.summary ? `${post.summary} (content warning)` : htmlToText(post.contentHtml, 200);
}

/** A 404 for browsers, in the site's dress, with a way back. */
export function NotFoundPage({ siteName, home }: { siteName: string; home: string }): Html {
  return (
    <Page meta={{ title: "Not found", siteName }} chrome={{ home, siteName }}>
      <Problem title="Not found" message="There is nothing at this address. It may have been mistyped." />
    </Page>
  );
}
