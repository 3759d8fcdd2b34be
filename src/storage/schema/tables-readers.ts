import { bool, index, int32, number, serial, table, text, uniqueIndex } from "./define.ts";

/*
 * Readers without a fediverse account: email subscribers and Web Push
 * subscriptions, what is due to each, and each post's progress by channel.
 * Defined once for SQLite and PostgreSQL (define.ts).
 *
 * Nothing is queued per reader and post: a reader row carries `sent_through`
 * (the publication time of the last post it was sent) and `due_at` (when its
 * next message is due). What a message holds is decided when it is sent: the
 * posts published since, not deleted. So a batch or a digest gathers posts by
 * itself, a post deleted before its message leaves is not in it, and an edit
 * is never sent again.
 */

/** Email subscribers. Personal data: never in a public response or a log line. */
export const emailSubscribers = table(
  "email_subscribers",
  {
    id: serial("id"),
    /** The address as given (lower-case domain); null once erased (unsubscribed, suppressed, erased). */
    address: text("address"),
    /** A keyed hash of the lower-cased address: what is kept to honour an unsubscription or a suppression. */
    addressHash: text("address_hash").notNull(),
    /** The recipient's mail domain, lower-case (pacing); null once erased. */
    domain: text("domain"),
    /** Which worker sends to it (a hash of the domain, as fediverse servers are partitioned by host). */
    partition: int32("partition").notNull().default(0),
    /** "pending" (waiting for confirmation), "confirmed", "unsubscribed", "suppressed" (bounced or complained). */
    status: text("status").notNull(),
    /** "each" (each post, or each batch), "daily" or "weekly" (a digest). */
    cadence: text("cadence").notNull().default("each"),
    /** The secret of the confirmation link while pending (the link is a keyed hash of it). */
    nonce: text("nonce"),
    /** When the last confirmation was sent: at most one a day per address. */
    confirmSentAt: number("confirm_sent_at"),
    /** "form", "api" or "import". */
    source: text("source").notNull(),
    createdAt: number("created_at").notNull(),
    confirmedAt: number("confirmed_at"),
    /** When it was unsubscribed or suppressed. */
    endedAt: number("ended_at"),
    sentThrough: number("sent_through").notNull().default(0),
    dueAt: number("due_at"),
    attempts: number("attempts").notNull().default(0),
    lastError: text("last_error"),
  },
  (t) => [
    uniqueIndex("email_subscribers_hash").on(t.addressHash),
    index("email_subscribers_due").on(t.dueAt, t.id),
    index("email_subscribers_status").on(t.status, t.cadence, t.id),
  ],
);

/** Web Push subscriptions (a browser's push service endpoint and its keys). */
export const pushSubscriptions = table(
  "push_subscriptions",
  {
    id: serial("id"),
    endpoint: text("endpoint").notNull(),
    p256dh: text("p256dh").notNull(),
    auth: text("auth").notNull(),
    /** The push service's host, lower-case (pacing). */
    host: text("host").notNull(),
    partition: int32("partition").notNull().default(0),
    createdAt: number("created_at").notNull(),
    sentThrough: number("sent_through").notNull().default(0),
    dueAt: number("due_at"),
    attempts: number("attempts").notNull().default(0),
    lastError: text("last_error"),
  },
  (t) => [uniqueIndex("push_subscriptions_endpoint").on(t.endpoint), index("push_subscriptions_due").on(t.dueAt, t.id)],
);

/**
 * A published post handed to a reader channel: made due for its readers a
 * chunk at a time (`after_id`, `queued_all`), and its progress there.
 */
export const readerFanouts = table(
  "reader_fanouts",
  {
    id: serial("id"),
    postId: text("post_id").notNull(),
    /** "email" or "push". */
    channel: text("channel").notNull(),
    /** When the post was handed to the channels (`posts.queued_at`). */
    publishedAt: number("published_at").notNull(),
    afterId: number("after_id").notNull().default(0),
    queuedAll: bool("queued_all").notNull().default(false),
    /** Readers it was queued for, and how many of those it reached, failed, were suppressed or unsubscribed. */
    queued: number("queued").notNull().default(0),
    sent: number("sent").notNull().default(0),
    failed: number("failed").notNull().default(0),
    suppressed: number("suppressed").notNull().default(0),
    createdAt: number("created_at").notNull(),
  },
  (t) => [
    uniqueIndex("reader_fanouts_post").on(t.postId, t.channel),
    index("reader_fanouts_open").on(t.queuedAll, t.id),
  ],
);

/** Keys of the reader channels: the VAPID key pair, the key that signs readers' links. Secrets sealed. */
export const readerKeys = table("reader_keys", {
  name: text("name").primaryKey(),
  publicValue: text("public_value").notNull().default(""),
  secret: text("secret").notNull(),
  createdAt: number("created_at").notNull(),
});
