import { raw } from "hono/html";
import type { SessionInfo } from "../../product/access/auth.ts";
import type { Passkey } from "../../product/access/factors.ts";
import type { Authorization } from "../../product/access/oauth.ts";
import type { Staff } from "../../product/access/staff.ts";
import { describeUserAgent } from "../user-agent.ts";
import { Csrf, Messages, PostButton, TableHead } from "./desk.tsx";
import type { Html } from "./layout.tsx";
import { formatDate } from "./media-grid.tsx";
import { PasskeyScripts } from "./signin.tsx";

export interface SecurityView {
  csrf: string;
  staff: Staff;
  notice?: string;
  error?: string;
  /** Setting up TOTP: the secret and its otpauth:// URI. */
  pendingTotp?: { secret: string; uri: string; qr?: string };
  /** Shown once, just made. */
  recoveryCodes?: string[];
  passkeys: Passkey[];
  sessions: SessionInfo[];
  /** Apps this account allowed (Mastodon API clients). */
  apps: Authorization[];
}

function when(ms: number | null): string {
  return ms === null ? "—" : formatDate(new Date(ms));
}

/** A form that changes something about the account: the token, the current password, then one button. */
function Confirmed(p: {
  csrf: string;
  action: string;
  id: string;
  label: string;
  kind?: string;
  hasPassword: boolean;
}): Html {
  return (
    <form method="post" action={p.action}>
      <Csrf token={p.csrf} />
      <CurrentPassword id={p.id} hasPassword={p.hasPassword} />
      <div class="actions">
        <button class={p.kind} type="submit">
          {p.label}
        </button>
      </div>
    </form>
  );
}

/** The current password; a person without one confirms by a recent passkey sign-in (said, not asked). */
function CurrentPassword({ id, hasPassword }: { id: string; hasPassword: boolean }): Html {
  if (!hasPassword) return <p class="hint">Confirmed by your passkey: within ten minutes of signing in with it.</p>;
  return (
    <>
      <label for={`current-${id}`}>Current password</label>
      <input id={`current-${id}`} name="current" type="password" autocomplete="current-password" required />
    </>
  );
}

/** The signed-in person's own account: password, authenticator app, recovery codes, passkeys, sessions. */
export function SecurityPage(v: SecurityView): Html {
  return (
    <>
      <h1>Security</h1>
      <p>
        Signed in as <strong>{v.staff.username}</strong> ({v.staff.role}).
      </p>
      <Messages notice={v.notice} error={v.error} />
      {v.recoveryCodes && (
        <section class="card" id="recovery-codes">
          <h2>Your recovery codes</h2>
          <p>
            Each works once, in place of a code from the app, if you lose your phone. Keep them somewhere safe: they are
            shown only now.
          </p>
          <ul class="codes">
            {v.recoveryCodes.map((c) => (
              <li>
                <code>{c}</code>
              </li>
            ))}
          </ul>
        </section>
      )}
      <section class="card">
        <h2>Authenticator app</h2>
        <Totp {...v} />
      </section>
      <Passkeys {...v} />
      <section class="card">
        <h2>Password</h2>
        {!v.staff.hasPassword && (
          <p>
            None: you sign in with a passkey alone. You can set a password again (it then signs you in with any second
            factor you have).
          </p>
        )}
        <form method="post" action="/admin/security/password">
          <Csrf token={v.csrf} />
          <CurrentPassword id="password" hasPassword={v.staff.hasPassword} />
          <label for="new-password">
            {v.staff.hasPassword ? "New password" : "A password"} <span class="hint">(at least 10 characters)</span>
          </label>
          <input
            id="new-password"
            name="password"
            type="password"
            autocomplete="new-password"
            minlength={10}
            required
          />
          <div class="actions">
            <button type="submit">Change password</button>
          </div>
          <p class="hint">Your other sessions are signed out.</p>
        </form>
        {v.staff.hasPassword && v.staff.passkeys > 0 && (
          <>
            <h3>Sign in with a passkey alone</h3>
            <p>
              Without a password there is nothing to steal, guess or phish: your passkey (with your fingerprint, face or
              PIN) is then your only way in. Keep a second passkey, or the owner can give you a new password.
            </p>
            <Confirmed
              csrf={v.csrf}
              action="/admin/security/password/remove"
              id="password-remove"
              label="Remove my password"
              kind="danger"
              hasPassword
            />
          </>
        )}
      </section>
      <Apps {...v} />
      <Sessions {...v} />
    </>
  );
}

function Totp({ csrf, staff, pendingTotp }: SecurityView): Html {
  if (staff.totp) {
    return (
      <>
        <p>On. {staff.recoveryCodesLeft} recovery codes left.</p>
        <Confirmed
          csrf={csrf}
          action="/admin/security/recovery-codes"
          id="codes"
          label="Make new recovery codes"
          hasPassword={staff.hasPassword}
        />
        <Confirmed
          csrf={csrf}
          action="/admin/security/totp/off"
          id="totp-off"
          label="Turn off"
          kind="danger"
          hasPassword={staff.hasPassword}
        />
      </>
    );
  }
  if (pendingTotp) {
    return (
      <>
        <p>
          Add this account to your authenticator app (Aegis, 1Password, Google Authenticator…): scan the code with it,
          open the link on your phone, or type the key.
        </p>
        {pendingTotp.qr !== undefined && (
          <div class="qr" id="totp-qr" role="img" aria-label="QR code of the key, for the authenticator app's camera">
            {raw(pendingTotp.qr)}
          </div>
        )}
        <p>
          <a href={pendingTotp.uri}>Add to an authenticator app</a>
        </p>
        <p>
          Key: <code id="totp-secret">{pendingTotp.secret}</code>
        </p>
        <form method="post" action="/admin/security/totp/confirm">
          <Csrf token={csrf} />
          <label for="totp-code">The 6-digit code the app shows</label>
          <input id="totp-code" name="code" inputmode="numeric" autocomplete="one-time-code" maxlength={7} required />
          <div class="actions">
            <button class="primary" type="submit">
              Turn on
            </button>
          </div>
        </form>
      </>
    );
  }
  return (
    <>
      <p>Off. A code from an app on your phone, asked after your password.</p>
      <Confirmed
        csrf={csrf}
        action="/admin/security/totp"
        id="totp"
        label="Set up an authenticator app"
        kind="primary"
        hasPassword={staff.hasPassword}
      />
    </>
  );
}

function Passkeys({ csrf, passkeys, staff }: SecurityView): Html {
  return (
    <section class="card">
      <h2>Passkeys</h2>
      {passkeys.length === 0 ? (
        <p>
          None yet. A passkey (your phone, a security key, the computer's fingerprint reader) can be used instead of a
          code.
        </p>
      ) : (
        <table>
          <TableHead columns={["Name", "Added", "Last used"]} actions />
          <tbody>
            {passkeys.map((k) => (
              <tr>
                <td>{k.name}</td>
                <td>{when(k.createdAt)}</td>
                <td>{when(k.lastUsedAt)}</td>
                <td>
                  <form method="post" action="/admin/security/passkeys/remove">
                    <Csrf token={csrf} />
                    <input type="hidden" name="id" value={k.id} />
                    {staff.hasPassword && (
                      <input
                        name="current"
                        type="password"
                        autocomplete="current-password"
                        required
                        aria-label="Current password"
                        placeholder="Current password"
                      />
                    )}
                    <button class="danger" type="submit">
                      Remove
                    </button>
                  </form>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <label for="passkey-name">Name of the new passkey</label>
      <input id="passkey-name" maxlength={60} placeholder="Phone, security key…" />
      {staff.hasPassword ? (
        <>
          <label for="passkey-current">Current password</label>
          <input id="passkey-current" type="password" autocomplete="current-password" />
        </>
      ) : (
        <CurrentPassword id="passkey" hasPassword={false} />
      )}
      <p>
        <button
          type="button"
          class="primary"
          hidden
          data-passkey="register"
          data-options="/admin/security/passkeys/options"
          data-finish="/admin/security/passkeys"
          data-csrf={csrf}
          data-name="passkey-name"
          data-password="passkey-current"
          data-status="passkey-status"
        >
          Add a passkey
        </button>
      </p>
      <p id="passkey-status" role="status" />
      <PasskeyScripts />
    </section>
  );
}

function Apps({ csrf, apps }: SecurityView): Html {
  return (
    <section class="card">
      <h2>Apps allowed to use this account</h2>
      {apps.length === 0 ? (
        <p>
          None. Apps that speak the Mastodon API (Ivory, Ice Cubes, Tusky, Elk, Phanpy, schedulers) can be allowed by
          adding this server in them.
        </p>
      ) : (
        <table>
          <TableHead columns={["App", "Can", "Allowed", "Last used"]} actions />
          <tbody>
            {apps.map((a) => (
              <tr>
                <td>{a.name}</td>
                <td>{a.scopes}</td>
                <td>{when(a.createdAt)}</td>
                <td>{when(a.lastUsedAt)}</td>
                <td>
                  <PostButton
                    csrf={csrf}
                    action="/admin/security/apps/revoke"
                    fields={{ app: a.clientId }}
                    label="Revoke"
                    kind="danger"
                  />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function Sessions({ csrf, sessions }: SecurityView): Html {
  return (
    <section class="card">
      <h2>Where you are signed in</h2>
      <table>
        <TableHead columns={["Since", "Last seen", "From", "Browser"]} actions />
        <tbody>
          {sessions.map((s) => (
            <tr>
              <td>{when(s.createdAt)}</td>
              <td>{when(s.lastSeenAt)}</td>
              <td>{s.address ?? "—"}</td>
              <td title={(s.userAgent ?? "").slice(0, 300)}>
                {describeUserAgent(s.userAgent ?? "") ?? (s.userAgent || "—").slice(0, 80)}
              </td>
              <td>
                {s.current ? (
                  "this one"
                ) : (
                  <PostButton
                    csrf={csrf}
                    action="/admin/security/sessions/revoke"
                    fields={{ session: s.handle }}
                    label="Sign out"
                    kind="danger"
                  />
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
