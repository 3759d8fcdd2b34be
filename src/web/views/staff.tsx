import { ACTIONS, type AuditEntry } from "../../product/access/audit.ts";
import type { Staff } from "../../product/access/staff.ts";
import { Csrf, Messages, PostButton, TableHead } from "./desk.tsx";
import type { Html } from "./layout.tsx";
import { formatDate } from "./media-grid.tsx";

export interface StaffView {
  csrf: string;
  staff: Staff[];
  me: number;
  required: boolean;
  /** Editors' posts wait for an owner's approval. */
  approval: boolean;
  notice?: string;
  error?: string;
  /** A new account's password, shown once. */
  created?: { username: string; password: string };
}

function factors(s: Staff): string {
  const passkeys = s.passkeys > 0 ? `${s.passkeys} passkey${s.passkeys > 1 ? "s" : ""}` : "";
  return [s.totp ? "app" : "", passkeys].filter(Boolean).join(", ") || "none";
}

/** The owner's staff page: accounts and their roles and factors, the second-factor rule. */
export function StaffPage(v: StaffView): Html {
  return (
    <>
      <h1>Staff</h1>
      <Messages notice={v.notice} error={v.error} />
      {v.created && (
        <section class="card">
          <h2>{v.created.username} can sign in</h2>
          <p>
            Their password (shown only now; they change it under Security):{" "}
            <code id="new-staff-password">{v.created.password}</code>
          </p>
        </section>
      )}
      <table>
        <TableHead columns={["Username", "Role", "Second factor", "Since"]} actions />
        <tbody>
          {v.staff.map((s) => (
            <StaffLine csrf={v.csrf} staff={s} me={s.id === v.me} />
          ))}
        </tbody>
      </table>
      <section class="card">
        <h2>Add someone</h2>
        <form method="post" action="/admin/staff">
          <Csrf token={v.csrf} />
          <label for="new-username">Username</label>
          <input id="new-username" name="username" required maxlength={40} autocapitalize="none" spellcheck={false} />
          <label for="new-role">Role</label>
          <select id="new-role" name="role">
            <option value="editor">editor (writes, edits, deletes, schedules, pins)</option>
            <option value="owner">owner (everything, including staff and settings)</option>
          </select>
          <div class="actions">
            <button class="primary" type="submit">
              Add
            </button>
          </div>
        </form>
      </section>
      <section class="card">
        <h2>Approval</h2>
        <form method="post" action="/admin/staff/approval">
          <Csrf token={v.csrf} />
          <label>
            <input type="checkbox" name="required" value="1" checked={v.approval} /> Editors' posts need an owner's
            approval before anything goes out (from the desk and from apps)
          </label>
          <div class="actions">
            <button type="submit">Save</button>
          </div>
        </form>
      </section>
      <section class="card">
        <h2>Second factor</h2>
        <form method="post" action="/admin/staff/require-second-factor">
          <Csrf token={v.csrf} />
          <label>
            <input type="checkbox" name="required" value="1" checked={v.required} /> Everyone must use a second factor
            (an authenticator app or a passkey)
          </label>
          <div class="actions">
            <button type="submit">Save</button>
          </div>
        </form>
      </section>
    </>
  );
}

function StaffLine({ csrf, staff: s, me }: { csrf: string; staff: Staff; me: boolean }): Html {
  return (
    <tr>
      <td>
        {s.username}
        {me && " (you)"}
      </td>
      <td>
        <form method="post" action="/admin/staff/role" class="inline">
          <Csrf token={csrf} />
          <input type="hidden" name="id" value={s.id} />
          <select name="role" aria-label={`Role of ${s.username}`}>
            <option value="owner" selected={s.role === "owner"}>
              owner
            </option>
            <option value="editor" selected={s.role === "editor"}>
              editor
            </option>
          </select>
          <button type="submit">Save</button>
        </form>
      </td>
      <td>{factors(s)}</td>
      <td>{formatDate(new Date(s.createdAt))}</td>
      <td>
        <PostButton
          csrf={csrf}
          action="/admin/staff/sign-out"
          fields={{ id: s.id }}
          label="Sign out everywhere"
          confirm={`End every session and app of ${s.username}${me ? " (you too)" : ""}?`}
        />
        {!me && (
          <PostButton
            csrf={csrf}
            action="/admin/staff/remove"
            fields={{ id: s.id }}
            label="Remove"
            kind="danger"
            confirm={`Remove ${s.username}?`}
          />
        )}
      </td>
    </tr>
  );
}

/** Who did what, from where: the append-only audit log, newest first. */
export function AuditPage({ entries, next }: { entries: AuditEntry[]; next: string | null }): Html {
  return (
    <>
      <h1>Audit log</h1>
      <p class="hint">Who did what, from where. Kept in the database; nobody can change or delete an entry.</p>
      <table class="audit">
        <TableHead columns={["When", "Who", "What", "From"]} />
        <tbody>
          {entries.map((e) => (
            <tr>
              <td>{formatDate(new Date(e.at))}</td>
              <td>{e.actor}</td>
              <td>
                {ACTIONS[e.action] ?? e.action}
                {e.subject && (
                  <>
                    {" "}
                    <span class="subject">{e.subject}</span>
                  </>
                )}
              </td>
              <td>{e.address ?? "—"}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {next && (
        <p>
          <a href={next}>Older</a>
        </p>
      )}
    </>
  );
}
