import type { InboxContext } from "@fedify/fedify";
import { Accept, Activity, Delete, Follow, isActor, Undo } from "@fedify/vocab";
import { getLogger } from "@logtape/logtape";
import type { AppData } from "../context.ts";
import { addFollower, getFollower, removeFollower } from "../product/followers.ts";
import { uuidv7 } from "../product/ids.ts";
import { builder } from "./builder.ts";

const logger = getLogger(["lectern", "inbox"]);

builder
  .setInboxListeners("/users/{identifier}/inbox", "/inbox")
  .on(Follow, onFollowed)
  .on(Undo, onUndone)
  .on(Delete, onDeleted)
  // Replies, mentions, likes, boosts and everything else: answered 202, not stored.
  .on(Activity, () => {})
  .onError((_ctx, error) => {
    logger.warn("Inbox activity failed: {error}", { error });
  });

function isOurActor(ctx: InboxContext<AppData>, uri: URL | null): boolean {
  const parsed = ctx.parseUri(uri);
  return parsed?.type === "actor" && parsed.identifier === ctx.data.config.handle;
}

/** A Follow of our actor: store the follower and accept at once. */
export async function onFollowed(ctx: InboxContext<AppData>, follow: Follow): Promise<void> {
  const identifier = ctx.data.config.handle;
  if (follow.id == null || follow.actorId == null || !isOurActor(ctx, follow.objectId)) return;
  const documentLoader = await ctx.getDocumentLoader({ identifier });
  const follower = await follow.getActor({ documentLoader, contextLoader: ctx.contextLoader, suppressError: true });
  if (follower == null || !isActor(follower) || follower.id?.href !== follow.actorId.href || follower.inboxId == null) {
    logger.info("Ignoring a Follow from {actor}: its actor document could not be read", { actor: follow.actorId.href });
    return;
  }
  // For display only: no WebFinger round trip per Follow (a follow storm would make thousands).
  const handle = follower.preferredUsername ? `@${follower.preferredUsername}@${follower.id.host}` : null;
  addFollower(ctx.data.db, {
    actorIri: follower.id.href,
    followIri: follow.id.href,
    inbox: follower.inboxId.href,
    sharedInbox: follower.endpoints?.sharedInbox?.href ?? null,
    handle,
  });
  logger.info("New follower {follower}", { follower: handle ?? follower.id.href });
  const actor = ctx.getActorUri(identifier);
  await ctx.sendActivity(
    { identifier },
    follower,
    new Accept({
      id: new URL(`#accepts/${uuidv7()}`, actor),
      actor,
      // The Follow as received, by ids: `follow` now caches the follower's whole actor document.
      object: new Follow({ id: follow.id, actor: follow.actorId, object: follow.objectId }),
    }),
  );
}

/**
 * An Undo from a follower ends the follow when it undoes a Follow of us,
 * matched by the Undo's (signed) actor whatever the embedded Follow's id; some
 * servers send an Undo whose object is our actor itself, meaning the same.
 */
export async function onUndone(ctx: InboxContext<AppData>, undo: Undo): Promise<void> {
  const actorId = undo.actorId;
  if (actorId == null) return;
  const follower = getFollower(ctx.data.db, actorId.href);
  if (follower === undefined) return; // Nothing of theirs to undo: no fetches for strangers.
  let unfollow = isOurActor(ctx, undo.objectId) || (follower.followIri !== null && undo.objectId?.href === follower.followIri);
  if (!unfollow) {
    try {
      const documentLoader = await ctx.getDocumentLoader({ identifier: ctx.data.config.handle });
      // Only the embedded Follow's type and target are read; who leaves is the Undo's signed actor,
      // so an embedded Follow whose id lives elsewhere can be trusted as far as that goes.
      const object = await undo.getObject({ documentLoader, contextLoader: ctx.contextLoader, suppressError: true, crossOrigin: "trust" });
      unfollow = object instanceof Follow && (object.objectId == null || isOurActor(ctx, object.objectId));
    } catch {
      unfollow = false;
    }
  }
  if (unfollow && removeFollower(ctx.data.db, actorId.href)) {
    logger.info("{follower} unfollowed", { follower: follower.handle ?? actorId.href });
  }
}

/** A follower whose account is deleted stops being a follower; other Deletes are noise. */
export function onDeleted(ctx: InboxContext<AppData>, del: Delete): void {
  const actorId = del.actorId;
  if (actorId == null || del.objectId?.href !== actorId.href) return;
  if (removeFollower(ctx.data.db, actorId.href)) {
    logger.info("Follower {follower} was deleted", { follower: actorId.href });
  }
}
