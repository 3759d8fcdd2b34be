import type { Role } from "./auth.ts";

/*
 * Who may do what: the one rule every door applies. The desk's and the
 * Mastodon API's routes each name the permission they need (web/access.ts);
 * a person's role decides whether they have it (the CLI is the server's
 * operator and acts as the owner). An app's OAuth scopes can only narrow what
 * its person may do.
 */

/** What an action touches. */
export type Permission =
  /** Write, edit, delete, schedule and pin posts; upload media. */
  | "posts"
  /** The account's identity: name, bio, fields, pictures, bot flag, follower approval. */
  | "profile"
  /** Followers (and their addresses, export, approval, removal), aliases, moves, relays, the bridge. */
  | "audience"
  /** Blocks of accounts and servers. */
  | "blocks"
  /** Staff accounts, roles, the second-factor rule, ending other people's sign-ins. */
  | "staff"
  /** The audit log. */
  | "audit"
  /** How the server runs: deliveries, failing servers, storage (the desk's Server page). */
  | "server"
  /** Approve or decline editors' posts (the approval rule). */
  | "approve";

/** What each role may do. */
export const ROLE_PERMISSIONS: Record<Role, readonly Permission[]> = {
  owner: ["posts", "profile", "audience", "blocks", "staff", "audit", "server", "approve"],
  editor: ["posts"],
};

export function may(role: Role, permission: Permission): boolean {
  return ROLE_PERMISSIONS[role]?.includes(permission) ?? false;
}

/** Permissions only the owner has (what an editor is refused). */
export function ownerOnly(permission: Permission): boolean {
  return !may("editor", permission);
}
