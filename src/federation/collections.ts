import type { Recipient } from "@fedify/vocab";
import { countFollowers, deliveryTargets, listFollowers } from "../product/followers.ts";
import { countPosts, decodePostCursor, encodePostCursor, listPinned, listPosts } from "../product/posts.ts";
import { mayFetch } from "./authorize.ts";
import { builder } from "./builder.ts";
import { createFromPost, noteFromPost } from "./note.ts";

const OUTBOX_PAGE = 20;
const FOLLOWERS_PAGE = 100;
/** The outbox's first cursor: posts from the newest on. */
const NEWEST = "newest";

builder
  .setOutboxDispatcher("/users/{identifier}/outbox", (ctx, identifier, cursor) => {
    if (identifier !== ctx.data.config.handle || cursor == null) return null;
    const after = cursor === NEWEST ? null : decodePostCursor(cursor);
    if (cursor !== NEWEST && after === null) return null;
    const page = listPosts(ctx.data.db, OUTBOX_PAGE, { after });
    return {
      items: page.items.map((post) => createFromPost(ctx, post)),
      nextCursor: page.next === null ? null : encodePostCursor(page.next),
    };
  })
  .setCounter((ctx, identifier) => (identifier === ctx.data.config.handle ? countPosts(ctx.data.db) : null))
  .setFirstCursor((ctx, identifier) => (identifier === ctx.data.config.handle ? NEWEST : null))
  .authorize((ctx) => mayFetch(ctx));

builder
  .setFollowersDispatcher("/users/{identifier}/followers", (ctx, identifier, cursor) => {
    if (identifier !== ctx.data.config.handle) return null;
    if (cursor == null) {
      // Fedify asks with no cursor only to deliver to "followers", and takes the
      // answer as the complete list: one target per inbox is all it needs.
      return { items: deliveryTargets(ctx.data.db).map(toRecipient) };
    }
    if (!/^\d{1,15}$/.test(cursor)) return null;
    const after = Number(cursor);
    const page = listFollowers(ctx.data.db, FOLLOWERS_PAGE, after);
    return {
      items: page.items.map(toRecipient),
      nextCursor: page.next === null ? null : String(page.next),
    };
  })
  .setCounter((ctx, identifier) => (identifier === ctx.data.config.handle ? countFollowers(ctx.data.db) : null))
  .setFirstCursor((ctx, identifier) => (identifier === ctx.data.config.handle ? "0" : null))
  .authorize((ctx) => mayFetch(ctx));

builder
  .setFollowingDispatcher("/users/{identifier}/following", (ctx, identifier) =>
    identifier === ctx.data.config.handle ? { items: [] } : null,
  )
  .setCounter((ctx, identifier) => (identifier === ctx.data.config.handle ? 0 : null))
  .authorize((ctx) => mayFetch(ctx));

builder
  .setFeaturedDispatcher("/users/{identifier}/featured", (ctx, identifier) =>
    identifier === ctx.data.config.handle
      ? { items: listPinned(ctx.data.db).map((post) => noteFromPost(ctx, post)) }
      : null,
  )
  .setCounter((ctx, identifier) => (identifier === ctx.data.config.handle ? listPinned(ctx.data.db).length : null))
  .authorize((ctx) => mayFetch(ctx));

function toRecipient(f: { actorIri: string; inbox: string; sharedInbox: string | null }): Recipient {
  return {
    id: new URL(f.actorIri),
    inboxId: new URL(f.inbox),
    endpoints: f.sharedInbox === null ? null : { sharedInbox: new URL(f.sharedInbox) },
  };
}
