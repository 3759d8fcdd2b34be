import type { Activity } from "@fedify/vocab";
import type { Follower } from "./followers.ts";
import type { Post } from "./posts.ts";
import type { QuoteStamp } from "./quotes.ts";

/**
 * The one way out: product code says what happened, the delivery engine
 * (delivery/outbox.ts) turns it into the activity (federation/) and sends
 * it with one signing path, one HTTP client, one retry policy, one
 * User-Agent, one progress view.
 */
export interface Outbox {
  /** An edited post: Update(Note) to every follower's server. */
  postUpdated(post: Post): Promise<void>;
  /** A deleted post: Delete(Tombstone) to every follower's server. */
  postDeleted(post: Post, deletedAt: number): Promise<void>;
  /** A post pinned or unpinned: Add/Remove to every follower's server. */
  pinChanged(post: Post, pinned: boolean, at: number): Promise<void>;
  /** The profile changed: Update(Person) to every follower's server. */
  profileChanged(at: number): Promise<void>;
  /** Accept or Reject of a follower's Follow, to that follower. */
  followAnswered(follower: Pick<Follower, "actorIri" | "followIri" | "inbox">, accepted: boolean): Promise<void>;
  /** A quote permission revoked, to the quoting server. */
  stampRevoked(stamp: QuoteStamp): Promise<void>;
  /** The account moved to `target`: Move to every follower's server. */
  accountMoved(target: URL, at: number): Promise<void>;
  /** We follow an account (a bridge): our Follow, with the id we keep. */
  followed(account: { id: URL; inbox: URL }, followId: URL): Promise<void>;
  /** We stopped following it: Undo of that Follow. */
  unfollowed(account: { id: URL; inbox: URL }, followId: URL): Promise<void>;
  /** Any other activity to one recipient (answers the inbox gives); `kind` names it in progress views. */
  send(recipient: { id: URL; inbox: URL }, activity: Activity, kind: string): Promise<void>;
}
