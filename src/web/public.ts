import type { Context, Hono } from "hono";
import { deskUrl } from "../federation/actor.ts";
import { mediaUrl, postUrl, repliesUrl } from "../federation/note.ts";
import { countFollowers } from "../product/followers.ts";
import { UUID_PATTERN } from "../product/ids.ts";
import { siteVersion } from "../product/instance.ts";
import { getMedia } from "../product/media.ts";
import {
  countPosts,
  decodePostCursor,
  encodePostCursor,
  getPost,
  listPinned,
  listPosts,
  type Post,
} from "../product/posts.ts";
import { getProfile } from "../product/profile.ts";
import { ASSETS } from "./assets.ts";
import { showAttachments } from "./attachments.ts";
import type { WebDeps } from "./deps.ts";
import { atomFeed, FEED_SIZE, rssFeed } from "./feeds.ts";
import { cachedResponse, parseServer } from "./http.ts";
import { type Chrome, html, page, plainText } from "./views/layout.ts";
import { excerpt, followBox, gone, pager, postArticle, profileHeader, shareBox } from "./views/public.ts";

const DESK_PAGE = 20;

export function publicRoutes(app: Hono, deps: WebDeps): void {
  const { lectern } = deps;
  const { config, db, data } = lectern;
  const handle = `@${config.handle}@${config.origin.host}`;
  const feeds = { rss: new URL("/feed.rss", config.origin), atom: new URL("/feed.atom", config.origin) };
  const chrome = (): Chrome => ({ home: deskUrl(data).pathname, siteName: getProfile(data).name });
  /** What every public page depends on: the author's last action and the follower count shown. */
  const version = () => `${siteVersion(db)}-${countFollowers(db)}`;
  /** The author's pictures, when set: `[avatar, header]` as public URLs. */
  const pictureUrls = () => {
    const p = getProfile(data);
    const found = getMedia(
      data,
      [p.avatarMediaId, p.headerMediaId].filter((x): x is string => x !== null),
    );
    const url = (id: string | null) => {
      const m = id === null ? undefined : found.get(id);
      return m === undefined ? undefined : mediaUrl(config.origin, m.file);
    };
    return [url(p.avatarMediaId), url(p.headerMediaId)] as const;
  };
  const avatarUrl = () => pictureUrls()[0];
  const profileView = () => {
    const [avatar, header] = pictureUrls();
    return {
      profile: getProfile(data),
      handle,
      followers: countFollowers(db),
      posts: countPosts(db),
      avatarUrl: avatar?.href,
      headerUrl: header?.href,
    };
  };
  const meUrls = () =>
    getProfile(data)
      .fields.map((f) => f.value)
      .filter((v) => /^https?:\/\/\S+$/.test(v));

  const desk = async (c: Context): Promise<Response> => {
    const cursor = c.req.query("after");
    const after = cursor ? decodePostCursor(cursor) : null;
    if (cursor && after === null) return c.text("Bad cursor", 400);
    return cachedResponse(c, `desk-${version()}-${cursor ?? ""}`, () => {
      const ctx = lectern.context();
      const pinned = after === null ? listPinned(db) : [];
      const pinnedIds = new Set(pinned.map((p) => p.id));
      const list = listPosts(db, DESK_PAGE, { after });
      const view = profileView();
      const canonical = deskUrl(data);
      return page(
        {
          title: `${view.profile.name} (${handle})`,
          description: plainText(view.profile.summaryHtml) || `Posts by ${view.profile.name}`,
          canonical,
          activityPub: ctx.getActorUri(config.handle),
          ogType: "profile",
          siteName: view.profile.name,
          image: view.avatarUrl ? new URL(view.avatarUrl) : undefined,
          feeds,
          me: meUrls(),
        },
        chrome(),
        html`${profileHeader(view)}${followBox(handle)}
<h2 class="sr">Posts</h2>
${pinned.map((post) => postArticle(post, postUrl(ctx, post.id), { pinned: true, media: showAttachments(data, post.attachments) }))}
${list.items.filter((p) => !pinnedIds.has(p.id)).map((post) => postArticle(post, postUrl(ctx, post.id), { media: showAttachments(data, post.attachments) }))}
${list.items.length === 0 && pinned.length === 0 ? html`<p>Nothing posted yet.</p>` : ""}
${pager(list.next ? `${canonical.pathname}?after=${encodePostCursor(list.next)}` : null)}`,
      );
    });
  };

  app.get("/", desk);
  app.get("/:at{@[A-Za-z0-9_]+}", (c) => {
    if (c.req.param("at").slice(1).toLowerCase() !== config.handle.toLowerCase()) return c.notFound();
    return desk(c);
  });
  // A browser at the actor's id goes to the desk.
  app.get("/users/:handle", (c) => {
    if (c.req.param("handle") !== config.handle) return c.notFound();
    return c.redirect(deskUrl(data).pathname, 302);
  });

  const findPost = (id: string): Post | undefined => (UUID_PATTERN.test(id) ? getPost(db, id) : undefined);

  app.get("/posts/:id", (c) => {
    const post = findPost(c.req.param("id"));
    if (post === undefined) return c.notFound();
    if (post.deletedAt !== null) {
      return cachedResponse(
        c,
        `gone-${post.id}`,
        () => page({ title: "Deleted", siteName: getProfile(data).name }, chrome(), gone()),
        {
          status: 410,
        },
      );
    }
    return cachedResponse(c, `post-${post.id}-${version()}`, () => {
      const ctx = lectern.context();
      const url = postUrl(ctx, post.id);
      const profile = getProfile(data);
      const text = excerpt(post);
      const media = showAttachments(data, post.attachments);
      const picture = media.find((m) => m.kind === "image")?.url ?? media.find((m) => m.previewUrl)?.previewUrl;
      return page(
        {
          title: `${profile.name}: “${plainText(post.summary ?? post.contentHtml, 70)}”`,
          description: text,
          canonical: url,
          activityPub: url,
          ogType: "article",
          siteName: profile.name,
          feeds,
          published: new Date(post.publishedAt),
          lang: post.language,
          image: picture && !post.sensitive ? new URL(picture) : avatarUrl(),
        },
        chrome(),
        html`${profileHeader(profileView(), { heading: false })}${postArticle(post, url, { pinned: post.pinnedAt !== null, media })}
${shareBox({ url: url.href, text: `${profile.name}: ${plainText(post.summary ?? post.contentHtml, 200)}` })}`,
      );
    });
  });

  // The empty replies collection each Note embeds: the channel has no replies.
  app.get("/posts/:id/replies", (c) => {
    const post = findPost(c.req.param("id"));
    if (post === undefined) return c.notFound();
    if (post.deletedAt !== null) return c.text("Gone", 410);
    const self = repliesUrl(postUrl(lectern.context(), post.id));
    return c.body(
      JSON.stringify({
        "@context": "https://www.w3.org/ns/activitystreams",
        id: self.href,
        type: "Collection",
        totalItems: 0,
        first: { id: `${self.href}?page=true`, type: "CollectionPage", partOf: self.href, items: [] },
      }),
      200,
      { "Content-Type": "application/activity+json", "Cache-Control": "public, max-age=3600" },
    );
  });

  app.get("/tags/:tag", (c) => {
    const tag = c.req.param("tag");
    if (!/^[\p{L}\p{N}_]{1,100}$/u.test(tag)) return c.notFound();
    const cursor = c.req.query("after");
    const after = cursor ? decodePostCursor(cursor) : null;
    return cachedResponse(c, `tag-${tag}-${version()}-${cursor ?? ""}`, () => {
      const ctx = lectern.context();
      const list = listPosts(db, DESK_PAGE, { after, hashtag: tag });
      const profile = getProfile(data);
      return page(
        {
          title: `#${tag} · ${profile.name}`,
          canonical: new URL(`/tags/${encodeURIComponent(tag)}`, config.origin),
          siteName: profile.name,
          feeds,
        },
        chrome(),
        html`<h1>#${tag}</h1>${list.items.map((post) => postArticle(post, postUrl(ctx, post.id), { media: showAttachments(data, post.attachments) }))}
${list.items.length === 0 ? html`<p>No posts with this hashtag.</p>` : ""}
${pager(list.next ? `?after=${encodePostCursor(list.next)}` : null)}`,
      );
    });
  });

  // "Follow" from the desk: the reader's own server shows its follow dialog for this account.
  app.get("/follow", (c) => {
    const server = parseServer(c.req.query("server"));
    if (server === null) return c.text("Enter your server's name, like mastodon.social", 400);
    return c.redirect(
      `https://${server}/authorize_interaction?uri=${encodeURIComponent(`acct:${config.handle}@${config.origin.host}`)}`,
      303,
    );
  });

  // "Share on your server": Mastodon's share page, prefilled with one of our post URLs.
  app.get("/share", (c) => {
    const server = parseServer(c.req.query("server"));
    const url = c.req.query("url") ?? "";
    if (server === null) return c.text("Enter your server's name, like mastodon.social", 400);
    if (!url.startsWith(`${config.origin.origin}/`))
      return c.text("Only posts from this site can be shared from here", 400);
    return c.redirect(`https://${server}/share?text=${encodeURIComponent(url)}`, 303);
  });

  const feedPosts = () => listPosts(db, FEED_SIZE).items;
  app.get("/feed.rss", (c) =>
    cachedResponse(c, `rss-${siteVersion(db)}`, () => rssFeed(lectern.context(), getProfile(data), feedPosts()), {
      type: "application/rss+xml; charset=utf-8",
      maxAge: 300,
    }),
  );
  app.get("/feed.atom", (c) =>
    cachedResponse(c, `atom-${siteVersion(db)}`, () => atomFeed(lectern.context(), getProfile(data), feedPosts()), {
      type: "application/atom+xml; charset=utf-8",
      maxAge: 300,
    }),
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
