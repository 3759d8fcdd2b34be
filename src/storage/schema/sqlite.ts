import { sql } from "drizzle-orm";
import { index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

/** The actor's key pairs, generated once at first start and kept forever. */
export const actorKeys = sqliteTable("actor_keys", {
  /** "RSASSA-PKCS1-v1_5" (RSA-2048, used to sign requests) or "Ed25519" (object proofs). */
  algorithm: text("algorithm").primaryKey(),
  publicJwk: text("public_jwk").notNull(),
  privateJwk: text("private_jwk").notNull(),
  createdAt: integer("created_at").notNull(),
});

/** Facts about this instance that are fixed once written (e.g. when the actor was created). */
export const instance = sqliteTable("instance", {
  key: text("key").primaryKey(),
  value: text("value").notNull(),
});

export const followers = sqliteTable(
  "followers",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    actorIri: text("actor_iri").notNull(),
    /** The Follow activity's id, kept to answer it (Accept now, Reject if removed later). */
    followIri: text("follow_iri"),
    inbox: text("inbox").notNull(),
    sharedInbox: text("shared_inbox"),
    /** Host of the actor id, lower-case: groups followers by server. */
    host: text("host").notNull(),
    /** `@user@host` as shown to the author, when known. */
    handle: text("handle"),
    /** "accepted", or "pending" while the author approves followers by hand. */
    status: text("status").$type<"accepted" | "pending">().notNull().default("accepted"),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [
    uniqueIndex("followers_actor_iri").on(t.actorIri),
    index("followers_host").on(t.host),
    index("followers_status").on(t.status),
  ],
);

/** Accounts and whole servers the author blocked: no follows, no inbox traffic, no deliveries. */
export const blocks = sqliteTable(
  "blocks",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    kind: text("kind").$type<"actor" | "domain">().notNull(),
    /** An actor id, or a lower-case host name. */
    value: text("value").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [uniqueIndex("blocks_kind_value").on(t.kind, t.value)],
);

/** Quote permissions we granted (FEP-044f stamps): what a revocation needs, nothing more. */
export const quoteStamps = sqliteTable(
  "quote_stamps",
  {
    id: text("id").primaryKey(),
    postId: text("post_id").notNull(),
    /** The quoting post. */
    quoteIri: text("quote_iri").notNull(),
    /** Who quoted, and where to tell them when the stamp is revoked. */
    actorIri: text("actor_iri").notNull(),
    inbox: text("inbox").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [index("quote_stamps_post").on(t.postId), uniqueIndex("quote_stamps_quote").on(t.postId, t.quoteIri)],
);

/** An attachment of a post: which media file, with the author's description. */
export interface Attachment {
  mediaId: string;
  /** Alt text. */
  alt: string;
  /** Focal point, x and y in -1..1 (Mastodon's convention). */
  focus?: [number, number];
}

export const posts = sqliteTable(
  "posts",
  {
    /** UUIDv7: sorts by creation time. */
    id: text("id").primaryKey(),
    /** What the author wrote (Markdown). */
    source: text("source").notNull(),
    /** Sanitized HTML rendered once from `source`. */
    contentHtml: text("content_html").notNull(),
    language: text("language").notNull(),
    /** Content warning. */
    summary: text("summary"),
    sensitive: integer("sensitive", { mode: "boolean" }).notNull().default(false),
    /** Hashtag names without '#', JSON array. */
    hashtags: text("hashtags", { mode: "json" }).$type<string[]>().notNull().default(sql`'[]'`),
    attachments: text("attachments", { mode: "json" }).$type<Attachment[]>().notNull().default(sql`'[]'`),
    publishedAt: integer("published_at").notNull(),
    updatedAt: integer("updated_at"),
    /** Set once the Create has been handed to the delivery queue; unset posts are re-queued at start. */
    queuedAt: integer("queued_at"),
    /** Set when pinned to the profile (the `featured` collection). */
    pinnedAt: integer("pinned_at"),
    /** Set when deleted: the row stays, emptied, so the post's URL answers 410. */
    deletedAt: integer("deleted_at"),
    /** How many times it was boosted: a number, nothing about who. */
    boosts: integer("boosts").notNull().default(0),
    /** The author's own post this one continues (a thread); never anyone else's. */
    inReplyTo: text("in_reply_to"),
    /** The first post of its thread (null for a post that starts none or is the first). */
    threadRoot: text("thread_root"),
  },
  (t) => [
    index("posts_published").on(t.publishedAt, t.id),
    index("posts_thread").on(t.threadRoot),
    // The delivery worker looks for posts not queued yet on every round: only those are indexed.
    index("posts_unqueued").on(t.publishedAt).where(sql`${t.queuedAt} IS NULL`),
  ],
);

/**
 * Earlier versions of edited posts, as they read before each edit (for the
 * edit history apps show). Erased with the post.
 */
export const postVersions = sqliteTable(
  "post_versions",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    postId: text("post_id").notNull(),
    source: text("source").notNull(),
    contentHtml: text("content_html").notNull(),
    language: text("language").notNull(),
    summary: text("summary"),
    sensitive: integer("sensitive", { mode: "boolean" }).notNull().default(false),
    attachments: text("attachments", { mode: "json" }).$type<Attachment[]>().notNull().default(sql`'[]'`),
    /** When this version was published or last edited: from then until the next version. */
    at: integer("at").notNull(),
  },
  (t) => [index("post_versions_post").on(t.postId, t.at)],
);

/** Fedify's key-value store (caches, idempotence records, circuit breaker state). */
export const kv = sqliteTable(
  "kv",
  {
    /** JSON array of the key parts. */
    key: text("key").primaryKey(),
    value: text("value").notNull(),
    /** Milliseconds since the epoch; null never expires. */
    expiresAt: integer("expires_at"),
  },
  (t) => [index("kv_expires").on(t.expiresAt)],
);

/** Fedify's message queue: deliveries, fan-outs and inbox work, durable across restarts. */
export const queue = sqliteTable(
  "queue",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    payload: text("payload").notNull(),
    orderingKey: text("ordering_key"),
    /** Milliseconds since the epoch when the message becomes ready. */
    runAt: integer("run_at").notNull(),
    /** Set while a worker holds the message; a crashed worker's lease runs out. */
    lockedUntil: integer("locked_until"),
    /** Times a handler threw on this message (Fedify retries deliveries itself; this guards the rest). */
    attempts: integer("attempts").notNull().default(0),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [index("queue_ready").on(t.runAt, t.id), index("queue_ordering").on(t.orderingKey)],
);

/** Posts waiting for their time; published (moved to `posts`) by the server's scheduler. */
export const scheduledPosts = sqliteTable(
  "scheduled_posts",
  {
    id: text("id").primaryKey(),
    source: text("source").notNull(),
    language: text("language").notNull(),
    summary: text("summary"),
    sensitive: integer("sensitive", { mode: "boolean" }).notNull().default(false),
    attachments: text("attachments", { mode: "json" }).$type<Attachment[]>().notNull().default(sql`'[]'`),
    /** When to publish, milliseconds since the epoch. */
    publishAt: integer("publish_at").notNull(),
    /** The time zone the author chose, to show the time back as they wrote it. */
    timeZone: text("time_zone").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [index("scheduled_posts_due").on(t.publishAt)],
);

/** Signed-in browser sessions of the author. Only a hash of the cookie's token is stored. */
export const sessions = sqliteTable(
  "sessions",
  {
    tokenHash: text("token_hash").primaryKey(),
    csrfToken: text("csrf_token").notNull(),
    createdAt: integer("created_at").notNull(),
    expiresAt: integer("expires_at").notNull(),
    /** Who signed in (a staff account). */
    staffId: integer("staff_id").notNull(),
    /** `full`; `second-factor` (the password was right, a factor is still asked); `enrol` (a factor must be set up first). */
    stage: text("stage").notNull().default("full"),
    /** Where and with what it was started, for the sessions list. */
    address: text("address"),
    userAgent: text("user_agent"),
    lastSeenAt: integer("last_seen_at"),
    /** The WebAuthn challenge of a passkey ceremony in progress. */
    challenge: text("challenge"),
  },
  (t) => [index("sessions_expires").on(t.expiresAt), index("sessions_staff").on(t.staffId)],
);

/** The author's profile as edited in the desk; null columns fall back to the configuration. */
export const profile = sqliteTable("profile", {
  id: integer("id").primaryKey(),
  name: text("name"),
  /** Markdown. */
  summary: text("summary"),
  bot: integer("bot", { mode: "boolean" }),
  /** Up to four `{ name, value }` pairs, JSON. */
  fields: text("fields", { mode: "json" }).$type<{ name: string; value: string }[]>(),
  avatarMediaId: text("avatar_media_id"),
  headerMediaId: text("header_media_id"),
  /** Other accounts of the author (`alsoKnownAs`): actor ids, JSON. */
  alsoKnownAs: text("also_known_as"),
  /** Set when the account moved away: the new account's actor id (`movedTo`). */
  movedTo: text("moved_to"),
  /** New followers wait for the author's approval. */
  approveFollowers: integer("approve_followers", { mode: "boolean" }),
  updatedAt: integer("updated_at").notNull(),
});

/** Uploaded pictures and videos, processed once; files live in the media store. */
export const media = sqliteTable("media", {
  /** SHA-256 of the uploaded bytes: the same upload twice is one media. */
  id: text("id").primaryKey(),
  kind: text("kind").$type<"image" | "video">().notNull(),
  mediaType: text("media_type").notNull(),
  /** Stored file name (content-addressed). */
  file: text("file").notNull(),
  size: integer("size").notNull(),
  width: integer("width"),
  height: integer("height"),
  durationMs: integer("duration_ms"),
  blurhash: text("blurhash"),
  /** A small WebP: the thumbnail of an image, the poster frame of a video. */
  previewFile: text("preview_file"),
  previewWidth: integer("preview_width"),
  previewHeight: integer("preview_height"),
  createdAt: integer("created_at").notNull(),
});

/** An activity sent to every follower's server: the body is stored once, delivered many times. */
export const outgoing = sqliteTable(
  "outgoing",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    activityIri: text("activity_iri").notNull(),
    /** "Create", "Update", "Delete", "Add", "Remove", "Update(Person)". */
    kind: text("kind").notNull(),
    /** The post it is about, when it is about one (ordering and progress). */
    postId: text("post_id"),
    /** The JSON body, exactly as sent. */
    body: text("body").notNull(),
    /** Finished deliveries pruned from `deliveries`, counted here so progress stays whole. */
    prunedDelivered: integer("pruned_delivered").notNull().default(0),
    prunedGone: integer("pruned_gone").notNull().default(0),
    prunedFailed: integer("pruned_failed").notNull().default(0),
    prunedGivenUp: integer("pruned_given_up").notNull().default(0),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [index("outgoing_post").on(t.postId)],
);

export type DeliveryStatus = "pending" | "sending" | "delivered" | "gone" | "failed" | "given_up";

/** One activity to one inbox (a server's shared inbox, mostly): what the author sees as progress. */
export const deliveries = sqliteTable(
  "deliveries",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    outgoingId: integer("outgoing_id").notNull(),
    postId: text("post_id"),
    inbox: text("inbox").notNull(),
    host: text("host").notNull(),
    status: text("status").$type<DeliveryStatus>().notNull().default("pending"),
    attempts: integer("attempts").notNull().default(0),
    nextAttemptAt: integer("next_attempt_at").notNull(),
    lastStatus: integer("last_status"),
    lastError: text("last_error"),
    updatedAt: integer("updated_at").notNull(),
    /** Which worker may send it: servers are split into partitions by a hash of the host (see delivery/partitions.ts). */
    partition: integer("partition").notNull().default(0),
    /** While `sending`: the worker holding it, and until when (a dead worker's rows come free then). */
    owner: text("owner"),
    leaseUntil: integer("lease_until"),
  },
  (t) => [
    index("deliveries_due").on(t.status, t.nextAttemptAt),
    index("deliveries_partition").on(t.partition, t.status, t.nextAttemptAt),
    index("deliveries_outgoing").on(t.outgoingId, t.status),
    index("deliveries_order").on(t.inbox, t.postId, t.id),
    index("deliveries_host").on(t.host, t.status),
  ],
);

/** What we know of each follower's server: whether it answers, whether it is paused. */
export const servers = sqliteTable("servers", {
  host: text("host").primaryKey(),
  /** Set at the first failure after a success; cleared by a success. */
  failingSince: integer("failing_since"),
  /** Distinct days (UTC) with failures since then. */
  failureDays: integer("failure_days").notNull().default(0),
  lastFailureDay: integer("last_failure_day"),
  lastSuccessAt: integer("last_success_at"),
  /** While set, the server is paused: only a probe is tried at this time. */
  probeAt: integer("probe_at"),
  /** The HTTP signature scheme it accepts: "cavage" (first knock) or "rfc9421". */
  signature: text("signature").notNull().default("cavage"),
});

/**
 * Expiring leases: who owns a delivery partition, which worker is alive,
 * who runs a once-only job (the scheduler, the sweeps). Taken and renewed by
 * one upsert; a process that dies stops renewing and loses them.
 */
export const leases = sqliteTable("leases", {
  name: text("name").primaryKey(),
  owner: text("owner").notNull(),
  expiresAt: integer("expires_at").notNull(),
});

/**
 * Cache purges waiting to be sent (`cache.purge_url`): one row per changed
 * URL, retried with growing delays until the cache answers; a second change
 * of the same URL before then is the same row.
 */
export const purges = sqliteTable("purges", {
  url: text("url").primaryKey(),
  attempts: integer("attempts").notNull().default(0),
  nextAttemptAt: integer("next_attempt_at").notNull(),
  lastError: text("last_error"),
  createdAt: integer("created_at").notNull(),
});

/** Accounts the actor follows: only a bridge (Bridgy Fed), never people. */
export const following = sqliteTable(
  "following",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    actorIri: text("actor_iri").notNull(),
    inbox: text("inbox").notNull(),
    /** Our Follow's id, to match the Accept and to Undo it. */
    followIri: text("follow_iri").notNull(),
    /** "pending" until the account accepts. */
    status: text("status").$type<"pending" | "accepted">().notNull().default("pending"),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [uniqueIndex("following_actor_iri").on(t.actorIri)],
);

export * from "./sqlite-staff.ts";
