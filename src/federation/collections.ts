import type { Recipient } from "@fedify/vocab";
import { countFollowers, listFollowers } from "../product/followers.ts";
import { listFollowing } from "../product/following.ts";
import { countPosts, decodePostCursor, encodePostCursor, listPinned, listPosts } from "../product/posts.ts";
import { PATHS } from "../shared/urls.ts";
import { mayFetch } from "./authorize.ts";
import { builder } from "./builder.ts";
import { createFromPost, noteFromPost } from "./note.ts";

const OUTBOX_PAGE = 20;
const FOLLOWERS_PAGE = 100;
/** The outbox's first cursor: posts from the newest on. */
const NEWEST = "newest";

builder
  .setOutboxDispatcher(PATHS.outbox, async (ctx, identifier, cursor) => {
    if (identifier !== ctx.data.config.handle || cursor == null) return null;
    const after = cursor === NEWEST ? null : decodePostCursor(cursor);
    if (cursor !== NEWEST && after === null) return null;
    const page = await listPosts(ctx.data.db, OUTBOX_PAGE, { after });
    return {
      items: await Promise.all(page.items.map((post) => createFromPost(ctx, post))),
      nextCursor: page.next === null ? null : encodePostCursor(page.next),
    };
  })
  .setCounter(async (ctx, identifier) => (identifier === ctx.data.config.handle ? await countPosts(ctx.data.db) : null))
  .setFirstCursor((ctx, identifier) => (identifier === ctx.data.config.handle ? NEWEST : null))
  .authorize((ctx) => mayFetch(ctx));

builder
  .setFollowersDispatcher(PATHS.followers, async (ctx, identifier, cursor) => {
    if (identifier !== ctx.data.config.handle) return null;
    // Fedify asks with no cursor only to deliver to "followers", which Lectern never
    // does through Fedify (the delivery engine fans out in SQL): nothing to list.
    if (cursor == null) return { items: [] };
    if (!/^\d{1,15}$/.test(cursor)) return null;
    const page = await listFollowers(ctx.data.db, FOLLOWERS_PAGE, Number(cursor));
    return {
      items: page.items.map(toRecipient),
      nextCursor: page.next === null ? null : String(page.next),
    };
  })
  .setCounter(async (ctx, identifier) =>
    identifier === ctx.data.config.handle ? await countFollowers(ctx.data.db) : null,
  )
  .setFirstCursor((ctx, identifier) => (identifier === ctx.data.config.handle ? "0" : null))
  .authorize((ctx) => mayFetch(ctx));

builder
  .setFollowingDispatcher(PATHS.following, async (ctx, identifier) =>
    identifier === ctx.data.config.handle
      ? { items: (await listFollowing(ctx.data.db, "accepted")).map((f) => new URL(f.actorIri)) }
      : null,
  )
  .setCounter(async (ctx, identifier) =>
    identifier === ctx.data.config.handle ? (await listFollowing(ctx.data.db, "accepted")).length : null,
  )
  .authorize((ctx) => mayFetch(ctx));

builder
  .setFeaturedDispatcher(PATHS.featured, async (ctx, identifier) =>
    identifier === ctx.data.config.handle
      ? { items: await Promise.all((await listPinned(ctx.data.db)).map((post) => noteFromPost(ctx, post))) }
      : null,
  )
  .setCounter(async (ctx, identifier) =>
    identifier === ctx.data.config.handle ? (await listPinned(ctx.data.db)).length : null,
  )
  .authorize((ctx) => mayFetch(ctx));

function toRecipient(f: { actorIri: string; inbox: string; sharedInbox: string | null }): Recipient {
  return {
    id: new URL(f.actorIri),
    inboxId: new URL(f.inbox),
    endpoints: f.sharedInbox === null ? null : { sharedInbox: new URL(f.sharedInbox) },
  };
}
