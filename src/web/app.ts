import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { html } from "hono/html";
import { deskUrl } from "../federation/actor.ts";
import { postUrl, repliesUrl } from "../federation/note.ts";
import { withExpandedPublicAudience } from "../federation/public-audience.ts";
import type { Lectern } from "../lectern.ts";
import { countFollowers } from "../product/followers.ts";
import { UUID_PATTERN } from "../product/ids.ts";
import { renderMarkdown } from "../product/markdown.ts";
import { countPosts, decodePostCursor, encodePostCursor, getPost, listPosts } from "../product/posts.ts";
import { layout, postArticle, profileHeader } from "./views.ts";

/** Largest inbox POST accepted; real activities are a few kilobytes. */
export const MAX_INBOX_BODY = 256 * 1024;
const DESK_PAGE = 20;

export function createApp(lectern: Lectern): Hono {
  const { config, federation, data, db } = lectern;
  const app = new Hono();

  app.post(
    "*",
    bodyLimit({
      maxSize: MAX_INBOX_BODY,
      // The unread rest of the body makes the connection unusable: tell the client not to reuse it.
      onError: (c) => c.text(`Request body larger than ${MAX_INBOX_BODY} bytes`, 413, { Connection: "close" }),
    }),
  );

  // ActivityPub first; what Fedify does not serve (or a browser asks for) falls through to the routes below.
  app.use(async (c, next) => {
    let notFound = false;
    let notAcceptable = false;
    const response = await federation.fetch(c.req.raw, {
      contextData: data,
      onNotFound: () => {
        notFound = true;
        return new Response("Not found", { status: 404 });
      },
      onNotAcceptable: () => {
        notAcceptable = true;
        return new Response("Not acceptable", { status: 406, headers: { "Content-Type": "text/plain", Vary: "Accept" } });
      },
    });
    if (!notFound && !notAcceptable) return c.req.method === "GET" ? await withExpandedPublicAudience(response) : response;
    await next();
    if (notAcceptable && c.res.status === 404) return response;
    if (notAcceptable) c.res.headers.append("Vary", "Accept");
  });

  const profile = () => ({
    name: config.profile.name,
    summaryHtml: config.profile.summary ? renderMarkdown(config.profile.summary, config.origin).html : "",
    handle: `@${config.handle}@${config.origin.host}`,
    followers: countFollowers(db),
    posts: countPosts(db),
  });

  const desk = (cursor: string | undefined) => {
    const ctx = lectern.context();
    const after = cursor ? decodePostCursor(cursor) : null;
    const page = listPosts(db, DESK_PAGE, after);
    const p = profile();
    const canonical = deskUrl(data);
    return layout(
      {
        title: `${p.name} (${p.handle})`,
        description: config.profile.summary || undefined,
        canonical,
        activityPub: ctx.getActorUri(config.handle),
      },
      html`${profileHeader(p)}
${page.items.map((post) => postArticle(post, postUrl(ctx, post.id)))}
${page.items.length === 0 ? html`<p>Nothing posted yet.</p>` : ""}
<nav class="pages">${page.next ? html`<a rel="next" href="${canonical.pathname}?after=${encodePostCursor(page.next)}">Older posts</a>` : ""}</nav>`,
    );
  };

  app.get("/", (c) => c.html(desk(c.req.query("after"))));
  app.get("/:at{@[A-Za-z0-9_]+}", (c) => {
    if (c.req.param("at").slice(1).toLowerCase() !== config.handle.toLowerCase()) return c.notFound();
    return c.html(desk(c.req.query("after")));
  });
  // A browser at the actor's id goes to the desk.
  app.get("/users/:handle", (c) => {
    if (c.req.param("handle") !== config.handle) return c.notFound();
    return c.redirect(deskUrl(data).pathname, 302);
  });

  app.get("/posts/:id", (c) => {
    const id = c.req.param("id");
    const post = UUID_PATTERN.test(id) ? getPost(db, id) : undefined;
    if (post === undefined) return c.notFound();
    const ctx = lectern.context();
    const url = postUrl(ctx, post.id);
    const text = post.summary ?? post.source;
    return c.html(
      layout(
        { title: `${config.profile.name}: “${text.length > 60 ? `${text.slice(0, 60)}…` : text}”`, description: text.slice(0, 200), canonical: url, activityPub: url },
        html`${profileHeader(profile())}${postArticle(post, url)}`,
      ),
    );
  });

  // The empty replies collection each Note embeds: the channel has no replies.
  app.get("/posts/:id/replies", (c) => {
    const id = c.req.param("id");
    if (!UUID_PATTERN.test(id) || getPost(db, id) === undefined) return c.notFound();
    const self = repliesUrl(postUrl(lectern.context(), id));
    return c.body(
      JSON.stringify({
        "@context": "https://www.w3.org/ns/activitystreams",
        id: self.href,
        type: "Collection",
        totalItems: 0,
        first: { id: `${self.href}?page=true`, type: "CollectionPage", partOf: self.href, items: [] },
      }),
      200,
      { "Content-Type": "application/activity+json" },
    );
  });

  app.get("/health", (c) => c.json({ ok: true, posts: countPosts(db) }));

  app.notFound((c) => c.text("Not found", 404));
  return app;
}
