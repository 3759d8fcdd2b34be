import type { Role } from "../product/access/auth.ts";
import { may, type Permission } from "../product/access/roles.ts";

/**
 * What a route needs: nothing (`public`: anyone, signed in or not), a person
 * signed in (`signed-in`: their own things, such as their security page or
 * their own profile as an app reads it), or a permission their role must
 * have (product/access/roles.ts).
 */
export type Need = Permission | "signed-in" | "public";

interface Rule {
  /** Methods it applies to; every method when absent. */
  methods?: readonly string[];
  path: RegExp;
  need: Need;
}

const WRITE = ["POST", "PUT", "PATCH", "DELETE"] as const;

/**
 * Every route of the desk and of the Mastodon API, and what it needs: the
 * first rule that matches decides. A route no rule names is refused to
 * everyone but the owner (and a test fails until it is named here).
 */
export const ROUTE_RULES: readonly Rule[] = [
  // The desk.
  { path: /^\/admin\/login(\/.*)?$/, need: "public" },
  { path: /^\/admin\/(logout|security(\/.*)?)$/, need: "signed-in" },
  { path: /^\/admin\/profile(\/.*)?$/, need: "profile" },
  { path: /^\/admin\/(audience|followers|readers)([/.].*)?$/, need: "audience" },
  { path: /^\/admin\/blocks(\/.*)?$/, need: "blocks" },
  { path: /^\/admin\/staff(\/.*)?$/, need: "staff" },
  { path: /^\/admin\/audit(\/.*)?$/, need: "audit" },
  { path: /^\/admin\/server(\/.*)?$/, need: "server" },
  { path: /^\/admin\/posts\/[^/]+\/(approve|decline|review)$/, need: "approve" },
  { path: /^\/admin(\/|\/(posts|scheduled|draft)(\/.*)?)?$/, need: "posts" },
  // The Mastodon API: the account's identity, its followers, and writing.
  { path: /^\/api\/v1\/accounts\/update_credentials$/, need: "profile" },
  { path: /^\/api\/v1\/notifications(\/.*)?$/, need: "audience" },
  { path: /^\/api\/v1\/accounts\/(relationships|[^/]+\/followers)$/, need: "audience" },
  { methods: WRITE, path: /^\/api\/v1\/statuses(\/.*)?$/, need: "posts" },
  { path: /^\/api\/v[12]\/media(\/.*)?$/, need: "posts" },
  { path: /^\/api\/v1\/scheduled_statuses(\/.*)?$/, need: "posts" },
  { path: /^\/api\/v1\/(accounts\/verify_credentials|timelines\/home|preferences|markers)$/, need: "signed-in" },
  // What Mastodon answers to anyone: the server, the account and its public posts, app registration,
  // and the empty lists apps probe at start.
  { methods: ["GET", "HEAD"], path: /^\/api\/v[12]\/instance$/, need: "public" },
  { methods: ["GET", "HEAD"], path: /^\/api\/v1\/accounts\/(lookup|[^/]+(\/(statuses|following))?)$/, need: "public" },
  { methods: ["GET", "HEAD"], path: /^\/api\/v1\/statuses\/[^/]+(\/(source|context|history))?$/, need: "public" },
  { methods: ["GET", "HEAD"], path: /^\/api\/v1\/timelines\/(public|tag\/[^/]+)$/, need: "public" },
  { methods: ["POST"], path: /^\/api\/v1\/apps$/, need: "public" },
  // Mastodon 4.6: a reader without an account subscribes by email (double opt-in; see web/readers.tsx).
  { methods: ["POST"], path: /^\/api\/v1\/accounts\/[^/]+\/email_subscriptions$/, need: "public" },
  {
    methods: ["GET", "HEAD"],
    path: /^\/api\/v[12]\/(filters|lists|followed_tags|announcements|trends(\/.*)?|conversations|bookmarks|favourites|mutes|blocks|domain_blocks|follow_requests|custom_emojis|accounts\/familiar_followers|suggestions)$/,
    need: "public",
  },
];

/** What a request needs, by the first rule that matches; undefined when no rule names it. */
export function needOf(method: string, path: string): Need | undefined {
  const m = method.toUpperCase();
  return ROUTE_RULES.find((r) => (r.methods === undefined || r.methods.includes(m)) && r.path.test(path))?.need;
}

/** Whether a person of `role` may use a route that needs `need` (a route nobody named: the owner alone). */
export function allowed(role: Role, need: Need | undefined): boolean {
  if (need === undefined) return role === "owner";
  return need === "public" || need === "signed-in" || may(role, need);
}
