import type { Context, Hono } from "hono";
import { countFollowers } from "../product/followers.ts";
import { siteVersion } from "../product/instance.ts";
import { getMedia } from "../product/media.ts";
import {
  countPosts,
  decodePostCursor,
  encodePostCursor,
  getPost,
  listContinuations,
  listPinned,
  listPosts,
  listThread,
  type Post,
} from "../product/posts.ts";
import { getProfile } from "../product/profile.ts";
import { readerKeys } from "../readers/keys.ts";
import { UUID_PATTERN } from "../shared/ids.ts";
import { htmlToText } from "../shared/markup.ts";
import { RateLimiter } from "../shared/rate-limit.ts";
import { PATHS, route } from "../shared/urls.ts";
import { ASSETS } from "./assets.ts";
import { showAttachments } from "./attachments.ts";
import type { WebDeps } from "./deps.ts";
import { atomFeed, FEED_SIZE, rssFeed } from "./feeds.ts";
import { cachedResponse, clientAddress, parseServer } from "./http.ts";
import { followRoute } from "./remote-follow.ts";
import { type Chrome, type Html, Page } from "./views/layout.tsx";
import {
  excerpt,
  FollowBox,
  FollowElsewhere,
  Gone,
  Pager,
  PostArticle,
  ProfileHeader,
  ShareBox,
  SubscribeBox,
} from "./views/public.tsx";

const DESK_PAGE = 20;

export function publicRoutes(app: Hono, deps: WebDeps): void {
  const { lectern } = deps;
  const { config, db, data } = lectern;
  const { urls } = data;
  const handle = urls.acct();
  const feeds = { rss: urls.feed("rss"), atom: urls.feed("atom") };
  const deskUrl = urls.desk();
  const chrome = async (): Promise<Chrome> => ({ home: deskUrl.pathname, siteName: (await getProfile(data)).name });
  /** What every public page depends on: the author's last action and the follower count shown. */
  const version = async () => `${await siteVersion(db)}-${await countFollowers(db)}`;
  /** The author's pictures, when set: `[avatar, header]` as public URLs. */
  const pictureUrls = async () => {
    const p = await getProfile(data);
    const found = await getMedia(
      data,
      [p.avatarMediaId, p.headerMediaId].filter((x): x is string => x !== null),
    );
    const url = (id: string | null) => {
      const m = id === null ? undefined : found.get(id);
      return m === undefined ? undefined : urls.media(m.file);
    };
    return [url(p.avatarMediaId), url(p.headerMediaId)] as const;
  };
  const avatarUrl = async () => (await pictureUrls())[0];
  const profileView = async () => {
    const [avatar, header] = await pictureUrls();
    return {
      profile: await getProfile(data),
      handle,
      followers: await countFollowers(db),
      posts: await countPosts(db),
      avatarUrl: avatar?.href,
      headerUrl: header?.href,
    };
  };
  const readerOptions = async () => ({
    email: config.email !== null,
    vapidKey: config.push.enabled ? (await readerKeys(data)).vapidPublic : null,
  });
  const meUrls = async () =>
    (await getProfile(data)).fields.map((f) => f.value).filter((v) => /^https?:\/\/\S+$/.test(v));

  /** Posts as articles, each with its pictures and videos. */
  const articles = async (posts: Post[], pinned: (post: Post) => boolean = () => false): Promise<Html[]> =>
    await Promise.all(
      posts.map(async (post) => (
        <PostArticle
          post={post}
          url={urls.post(post.id)}
          pinned={pinned(post)}
          media={await showAttachments(data, post.attachments)}
        />
      )),
    );

  const desk = async (c: Context): Promise<Response> => {
    const cursor = c.req.query("after");
    const after = cursor ? decodePostCursor(cursor) : null;
    if (cursor && after === null) return c.text("Bad cursor", 400);
    return cachedResponse(c, `desk-${await version()}-${cursor ?? ""}`, async () => {
      const pinned = after === null ? await listPinned(db) : [];
      const pinnedIds = new Set(pinned.map((p) => p.id));
      const list = await listPosts(db, DESK_PAGE, { after });
      const view = await profileView();
      const canonical = deskUrl;
      const meta = {
        title: `${view.profile.name} (${handle})`,
        description: htmlToText(view.profile.summaryHtml) || `Posts by ${view.profile.name}`,
        canonical,
        activityPub: urls.actor(),
        ogType: "profile" as const,
        siteName: view.profile.name,
        image: view.avatarUrl ? new URL(view.avatarUrl) : undefined,
        feeds,
        me: await meUrls(),
      };
      const rest = list.items.filter((p) => !pinnedIds.has(p.id));
      return (
        <Page meta={meta} chrome={await chrome()}>
          <ProfileHeader view={view} />
          <FollowBox handle={handle} />
          <SubscribeBox feeds={feeds} readers={await readerOptions()} />
          <h2 class="sr">Posts</h2>
          {await articles(pinned, () => true)}
          {await articles(rest)}
          {list.items.length === 0 && pinned.length === 0 && <p>Nothing posted yet.</p>}
          <Pager
            next={list.next ? `${canonical.pathname}?after=${encodePostCursor(list.next)}` : null}
            newest={after === null ? null : canonical.pathname}
          />
        </Page>
      );
    });
  };

  app.get("/", desk);
  app.get("/:at{@[A-Za-z0-9_]+}", (c) => {
    if (c.req.param("at").slice(1).toLowerCase() !== config.handle.toLowerCase()) return c.notFound();
    return desk(c);
  });
  // A browser at the actor's id goes to the desk.
  app.get(route(PATHS.actor), (c) => {
    if (c.req.param("identifier") !== config.handle) return c.notFound();
    return c.redirect(deskUrl.pathname, 302);
  });

  const findPost = async (id: string): Promise<Post | undefined> =>
    UUID_PATTERN.test(id) ? await getPost(db, id) : undefined;

  /** A post alone, or its whole thread in order with this post marked. */
  const threadOrPost = async (post: Post): Promise<Html> => {
    const thread = await listThread(db, post.threadRoot ?? post.id);
    if (thread.length <= 1) return (await articles([post], (p) => p.pinnedAt !== null))[0];
    const shown = await articles(thread, (p) => p.id === post.id && p.pinnedAt !== null);
    return (
      <section class="thread" aria-label={`Thread of ${thread.length} posts`}>
        {thread.map((p, i) =>
          p.id === post.id ? (
            <div class="current" aria-current="page">
              {shown[i]}
            </div>
          ) : (
            shown[i]
          ),
        )}
      </section>
    );
  };

  app.get(route(PATHS.post), async (c) => {
    const post = await findPost(c.req.param("id"));
    if (post === undefined) return c.notFound();
    if (post.deletedAt !== null) {
      return cachedResponse(
        c,
        `gone-${post.id}`,
        async () => (
          <Page meta={{ title: "Deleted", siteName: (await getProfile(data)).name }} chrome={await chrome()}>
            <Gone />
          </Page>
        ),
        {
          status: 410,
        },
      );
    }
    return cachedResponse(c, `post-${post.id}-${await version()}`, async () => {
      const url = urls.post(post.id);
      const profile = await getProfile(data);
      const text = excerpt(post);
      const media = await showAttachments(data, post.attachments);
      const picture = media.find((m) => m.kind === "image")?.url ?? media.find((m) => m.previewUrl)?.previewUrl;
      const meta = {
        title:
          post.title === null
            ? `${profile.name}: “${htmlToText(post.summary ?? post.contentHtml, 70)}”`
            : `${post.title} · ${profile.name}`,
        description: text,
        canonical: url,
        activityPub: url,
        ogType: "article" as const,
        siteName: profile.name,
        feeds,
        published: new Date(post.publishedAt),
        lang: post.language,
        image: picture && !post.sensitive ? new URL(picture) : await avatarUrl(),
      };
      return (
        <Page meta={meta} chrome={await chrome()}>
          {post.title === null ? (
            <>
              <h1 class="sr">
                {profile.name}: {htmlToText(post.summary ?? post.contentHtml, 120)}
              </h1>
              <ProfileHeader view={await profileView()} heading={false} />
              {await threadOrPost(post)}
            </>
          ) : (
            <>
              <ProfileHeader view={await profileView()} heading={false} />
              <PostArticle post={post} url={url} media={media} full />
            </>
          )}
          <ShareBox
            url={url.href}
            text={`${profile.name}: ${post.title ?? htmlToText(post.summary ?? post.contentHtml, 200)}`}
          />
          <FollowBox handle={handle} />
          <SubscribeBox feeds={feeds} readers={await readerOptions()} />
        </Page>
      );
    });
  });

  // The empty replies collection each Note embeds: the channel has no replies.
  app.get(route(PATHS.replies), async (c) => {
    const post = await findPost(c.req.param("id"));
    if (post === undefined) return c.notFound();
    if (post.deletedAt !== null) return c.text("Gone", 410);
    const self = urls.replies(post.id);
    const items = (await listContinuations(db, post.id)).map((id) => urls.post(id).href);
    return c.body(
      JSON.stringify({
        "@context": "https://www.w3.org/ns/activitystreams",
        id: self.href,
        type: "Collection",
        totalItems: items.length,
        first: { id: `${self.href}?page=true`, type: "CollectionPage", partOf: self.href, items },
      }),
      200,
      { "Content-Type": "application/activity+json" },
    );
  });

  // Tag pages are the one search-like page: any tag can be asked for. What the response cache does
  // not answer (a new tag, a new page) is rendered at most once a second per address, 30 at once.
  const tagRenders = new RateLimiter(1, 30);
  app.get(route(PATHS.tag), async (c) => {
    const tag = c.req.param("tag");
    if (!/^[\p{L}\p{N}_]{1,100}$/u.test(tag)) return c.notFound();
    const wait = tagRenders.take(clientAddress(c, config.trustedProxies));
    if (wait > 0)
      return c.text("Too many requests; try again shortly", 429, { "Retry-After": String(Math.ceil(wait / 1000)) });
    const cursor = c.req.query("after");
    const after = cursor ? decodePostCursor(cursor) : null;
    return cachedResponse(c, `tag-${tag}-${await version()}-${cursor ?? ""}`, async () => {
      const list = await listPosts(db, DESK_PAGE, { after, hashtag: tag });
      const profile = await getProfile(data);
      const meta = {
        title: `#${tag} · ${profile.name}`,
        canonical: urls.tag(tag),
        siteName: profile.name,
        feeds: tagFeeds(tag),
      };
      return (
        <Page meta={meta} chrome={await chrome()}>
          <h1>#{tag}</h1>
          {await articles(list.items)}
          {list.items.length === 0 && <p>No posts with this hashtag.</p>}
          <Pager
            next={list.next ? `?after=${encodePostCursor(list.next)}` : null}
            newest={after === null ? null : urls.tag(tag).pathname}
          />
          <FollowBox handle={handle} />
          <SubscribeBox feeds={tagFeeds(tag)} what={`new posts tagged #${tag}`} readers={await readerOptions()} />
        </Page>
      );
    });
  });

  // Redirects anyone can ask for, as fast as they like: limited per address.
  const redirects = new RateLimiter(1, 30);
  const limited = (c: Context) => {
    const wait = redirects.take(clientAddress(c, config.trustedProxies));
    return wait > 0
      ? c.text("Too many requests; try again shortly", 429, { "Retry-After": String(Math.ceil(wait / 1000)) })
      : null;
  };

  // "Follow" from any page: the reader's own server shows its follow dialog for this account, whatever
  // software it runs (found by NodeInfo); otherwise the page says what to search for there.
  app.get("/follow", async (c) => {
    const slow = limited(c);
    if (slow) return slow;
    const server = parseServer(c.req.query("server"));
    const siteName = (await getProfile(data)).name;
    if (server === null) {
      return c.html(
        <Page meta={{ title: "Follow", siteName }} chrome={await chrome()}>
          <FollowBox
            handle={handle}
            error="Enter your server's name (like mastodon.social), its address, or your @handle there."
          />
        </Page>,
        400,
      );
    }
    const route = await followRoute(data, server);
    if (route.url !== null) return c.redirect(route.url, 303);
    return c.html(
      <Page meta={{ title: `Follow from ${server}`, siteName }} chrome={await chrome()}>
        <FollowElsewhere handle={handle} server={server} software={route.software} />
      </Page>,
    );
  });

  // "Share on your server": Mastodon's share page, prefilled with one of our post URLs.
  app.get("/share", (c) => {
    const slow = limited(c);
    if (slow) return slow;
    const server = parseServer(c.req.query("server"));
    const url = c.req.query("url") ?? "";
    if (server === null) return c.text("Enter your server's name, like mastodon.social", 400);
    if (!url.startsWith(`${config.origin.origin}/`))
      return c.text("Only posts from this site can be shared from here", 400);
    return c.redirect(`https://${server}/share?text=${encodeURIComponent(url)}`, 303);
  });

  /** Posts with their pictures and videos, for feed enclosures. */
  const withMedia = async (posts: Post[]) =>
    await Promise.all(posts.map(async (post) => ({ post, media: await showAttachments(data, post.attachments) })));
  const feedPosts = async (hashtag?: string) => (await listPosts(db, FEED_SIZE, { hashtag })).items;
  const tagFeeds = (tag: string) => ({ rss: urls.tagFeed(tag, "rss"), atom: urls.tagFeed(tag, "atom") });
  for (const kind of ["rss", "atom"] as const) {
    app.get(route(kind === "rss" ? PATHS.tagRss : PATHS.tagAtom), async (c) => {
      const tag = c.req.param("tag");
      if (!/^[\p{L}\p{N}_]{1,100}$/u.test(tag)) return c.notFound();
      const self = tagFeeds(tag)[kind];
      return cachedResponse(
        c,
        `${kind}-${tag.toLowerCase()}-${await siteVersion(db)}`,
        async () =>
          (kind === "rss" ? rssFeed : atomFeed)(
            lectern.context(),
            await getProfile(data),
            await withMedia(await feedPosts(tag)),
            {
              self,
              title: `#${tag}`,
            },
          ),
        { type: `application/${kind}+xml; charset=utf-8` },
      );
    });
  }
  app.get(PATHS.feedRss, async (c) =>
    cachedResponse(
      c,
      `rss-${await siteVersion(db)}`,
      async () => rssFeed(lectern.context(), await getProfile(data), await withMedia(await feedPosts())),
      { type: "application/rss+xml; charset=utf-8" },
    ),
  );
  app.get(PATHS.feedAtom, async (c) =>
    cachedResponse(
      c,
      `atom-${await siteVersion(db)}`,
      async () => atomFeed(lectern.context(), await getProfile(data), await withMedia(await feedPosts())),
      { type: "application/atom+xml; charset=utf-8" },
    ),
  );

  for (const asset of ASSETS) {
    app.get(asset.path, (c) =>
      c.body(asset.body, 200, {
        "Content-Type": asset.type,
        "Cache-Control": "public, max-age=31536000, immutable",
        ETag: asset.etag,
      }),
    );
  }
}
