import type { Queryable } from "../storage/database.ts";
import type { Authorization } from "./authorizations.ts";
import type { Follower } from "./followers.ts";
import type { Post } from "./post.ts";
import type { QuoteStamp } from "./quotes.ts";

/** Someone we answer or tell something: their actor and their inbox. */
export interface Recipient {
  id: URL;
  inbox: URL;
}

/** A follow as we keep it: who, with which Follow, at which inbox. */
export type FollowRef = Pick<Follower, "actorIri" | "followIri" | "inbox">;

/**
 * A polite request (GoToSocial's Reply/Like/AnnounceRequest, FEP-044f's
 * QuoteRequest, Mastodon 4.6's FeatureRequest) as it was received, by its ids.
 */
export interface InteractionRequest {
  /** "OtherRequest": a *Request type Lectern does not know (answered with a Reject by its id). */
  type: "ReplyRequest" | "QuoteRequest" | "AnnounceRequest" | "LikeRequest" | "FeatureRequest" | "OtherRequest";
  id: URL;
  actor: URL;
  object: URL | null;
  instrument: URL | null;
}

/**
 * What happened, as the product says it: the facts every way out (a
 * channel) hears. The fediverse is one channel (delivery/outbox.ts turns each
 * fact into its activity and delivers it with one signing path, one HTTP
 * client, one retry policy); others (email, Web Push, a relay) take the facts
 * they care about. Product code never builds an activity itself.
 */
export interface Outbox {
  /**
   * A post is public. Heard once per post, by the worker that claims it: each
   * channel prepares what it needs (outside any transaction) and returns the
   * writes it makes inside the one that claims the post, so the post is sent
   * on by every channel, or by none and claimed again later.
   */
  postPublished(post: Post): Promise<(tx: Queryable) => Promise<void>>;
  /** An edited post. */
  postEdited(post: Post): Promise<void>;
  /** A deleted post. */
  postDeleted(post: Post, deletedAt: number): Promise<void>;
  /** A post pinned or unpinned. */
  pinChanged(post: Post, pinned: boolean, at: number): Promise<void>;
  /** The profile changed. */
  profileChanged(at: number): Promise<void>;
  /** A follower's Follow accepted. */
  followAccepted(follow: FollowRef): Promise<void>;
  /** A follower's Follow refused, or a follower removed. */
  followRejected(follow: FollowRef): Promise<void>;
  /** A reply to one of our posts (or a request to reply) refused. */
  replyRejected(to: Recipient, reply: { id: URL; target: URL | null; request?: InteractionRequest }): Promise<void>;
  /** A polite request answered: granted with this authorization (a stamp), or refused (null). */
  requestAnswered(to: Recipient, request: InteractionRequest, stamp: URL | null): Promise<void>;
  /** A quote permission revoked. */
  stampRevoked(stamp: QuoteStamp): Promise<void>;
  /** A boost, like or featuring we authorized, revoked. */
  authorizationRevoked(authorization: Authorization): Promise<void>;
  /** The account moved to `target`. */
  accountMoved(target: URL, at: number): Promise<void>;
  /** We follow an account (a bridge), with the Follow id we keep. */
  followed(account: Recipient, followId: URL): Promise<void>;
  /** We stopped following it. */
  unfollowed(account: Recipient, followId: URL): Promise<void>;
}

/** A way out: the facts it cares about (an email sender takes posts, not follow answers). */
export type Channel = Partial<Outbox>;

/**
 * Every channel as one outbox: each fact goes to each channel that takes it,
 * in the order they were given (the fediverse first), one after the other.
 */
export class Outboxes implements Outbox {
  readonly #channels: readonly Channel[];
  constructor(channels: readonly Channel[]) {
    this.#channels = channels;
  }

  async postPublished(post: Post): Promise<(tx: Queryable) => Promise<void>> {
    const writes: ((tx: Queryable) => Promise<void>)[] = [];
    for (const c of this.#channels) if (c.postPublished) writes.push(await c.postPublished(post));
    return async (tx) => {
      for (const write of writes) await write(tx);
    };
  }

  async #each<K extends Exclude<keyof Outbox, "postPublished">>(fact: K, ...args: Parameters<Outbox[K]>) {
    for (const c of this.#channels) {
      const f = c[fact] as ((...a: Parameters<Outbox[K]>) => Promise<void>) | undefined;
      if (f) await f.apply(c, args);
    }
  }

  postEdited = (post: Post) => this.#each("postEdited", post);
  postDeleted = (post: Post, deletedAt: number) => this.#each("postDeleted", post, deletedAt);
  pinChanged = (post: Post, pinned: boolean, at: number) => this.#each("pinChanged", post, pinned, at);
  profileChanged = (at: number) => this.#each("profileChanged", at);
  followAccepted = (follow: FollowRef) => this.#each("followAccepted", follow);
  followRejected = (follow: FollowRef) => this.#each("followRejected", follow);
  replyRejected = (to: Recipient, reply: { id: URL; target: URL | null; request?: InteractionRequest }) =>
    this.#each("replyRejected", to, reply);
  requestAnswered = (to: Recipient, request: InteractionRequest, stamp: URL | null) =>
    this.#each("requestAnswered", to, request, stamp);
  authorizationRevoked = (authorization: Authorization) => this.#each("authorizationRevoked", authorization);
  stampRevoked = (stamp: QuoteStamp) => this.#each("stampRevoked", stamp);
  accountMoved = (target: URL, at: number) => this.#each("accountMoved", target, at);
  followed = (account: Recipient, followId: URL) => this.#each("followed", account, followId);
  unfollowed = (account: Recipient, followId: URL) => this.#each("unfollowed", account, followId);
}
