import { CHANNELS, type Queryable } from "../storage/database.ts";
import { sql } from "../storage/sql.ts";
import type { AppData } from "./context.ts";
import { bumpSiteVersion } from "./instance.ts";

/**
 * What the author changed, in the words of the product; {@link changedUrls}
 * knows which public URLs show each. Follower counts are not a change: they
 * move all the time for a large account, and pages show them as of their
 * cache lifetime.
 */
export type Change =
  | { kind: "post"; id: string; hashtags: readonly string[]; pinned?: boolean; thread?: readonly string[] }
  | { kind: "pins"; id: string }
  | { kind: "profile" }
  | { kind: "followers" }
  | { kind: "following" };

/** Every public URL that shows a change, for purging shared caches. */
export function changedUrls(data: Pick<AppData, "urls">, changes: readonly Change[]): string[] {
  const { urls } = data;
  const out = new Set<string>();
  const listings = () => {
    for (const u of [urls.desk(), new URL("/", urls.origin), urls.outbox(), urls.outboxFirstPage()]) out.add(u.href);
    out.add(urls.feed("rss").href);
    out.add(urls.feed("atom").href);
  };
  for (const change of changes) {
    switch (change.kind) {
      case "post":
        out.add(urls.post(change.id).href);
        out.add(urls.postCreate(change.id).href);
        // A continuation changes the pages of its thread and the replies collection of what it continues.
        for (const other of change.thread ?? []) {
          out.add(urls.post(other).href);
          out.add(urls.replies(other).href);
        }
        for (const tag of change.hashtags) out.add(urls.tag(tag).href);
        if (change.pinned) out.add(urls.featured().href);
        listings();
        break;
      case "pins":
        out.add(urls.post(change.id).href);
        out.add(urls.featured().href);
        out.add(urls.desk().href);
        out.add(new URL("/", urls.origin).href);
        break;
      case "profile":
        // Post pages show the profile too; they catch up within the shared cache lifetime.
        out.add(urls.actor().href);
        listings();
        break;
      case "followers":
        out.add(urls.followers().href);
        break;
      case "following":
        out.add(urls.following().href);
        break;
    }
  }
  return [...out];
}

/**
 * Records that the author changed something public: the site version moves
 * (every process's response cache and every ETag follow it), and when a
 * cache purge endpoint is configured, each URL that shows the change is
 * queued to be purged there (sent and retried by a worker, see
 * delivery/purges.ts). Runs in the caller's transaction when given one.
 */
export async function siteChanged(
  data: Pick<AppData, "urls" | "config" | "db">,
  changes: readonly Change[],
  options: { tx?: Queryable; now?: number } = {},
): Promise<void> {
  const db = options.tx ?? data.db;
  await bumpSiteVersion(db);
  if (data.config.cache.purgeUrl === null) return;
  const now = options.now ?? Date.now();
  for (const url of changedUrls(data, changes)) {
    await db.run(
      sql`INSERT INTO purges (url, attempts, next_attempt_at, created_at) VALUES (${url}, 0, ${now}, ${now})
          ON CONFLICT (url) DO UPDATE SET attempts = 0, next_attempt_at = ${now}, last_error = NULL`,
    );
  }
  if (options.tx === undefined) await data.db.notify(CHANNELS.purges);
}

/** A post's change, from the post (its tags, whether the profile shows it pinned). */
export function postChange(post: {
  id: string;
  hashtags: readonly string[];
  pinnedAt: number | null;
  inReplyTo?: string | null;
  threadRoot?: string | null;
}): Change {
  const thread = [...new Set([post.inReplyTo, post.threadRoot].filter((x): x is string => !!x))];
  return { kind: "post", id: post.id, hashtags: post.hashtags, pinned: post.pinnedAt !== null, thread };
}
