import { index, number, table, text, uniqueIndex } from "./define.ts";

/*
 * What the channel granted others (GoToSocial's and Mastodon's interaction
 * authorizations, beyond FEP-044f's quote stamps in tables.ts): one row per
 * granted request, served at its id for third parties to check, revoked (and
 * then served as gone) when its post is deleted or the rule changes.
 */
export const authorizations = table(
  "authorizations",
  {
    id: text("id").primaryKey(),
    /** "announce", "like" or "feature". */
    kind: text("kind").notNull(),
    /** The post the interaction targets; null for "feature" (it targets the actor). */
    postId: text("post_id"),
    /** The Announce, the Like, or the collection that features the account. */
    interactingIri: text("interacting_iri").notNull(),
    /** Who asked, and where to tell them when it is revoked. */
    actorIri: text("actor_iri").notNull(),
    inbox: text("inbox").notNull(),
    createdAt: number("created_at").notNull(),
    revokedAt: number("revoked_at"),
  },
  (t) => [
    uniqueIndex("authorizations_interacting").on(t.kind, t.interactingIri),
    index("authorizations_post").on(t.postId),
  ],
);
