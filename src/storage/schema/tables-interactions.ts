import { index, number, serial, table, text, uniqueIndex } from "./define.ts";

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

/**
 * ActivityPub relays the owner joined: each public post is delivered to an
 * accepted relay's inbox (a delivery target of its own), which forwards it
 * into the federated timelines of the servers subscribed to it.
 */
export const relays = table(
  "relays",
  {
    id: serial("id"),
    /** What the owner gave: the relay's actor (LitePub style) or its inbox (Mastodon style). */
    url: text("url").notNull(),
    /** "mastodon" (Follow of the Public collection) or "litepub" (Follow of the relay's actor). */
    style: text("style").notNull(),
    /** The relay's actor, once known (LitePub: at once; Mastodon: from its Accept). */
    actorIri: text("actor_iri"),
    inbox: text("inbox").notNull(),
    followIri: text("follow_iri").notNull(),
    /** "pending", "accepted", "rejected". */
    status: text("status").notNull(),
    createdAt: number("created_at").notNull(),
    updatedAt: number("updated_at").notNull(),
  },
  (t) => [uniqueIndex("relays_url").on(t.url), uniqueIndex("relays_follow").on(t.followIri)],
);
