import { bool, index, int32, number, serial, table, text, uniqueIndex } from "./define.ts";

/* Lectern's tables, defined once for SQLite and PostgreSQL (define.ts; built by sqlite.ts and postgres.ts). */

/** The actor's key pairs, generated once at first start and kept forever. */
export const actorKeys = table("actor_keys", {
  /** "RSASSA-PKCS1-v1_5" (RSA-2048, used to sign requests) or "Ed25519" (object proofs). */
  algorithm: text("algorithm").primaryKey(),
  publicJwk: text("public_jwk").notNull(),
  privateJwk: text("private_jwk").notNull(),
  createdAt: number("created_at").notNull(),
});

/** Facts about this instance that are fixed once written (e.g. when the actor was created). */
export const instance = table("instance", {
  key: text("key").primaryKey(),
  value: text("value").notNull(),
});

export const followers = table(
  "followers",
  {
    id: serial("id"),
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
    status: text("status").notNull().default("accepted"),
    createdAt: number("created_at").notNull(),
  },
  (t) => [
    uniqueIndex("followers_actor_iri").on(t.actorIri),
    index("followers_host").on(t.host),
    index("followers_status").on(t.status),
  ],
);

/** Accounts and whole servers the author blocked: no follows, no inbox traffic, no deliveries. */
export const blocks = table(
  "blocks",
  {
    id: serial("id"),
    kind: text("kind").notNull(),
    /** An actor id, or a lower-case host name. */
    value: text("value").notNull(),
    createdAt: number("created_at").notNull(),
  },
  (t) => [uniqueIndex("blocks_kind_value").on(t.kind, t.value)],
);

/** Quote permissions we granted (FEP-044f stamps): what a revocation needs, nothing more. */
export const quoteStamps = table(
  "quote_stamps",
  {
    id: text("id").primaryKey(),
    postId: text("post_id").notNull(),
    /** The quoting post. */
    quoteIri: text("quote_iri").notNull(),
    /** Who quoted, and where to tell them when the stamp is revoked. */
    actorIri: text("actor_iri").notNull(),
    inbox: text("inbox").notNull(),
    createdAt: number("created_at").notNull(),
  },
  (t) => [index("quote_stamps_post").on(t.postId), uniqueIndex("quote_stamps_quote").on(t.postId, t.quoteIri)],
);

export const posts = table(
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
    sensitive: bool("sensitive").notNull().default(false),
    /** A statement's title (federated as an Article); null for a post (a Note). */
    title: text("title"),
    /** The W3C traceparent of the request that published it (traces on). */
    traceParent: text("trace_parent"),
    /** Hashtag names without '#', JSON array. */
    hashtags: text("hashtags").notNull().defaultSql("'[]'"),
    attachments: text("attachments").notNull().defaultSql("'[]'"),
    publishedAt: number("published_at").notNull(),
    updatedAt: number("updated_at"),
    /** Set once a worker handed the post to every channel (delivery/published.ts); until then one will. */
    queuedAt: number("queued_at"),
    /** Set when pinned to the profile (the `featured` collection). */
    pinnedAt: number("pinned_at"),
    /** Set when deleted: the row stays, emptied, so the post's URL answers 410. */
    deletedAt: number("deleted_at"),
    /** How many times it was boosted: a number, nothing about who. */
    boosts: number("boosts").notNull().default(0),
    /** How many times it was liked (one per account): a number, nothing about who. */
    likes: number("likes").notNull().default(0),
    /** The author's own post this one continues (a thread); never anyone else's. */
    inReplyTo: text("in_reply_to"),
    /** The first post of its thread (null for a post that starts none or is the first). */
    threadRoot: text("thread_root"),
  },
  (t) => [
    index("posts_published").on(t.publishedAt, t.id),
    index("posts_thread").on(t.threadRoot),
    // The delivery worker looks for posts not queued yet on every round: only those are indexed.
    index("posts_unqueued").on(t.publishedAt).whereNull(t.queuedAt),
    // Readers' messages hold the posts handed to the channels since their last one.
    index("posts_queued").on(t.queuedAt),
  ],
);

/**
 * Earlier versions of edited posts, as they read before each edit (for the
 * edit history apps show). Erased with the post.
 */
export const postVersions = table(
  "post_versions",
  {
    id: serial("id"),
    postId: text("post_id").notNull(),
    source: text("source").notNull(),
    contentHtml: text("content_html").notNull(),
    language: text("language").notNull(),
    summary: text("summary"),
    sensitive: bool("sensitive").notNull().default(false),
    title: text("title"),
    attachments: text("attachments").notNull().defaultSql("'[]'"),
    /** When this version was published or last edited: from then until the next version. */
    at: number("at").notNull(),
  },
  (t) => [index("post_versions_post").on(t.postId, t.at)],
);

/** Fedify's key-value store (caches, idempotence records, circuit breaker state). */
export const kv = table(
  "kv",
  {
    /** JSON array of the key parts. */
    key: text("key").primaryKey(),
    value: text("value").notNull(),
    /** Milliseconds since the epoch; null never expires. */
    expiresAt: number("expires_at"),
  },
  (t) => [index("kv_expires").on(t.expiresAt)],
);

/** Fedify's message queue: deliveries, fan-outs and inbox work, durable across restarts. */
export const queue = table(
  "queue",
  {
    id: serial("id"),
    payload: text("payload").notNull(),
    orderingKey: text("ordering_key"),
    /** Milliseconds since the epoch when the message becomes ready. */
    runAt: number("run_at").notNull(),
    /** Set while a worker holds the message; a crashed worker's lease runs out. */
    lockedUntil: number("locked_until"),
    /** Times a handler threw on this message (Fedify retries deliveries itself; this guards the rest). */
    attempts: number("attempts").notNull().default(0),
    createdAt: number("created_at").notNull(),
  },
  (t) => [index("queue_ready").on(t.runAt, t.id), index("queue_ordering").on(t.orderingKey)],
);

/** Signed-in browser sessions of the author. Only a hash of the cookie's token is stored. */
export const sessions = table(
  "sessions",
  {
    tokenHash: text("token_hash").primaryKey(),
    csrfToken: text("csrf_token").notNull(),
    createdAt: number("created_at").notNull(),
    expiresAt: number("expires_at").notNull(),
    /** Who signed in (a staff account). */
    staffId: number("staff_id").notNull(),
    /** `full`; `second-factor` (the password was right, a factor is still asked); `enrol` (a factor must be set up first). */
    stage: text("stage").notNull().default("full"),
    /** Where and with what it was started, for the sessions list. */
    address: text("address"),
    userAgent: text("user_agent"),
    lastSeenAt: number("last_seen_at"),
    /** The WebAuthn challenge of a passkey ceremony in progress. */
    challenge: text("challenge"),
  },
  (t) => [index("sessions_expires").on(t.expiresAt), index("sessions_staff").on(t.staffId)],
);

/** The author's profile as edited in the desk; null columns fall back to the configuration. */
export const profile = table("profile", {
  id: int32("id").primaryKey(),
  name: text("name"),
  /** Markdown. */
  summary: text("summary"),
  /** The bio as HTML, rendered (and sanitized) when it is saved, as a post's is. */
  summaryHtml: text("summary_html"),
  bot: bool("bot"),
  /** Up to four `{ name, value }` pairs, JSON. */
  fields: text("fields"),
  avatarMediaId: text("avatar_media_id"),
  headerMediaId: text("header_media_id"),
  /** Other accounts of the author (`alsoKnownAs`): actor ids, JSON. */
  alsoKnownAs: text("also_known_as"),
  /** Set when the account moved away: the new account's actor id (`movedTo`). */
  movedTo: text("moved_to"),
  /** New followers wait for the author's approval. */
  approveFollowers: bool("approve_followers"),
  updatedAt: number("updated_at").notNull(),
});

/** Uploaded pictures and videos, processed once; files live in the media store. */
export const media = table("media", {
  /** SHA-256 of the uploaded bytes: the same upload twice is one media. */
  id: text("id").primaryKey(),
  kind: text("kind").notNull(),
  mediaType: text("media_type").notNull(),
  /** Stored file name (content-addressed). */
  file: text("file").notNull(),
  size: number("size").notNull(),
  width: number("width"),
  height: number("height"),
  durationMs: number("duration_ms"),
  blurhash: text("blurhash"),
  /** A small WebP: the thumbnail of an image, the poster frame of a video. */
  previewFile: text("preview_file"),
  previewWidth: number("preview_width"),
  previewHeight: number("preview_height"),
  createdAt: number("created_at").notNull(),
});

/** An activity sent to every follower's server: the body is stored once, delivered many times. */
export const outgoing = table(
  "outgoing",
  {
    id: serial("id"),
    activityIri: text("activity_iri").notNull(),
    /** "Create", "Update", "Delete", "Add", "Remove", "Update(Person)". */
    kind: text("kind").notNull(),
    /** The post it is about, when it is about one (ordering and progress). */
    postId: text("post_id"),
    /** The JSON body, exactly as sent. */
    body: text("body").notNull(),
    /** Deliveries queued for it; a success deletes its row: delivered = queued − rows left − pruned. */
    queued: number("queued").notNull().default(0),
    /**
     * Whether the activity is queued for all its targets (see delivery/fanout.ts), and while it is
     * not, the last target inbox queued so far (targets are queued in inbox order, in chunks).
     */
    queuedAll: bool("queued_all").notNull().default(false),
    queuedAfter: text("queued_after"),
    /** Finished deliveries that did not succeed, pruned from `deliveries`, counted here so progress stays whole. */
    prunedGone: number("pruned_gone").notNull().default(0),
    prunedFailed: number("pruned_failed").notNull().default(0),
    prunedGivenUp: number("pruned_given_up").notNull().default(0),
    createdAt: number("created_at").notNull(),
    /** The traceparent of the span that stored it: its deliveries' spans are its children. */
    traceParent: text("trace_parent"),
  },
  (t) => [index("outgoing_post").on(t.postId), index("outgoing_queueing").on(t.queuedAll, t.id)],
);

/**
 * One activity to one inbox (a server's shared inbox, mostly), while it is
 * due or retrying, and when it failed for good. A success deletes the row
 * (counted by `outgoing.queued` less what remains): one write after the queue step. Nothing
 * marks a row as being sent: a partition's rows are sent by its one owner
 * (delivery/partitions.ts), who keeps what it has in flight in memory; a row
 * a dead worker had in flight is still due and is sent again by the next owner.
 */
export const deliveries = table(
  "deliveries",
  {
    id: serial("id"),
    outgoingId: number("outgoing_id").notNull(),
    postId: text("post_id"),
    inbox: text("inbox").notNull(),
    host: text("host").notNull(),
    /** "pending" (due at `next_attempt_at`), or finished: "failed" (refused for good), "given_up", "gone". */
    status: text("status").notNull().default("pending"),
    attempts: number("attempts").notNull().default(0),
    nextAttemptAt: number("next_attempt_at").notNull(),
    lastStatus: number("last_status"),
    lastError: text("last_error"),
    updatedAt: number("updated_at").notNull(),
    /** Which worker may send it: servers are split into partitions by a hash of the host (see delivery/partitions.ts). */
    partition: number("partition").notNull().default(0),
  },
  (t) => [
    index("deliveries_due").on(t.status, t.nextAttemptAt, t.id),
    index("deliveries_outgoing").on(t.outgoingId, t.status),
    index("deliveries_order").on(t.inbox, t.postId, t.id),
  ],
);

/**
 * Where an activity for every follower goes: one row per shared inbox (or
 * personal inbox of a follower without one) with how many accepted followers
 * it serves. Kept by database triggers on `followers` (see the migration
 * `delivery_targets`), so every change of a follower — follow, approval,
 * unfollow, removal, a block, a move, a new inbox — changes it in the same
 * transaction, whatever code made it. A post is queued from here in short
 * chunks (delivery/queueing.ts): its cost is per server, not per follower.
 * Rows reaching 0 followers stay (and are skipped) until the daily sweep.
 */
export const deliveryTargets = table(
  "delivery_targets",
  {
    inbox: text("inbox").primaryKey(),
    /** The host of the first follower behind it (lower-case): the server it belongs to. */
    host: text("host").notNull(),
    partition: int32("partition").notNull(),
    followers: number("followers").notNull().default(0),
  },
  (t) => [index("delivery_targets_host").on(t.host)],
);

/** What we know of each follower's server: whether it answers, whether it is paused. */
export const servers = table("servers", {
  host: text("host").primaryKey(),
  /** Set at the first failure after a success; cleared by a success. */
  failingSince: number("failing_since"),
  /** Distinct days (UTC) with failures since then. */
  failureDays: number("failure_days").notNull().default(0),
  lastFailureDay: number("last_failure_day"),
  lastSuccessAt: number("last_success_at"),
  /** While set, the server is paused: only a probe is tried at this time. */
  probeAt: number("probe_at"),
  /** The signature scheme it gets: "cavage", "rfc9421" (Mastodon 4.5+) or "cavage-only" (it refused RFC 9421). */
  signature: text("signature").notNull().default("cavage"),
  /** What it last answered when it failed (for the desk's Server page). */
  lastError: text("last_error"),
});

/**
 * Expiring leases: who owns a delivery partition, which worker is alive,
 * who runs a once-only job (the scheduler, the sweeps). Taken and renewed by
 * one upsert; a process that dies stops renewing and loses them.
 */
export const leases = table("leases", {
  name: text("name").primaryKey(),
  owner: text("owner").notNull(),
  expiresAt: number("expires_at").notNull(),
  /** A worker's lease: deliveries it has in flight, and those it recorded in the last minute, as of its last renewal. */
  inFlight: int32("in_flight"),
  deliveredLastMinute: int32("delivered_last_minute"),
});

/**
 * Cache purges waiting to be sent (`cache.purge_url`): one row per changed
 * URL, retried with growing delays until the cache answers; a second change
 * of the same URL before then is the same row.
 */
export const purges = table("purges", {
  url: text("url").primaryKey(),
  attempts: int32("attempts").notNull().default(0),
  nextAttemptAt: number("next_attempt_at").notNull(),
  lastError: text("last_error"),
  createdAt: number("created_at").notNull(),
});

/** Accounts the actor follows: only a bridge (Bridgy Fed), never people. */
export const following = table(
  "following",
  {
    id: serial("id"),
    actorIri: text("actor_iri").notNull(),
    inbox: text("inbox").notNull(),
    /** Our Follow's id, to match the Accept and to Undo it. */
    followIri: text("follow_iri").notNull(),
    /** "pending" until the account accepts. */
    status: text("status").notNull().default("pending"),
    createdAt: number("created_at").notNull(),
  },
  (t) => [uniqueIndex("following_actor_iri").on(t.actorIri)],
);
