import { UUID_PATTERN } from "./ids.ts";

/**
 * Every path Lectern serves, in one place: Fedify's dispatchers register
 * these, the web routes mount them, triage and the CLI parse them. Change a
 * path here and everything follows.
 */
export const PATHS = {
  actor: "/users/{identifier}",
  inbox: "/users/{identifier}/inbox",
  sharedInbox: "/inbox",
  outbox: "/users/{identifier}/outbox",
  followers: "/users/{identifier}/followers",
  following: "/users/{identifier}/following",
  featured: "/users/{identifier}/featured",
  post: "/posts/{id}",
  postActivity: "/posts/{id}/activity",
  replies: "/posts/{id}/replies",
  stamp: "/stamps/{id}",
  authorization: "/authorizations/{id}",
  media: "/media/",
  mediaFile: "/media/{name}",
  tag: "/tags/{tag}",
  tagRss: "/tags/{tag}/feed.rss",
  tagAtom: "/tags/{tag}/feed.atom",
  feedRss: "/feed.rss",
  feedAtom: "/feed.atom",
  admin: "/admin",
} as const;

/** `/posts/{id}` as Hono writes it, `/posts/:id`, in the type too (so route parameters stay typed). */
type Route<T extends string> = T extends `${infer Head}{${infer Name}}${infer Tail}`
  ? `${Head}:${Name}${Route<Tail>}`
  : T;

/** A path template as a Hono route: `/posts/{id}` is mounted as `/posts/:id`. */
export function route<T extends string>(template: T): Route<T> {
  return template.replace(/\{(\w+)\}/g, ":$1") as Route<T>;
}

/** A Fedify path template with its variables filled in. */
function fill(template: string, values: Record<string, string>): string {
  return template.replace(/\{(\w+)\}/g, (_, k: string) => encodeURIComponent(values[k] ?? ""));
}

/**
 * Makes and parses Lectern's URLs and activity ids, always from the
 * configured origin (never from a request's Host): the public account's
 * identity must not depend on who asks.
 */
export class Urls {
  readonly origin: URL;
  readonly handle: string;
  /** Where media links point: `media.public_url` (a CDN), or this server's /media/. */
  readonly mediaBase: URL;
  constructor(origin: URL, handle: string, mediaBase: URL | null = null) {
    this.origin = new URL(origin.origin);
    this.handle = handle;
    this.mediaBase =
      mediaBase === null ? new URL(PATHS.media, this.origin) : new URL(mediaBase.href.replace(/\/*$/, "/"));
  }

  #at(path: string): URL {
    return new URL(path, this.origin);
  }

  actor(): URL {
    return this.#at(fill(PATHS.actor, { identifier: this.handle }));
  }
  keyId(): URL {
    return new URL(`${this.actor().href}#main-key`);
  }
  inbox(): URL {
    return this.#at(fill(PATHS.inbox, { identifier: this.handle }));
  }
  sharedInbox(): URL {
    return this.#at(PATHS.sharedInbox);
  }
  /** Paths on which inbox POSTs arrive (triage runs on them). */
  inboxPaths(): string[] {
    return [this.sharedInbox().pathname, this.inbox().pathname];
  }
  followers(): URL {
    return this.#at(fill(PATHS.followers, { identifier: this.handle }));
  }
  outbox(): URL {
    return this.#at(fill(PATHS.outbox, { identifier: this.handle }));
  }
  /** The outbox's first page (Fedify's first cursor), which every new post changes. */
  outboxFirstPage(): URL {
    return new URL(`${this.outbox().href}?cursor=newest`);
  }
  following(): URL {
    return this.#at(fill(PATHS.following, { identifier: this.handle }));
  }
  featured(): URL {
    return this.#at(fill(PATHS.featured, { identifier: this.handle }));
  }
  /** The author's public page for browsers. */
  desk(): URL {
    return this.#at(`/@${this.handle}`);
  }
  /** `@handle@host`, as people write the account. */
  acct(): string {
    return `@${this.handle}@${this.origin.host}`;
  }

  /** A post's ActivityPub id and HTML permalink (the same URL). */
  post(id: string): URL {
    return this.#at(fill(PATHS.post, { id }));
  }
  /** The id of a post's Create. */
  postCreate(id: string): URL {
    return this.#at(fill(PATHS.postActivity, { id }));
  }
  postUpdate(id: string, at: number): URL {
    return new URL(`${this.post(id).href}#updates/${at}`);
  }
  postDelete(id: string): URL {
    return new URL(`${this.post(id).href}#delete`);
  }
  /** A thread's conversation (its first post's URL and `#thread`): the `context` of each of its Notes. */
  thread(rootId: string): URL {
    return new URL(`${this.post(rootId).href}#thread`);
  }
  /** The replies collection every Note embeds (the author's own continuations only). */
  replies(id: string): URL {
    return this.#at(fill(PATHS.replies, { id }));
  }
  /** The post id a URL names, if it is one of our posts (not its activity or replies). */
  parsePost(url: string | URL): string | null {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      return null;
    }
    if (u.origin !== this.origin.origin || u.search !== "" || u.hash !== "") return null;
    const prefix = PATHS.post.slice(0, PATHS.post.indexOf("{"));
    if (!u.pathname.startsWith(prefix)) return null;
    const id = u.pathname.slice(prefix.length);
    return UUID_PATTERN.test(id) ? id : null;
  }
  /** Whether a URL is under our posts (a post, its activity, its replies). */
  isUnderPosts(url: string): boolean {
    return url.startsWith(`${this.origin.origin}${PATHS.post.slice(0, PATHS.post.indexOf("{"))}`);
  }

  stamp(id: string): URL {
    return this.#at(fill(PATHS.stamp, { id }));
  }
  /** A granted boost, like or featuring (authorizations.ts). */
  authorization(id: string): URL {
    return this.#at(fill(PATHS.authorization, { id }));
  }
  /** A hashtag's page: lower-cased here, once, so every link names one canonical page. */
  tag(name: string): URL {
    return this.#at(fill(PATHS.tag, { tag: name.toLowerCase() }));
  }
  /** A hashtag's own feed. */
  tagFeed(name: string, kind: "rss" | "atom"): URL {
    return this.#at(fill(kind === "rss" ? PATHS.tagRss : PATHS.tagAtom, { tag: name.toLowerCase() }));
  }
  media(file: string): URL {
    return new URL(file, this.mediaBase);
  }
  feed(kind: "rss" | "atom"): URL {
    return this.#at(kind === "rss" ? PATHS.feedRss : PATHS.feedAtom);
  }

  /** Ids of activities the actor sends that have no page of their own. */
  activity(
    kind: "accepts" | "rejects" | "updates" | "pins" | "unpins" | "revocations" | "moves" | "follows",
    key: string,
  ): URL {
    return new URL(`${this.actor().href}#${kind}/${key}`);
  }
}
