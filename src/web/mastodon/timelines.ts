import type { Context, Hono } from "hono";
import { getPost, listPosts, type Post, type PostCursor } from "../../product/posts.ts";
import { UUID_PATTERN } from "../../shared/ids.ts";
import type { WebDeps } from "../deps.ts";
import { apiError, authorizeRequest } from "./oauth.tsx";
import { ACCOUNT_ID, accountJson, statusJson } from "./shapes.ts";

/** The account's statuses as Mastodon's timelines: the only posts there are here are the author's. */
export function mastodonTimelines(app: Hono, deps: WebDeps): void {
  const { lectern, now } = deps;
  const { config, db, data } = lectern;
  const notFound = (c: Context) => apiError(c, 404, "Record not found");

  /** Where a paging id points: any post ever published here (a deleted one keeps its place), or nothing. */
  const cursorOf = async (id: string | undefined): Promise<PostCursor | null | "unknown"> => {
    if (!id) return null;
    const post = UUID_PATTERN.test(id) ? await getPost(db, id) : undefined;
    return post === undefined ? "unknown" : { publishedAt: post.publishedAt, id: post.id };
  };

  /**
   * Posts newest first, paged as Mastodon pages: `max_id` (older), `since_id`
   * (the newest above it), `min_id` (the ones just above it); a `Link` header
   * names the next (older) and previous (newer) pages.
   */
  const timeline = async (c: Context) => {
    const limit = Math.min(40, Math.max(1, Number(c.req.query("limit") ?? 20) || 20));
    const after = await cursorOf(c.req.query("max_id"));
    const minId = c.req.query("min_id");
    const newerThan = await cursorOf(minId ?? c.req.query("since_id"));
    // An id we never had: nothing is older or newer than it that we could name.
    if (after === "unknown" || newerThan === "unknown") return c.json([]);
    const list = await listPosts(db, limit, { after, newerThan, adjacent: minId !== undefined });
    let items: Post[] = list.items;
    if (c.req.query("pinned") === "true") items = items.filter((p) => p.pinnedAt !== null);
    if (c.req.query("exclude_replies") === "true") items = items.filter((p) => p.inReplyTo === null);
    const account = await accountJson(data);
    if (items.length > 0) {
      const page = (key: string, id: string) => {
        const url = new URL(c.req.path, config.origin);
        if (c.req.query("limit")) url.searchParams.set("limit", String(limit));
        url.searchParams.set(key, id);
        return url.href;
      };
      const links = [`<${page("min_id", items[0].id)}>; rel="prev"`];
      // Older posts exist below this page: always when it came from above a cursor, else when one more was found.
      if (list.next !== null || newerThan !== null)
        links.unshift(`<${page("max_id", items.at(-1)?.id ?? "")}>; rel="next"`);
      c.header("Link", links.join(", "));
    }
    return c.json(await Promise.all(items.map((p) => statusJson(data, p, account))));
  };
  app.get("/api/v1/accounts/:id/statuses", (c) => (c.req.param("id") === ACCOUNT_ID ? timeline(c) : notFound(c)));
  app.get("/api/v1/accounts/:id/following", (c) => c.json([]));
  app.get("/api/v1/timelines/home", async (c) => {
    const info = await authorizeRequest(c, db, "read:statuses", false, now());
    return info instanceof Response ? info : timeline(c);
  });
  app.get("/api/v1/timelines/public", timeline);
  app.get("/api/v1/timelines/tag/:tag", (c) => c.json([]));
}
