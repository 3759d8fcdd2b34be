import type { Queryable } from "../../storage/database.ts";
import { sql } from "../../storage/sql.ts";

/** Who acted: a staff account (with where from), or the command line on the server itself. */
export interface Actor {
  staffId: number | null;
  name: string;
  address: string | null;
}

export const COMMAND_LINE: Actor = { staffId: null, name: "command line", address: "local" };

/** What the audit log records, in words the desk shows. */
export const ACTIONS = {
  "sign-in": "signed in",
  "sign-in-failed": "failed to sign in",
  "second-factor-failed": "gave a wrong second factor",
  "sign-out": "signed out",
  publish: "published",
  schedule: "scheduled",
  undo: "took back a post in its undo window",
  "submit-for-approval": "sent a post for approval",
  approve: "approved an editor's post",
  decline: "declined an editor's post",
  "approval-rule": "changed whether editors' posts need approval",
  "send-now": "sent a post before its undo window ended",
  "edit-scheduled": "changed a scheduled post",
  "cancel-scheduled": "cancelled a scheduled post",
  edit: "edited",
  delete: "deleted",
  pin: "pinned",
  unpin: "unpinned",
  profile: "changed the profile",
  aliases: "changed the account's aliases",
  move: "moved the account",
  bridge: "switched the Bluesky bridge",
  block: "blocked",
  unblock: "unblocked",
  "remove-follower": "removed a follower",
  "approve-follower": "approved a follower",
  "staff-add": "added a staff account",
  "staff-remove": "removed a staff account",
  "staff-role": "changed a staff account's role",
  "staff-reset-factors": "reset a staff account's second factors",
  "staff-sign-out": "signed a staff account out everywhere",
  "rotate-secret-key": "sealed the secrets with a new key",
  "require-second-factor": "changed whether a second factor is required",
  password: "changed their password",
  "totp-on": "turned on an authenticator app",
  "totp-off": "turned off the authenticator app",
  "recovery-codes": "made new recovery codes",
  "passkey-add": "added a passkey",
  "passkey-remove": "removed a passkey",
  "edit-draft": "saved changes to a post as a draft",
  "edit-awaiting": "edited a post waiting for approval",
  "edit-draft-discard": "discarded a draft of changes",
  "password-remove": "removed their password (signs in with a passkey alone)",
  "session-revoke": "ended a session",
  "app-authorize": "allowed an app",
  "app-revoke": "revoked an app",
  "app-publish": "published from an app",
  "readers-export": "exported the email subscribers",
  "readers-import": "imported email subscribers",
  "readers-suppress": "suppressed an email address",
  "readers-erase": "erased an email subscriber",
  "relay-add": "joined a relay",
  "relay-remove": "left a relay",
} as const;

export type Action = keyof typeof ACTIONS;

export interface AuditEntry {
  id: number;
  at: number;
  actor: string;
  action: Action;
  subject: string | null;
  address: string | null;
}

/** Appends to the audit log (the database refuses to change or delete an entry). */
export async function audit(
  db: Queryable,
  actor: Actor,
  action: Action,
  subject: string | null = null,
  now: number = Date.now(),
): Promise<void> {
  await db.run(
    sql`INSERT INTO audit_log (at, staff_id, actor, action, subject, address)
        VALUES (${now}, ${actor.staffId}, ${actor.name.slice(0, 100)}, ${action}, ${subject?.slice(0, 500) ?? null},
          ${actor.address?.slice(0, 100) ?? null})`,
  );
}

/** The log, newest first, a page at a time (`before`: the last id of the previous page). */
export async function listAudit(
  db: Queryable,
  limit: number,
  before: number | null = null,
): Promise<{ items: AuditEntry[]; next: number | null }> {
  const where = before === null ? sql.empty : sql` WHERE id < ${before}`;
  const rows = await db.all<AuditEntry>(
    sql`SELECT id, at, actor, action, subject, address FROM audit_log${where} ORDER BY id DESC LIMIT ${limit + 1}`,
  );
  const items = rows.slice(0, limit).map((r) => ({ ...r, id: Number(r.id), at: Number(r.at) }));
  return { items, next: rows.length > limit ? items[items.length - 1].id : null };
}
