import { ACTIONS, type AuditEntry } from "../../product/audit.ts";
import type { SessionInfo } from "../../product/auth.ts";
import type { Passkey } from "../../product/factors.ts";
import type { Authorization } from "../../product/oauth.ts";
import type { Staff } from "../../product/staff.ts";
import { PASSKEYS, WEBAUTHN } from "../assets.ts";
import { messages } from "./admin.ts";
import { type Html, html } from "./layout.ts";
import { formatDate } from "./public.ts";

const passkeyScripts = html`<script src="${WEBAUTHN.path}" defer></script><script src="${PASSKEYS.path}" defer></script>`;

export function loginPage(error?: string, username = "", next?: string): Html {
  return html`<section class="card">
<h1>Sign in</h1>
${messages(undefined, error)}
<form method="post" action="/admin/login">
${next ? html`<input type="hidden" name="next" value="${next}">` : ""}
<label for="username">Username</label>
<input id="username" name="username" autocomplete="username" autocapitalize="none" spellcheck="false" required value="${username}" ${username ? "" : "autofocus"}>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required ${username ? "autofocus" : ""}>
<div class="actions"><button class="primary" type="submit">Sign in</button></div>
</form>
<p class="hint">Forgot it, or lost your second factor? On the server run
<code>npm run -s lectern -- set-password &lt;username&gt;</code> or <code>npm run -s lectern -- staff reset-factors &lt;username&gt;</code>.</p>
</section>`;
}

export function verifyPage(o: {
  csrf: string;
  totp: boolean;
  passkeys: boolean;
  username: string;
  error?: string;
  /** Where to go once signed in (the OAuth consent page). */
  next?: string;
}): Html {
  const next = o.next ? html`<input type="hidden" name="next" value="${o.next}">` : "";
  return html`<section class="card">
<h1>Second step</h1>
<p>Signing in as <strong>${o.username}</strong>.</p>
${messages(undefined, o.error)}
${
  o.passkeys
    ? html`<p><button type="button" class="primary" hidden data-passkey="login" data-options="/admin/login/passkey/options" data-finish="/admin/login/passkey" data-csrf="${o.csrf}" data-status="passkey-status">Use a passkey</button></p>
<p id="passkey-status" role="status"></p>${passkeyScripts}`
    : ""
}
${
  o.totp
    ? html`<form method="post" action="/admin/login/verify">
<input type="hidden" name="_csrf" value="${o.csrf}">${next}
<label for="code">Code from your authenticator app</label>
<input id="code" name="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9 ]{6,7}" maxlength="7" ${o.passkeys ? "" : "autofocus"}>
<div class="actions"><button class="primary" type="submit">Continue</button></div>
</form>`
    : ""
}
<details><summary>Use a recovery code</summary>
<form method="post" action="/admin/login/verify">
<input type="hidden" name="_csrf" value="${o.csrf}">${next}
<label for="recovery">Recovery code</label>
<input id="recovery" name="recovery" autocomplete="off" autocapitalize="none" spellcheck="false" maxlength="20">
<div class="actions"><button type="submit">Continue</button></div>
</form></details>
</section>`;
}

export function notAllowed(): Html {
  return html`<section class="card"><h1>Not allowed</h1><p>Only the owner can open this page.</p><p><a href="/admin">Back to writing</a></p></section>`;
}

export interface SecurityView {
  csrf: string;
  staff: Staff;
  notice?: string;
  error?: string;
  /** Setting up TOTP: the secret and its otpauth:// URI. */
  pendingTotp?: { secret: string; uri: string };
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

/** The signed-in person's own account: password, authenticator app, recovery codes, passkeys, sessions. */
export function securityPage(v: SecurityView): Html {
  const csrf = html`<input type="hidden" name="_csrf" value="${v.csrf}">`;
  const currentField = (id: string) =>
    html`<label for="current-${id}">Current password</label><input id="current-${id}" name="current" type="password" autocomplete="current-password" required>`;
  return html`<h1>Security</h1>
<p>Signed in as <strong>${v.staff.username}</strong> (${v.staff.role}).</p>
${messages(v.notice, v.error)}
${
  v.recoveryCodes
    ? html`<section class="card" id="recovery-codes"><h2>Your recovery codes</h2>
<p>Each works once, in place of a code from the app, if you lose your phone. Keep them somewhere safe: they are shown only now.</p>
<ul class="codes">${v.recoveryCodes.map((c) => html`<li><code>${c}</code></li>`)}</ul></section>`
    : ""
}
<section class="card"><h2>Authenticator app</h2>
${
  v.staff.totp
    ? html`<p>On. ${v.staff.recoveryCodesLeft} recovery codes left.</p>
<form method="post" action="/admin/security/recovery-codes">${csrf}${currentField("codes")}<div class="actions"><button type="submit">Make new recovery codes</button></div></form>
<form method="post" action="/admin/security/totp/off">${csrf}${currentField("totp-off")}<div class="actions"><button class="danger" type="submit">Turn off</button></div></form>`
    : v.pendingTotp
      ? html`<p>Add this account to your authenticator app (Aegis, 1Password, Google Authenticator…): open the link on your phone, or type the key.</p>
<p><a href="${v.pendingTotp.uri}">Add to an authenticator app</a></p>
<p>Key: <code id="totp-secret">${v.pendingTotp.secret}</code></p>
<form method="post" action="/admin/security/totp/confirm">${csrf}
<label for="totp-code">The 6-digit code the app shows</label>
<input id="totp-code" name="code" inputmode="numeric" autocomplete="one-time-code" maxlength="7" required>
<div class="actions"><button class="primary" type="submit">Turn on</button></div></form>`
      : html`<p>Off. A code from an app on your phone, asked after your password.</p>
<form method="post" action="/admin/security/totp">${csrf}${currentField("totp")}<div class="actions"><button class="primary" type="submit">Set up an authenticator app</button></div></form>`
}
</section>
<section class="card"><h2>Passkeys</h2>
${
  v.passkeys.length === 0
    ? html`<p>None yet. A passkey (your phone, a security key, the computer's fingerprint reader) can be used instead of a code.</p>`
    : html`<table><thead><tr><th>Name</th><th>Added</th><th>Last used</th><th><span class="sr">Actions</span></th></tr></thead><tbody>${v.passkeys.map(
        (k) => html`<tr><td>${k.name}</td><td>${when(k.createdAt)}</td><td>${when(k.lastUsedAt)}</td><td>
<form method="post" action="/admin/security/passkeys/remove">${csrf}<input type="hidden" name="id" value="${k.id}"><input name="current" type="password" autocomplete="current-password" required aria-label="Current password" placeholder="Current password"><button class="danger" type="submit">Remove</button></form></td></tr>`,
      )}</tbody></table>`
}
<label for="passkey-name">Name of the new passkey</label>
<input id="passkey-name" maxlength="60" placeholder="Phone, security key…">
<label for="passkey-current">Current password</label>
<input id="passkey-current" type="password" autocomplete="current-password">
<p><button type="button" class="primary" hidden data-passkey="register" data-options="/admin/security/passkeys/options" data-finish="/admin/security/passkeys" data-csrf="${v.csrf}" data-name="passkey-name" data-password="passkey-current" data-status="passkey-status">Add a passkey</button></p>
<p id="passkey-status" role="status"></p>
${passkeyScripts}
</section>
<section class="card"><h2>Password</h2>
<form method="post" action="/admin/security/password">${csrf}${currentField("password")}
<label for="new-password">New password <span class="hint">(at least 10 characters)</span></label>
<input id="new-password" name="password" type="password" autocomplete="new-password" minlength="10" required>
<div class="actions"><button type="submit">Change password</button></div>
<p class="hint">Your other sessions are signed out.</p></form>
</section>
<section class="card"><h2>Apps allowed to use this account</h2>
${
  v.apps.length === 0
    ? html`<p>None. Apps that speak the Mastodon API (Ivory, Ice Cubes, Tusky, Elk, Phanpy, schedulers) can be allowed by adding this server in them.</p>`
    : html`<table><thead><tr><th>App</th><th>Can</th><th>Allowed</th><th>Last used</th><th><span class="sr">Actions</span></th></tr></thead><tbody>${v.apps.map(
        (
          a,
        ) => html`<tr><td>${a.name}</td><td>${a.scopes}</td><td>${when(a.createdAt)}</td><td>${when(a.lastUsedAt)}</td><td>
<form method="post" action="/admin/security/apps/revoke">${csrf}<input type="hidden" name="app" value="${a.clientId}"><button class="danger" type="submit">Revoke</button></form></td></tr>`,
      )}</tbody></table>`
}
</section>
<section class="card"><h2>Where you are signed in</h2>
<table><thead><tr><th>Since</th><th>Last seen</th><th>From</th><th>Browser</th><th><span class="sr">Actions</span></th></tr></thead><tbody>
${v.sessions.map(
  (s) =>
    html`<tr><td>${when(s.createdAt)}</td><td>${when(s.lastSeenAt)}</td><td>${s.address ?? "—"}</td><td>${(s.userAgent ?? "—").slice(0, 80)}</td><td>${
      s.current
        ? html`this one`
        : html`<form method="post" action="/admin/security/sessions/revoke">${csrf}<input type="hidden" name="session" value="${s.handle}"><button class="danger" type="submit">Sign out</button></form>`
    }</td></tr>`,
)}
</tbody></table>
</section>`;
}

export interface StaffView {
  csrf: string;
  staff: Staff[];
  me: number;
  required: boolean;
  notice?: string;
  error?: string;
  /** A new account's password, shown once. */
  created?: { username: string; password: string };
}

/** The owner's staff page: accounts and their roles and factors, the second-factor rule. */
export function staffPage(v: StaffView): Html {
  const csrf = html`<input type="hidden" name="_csrf" value="${v.csrf}">`;
  return html`<h1>Staff</h1>
${messages(v.notice, v.error)}
${
  v.created
    ? html`<section class="card"><h2>${v.created.username} can sign in</h2><p>Their password (shown only now; they change it under Security): <code id="new-staff-password">${v.created.password}</code></p></section>`
    : ""
}
<table><thead><tr><th>Username</th><th>Role</th><th>Second factor</th><th>Since</th><th><span class="sr">Actions</span></th></tr></thead><tbody>
${v.staff.map(
  (s) => html`<tr><td>${s.username}${s.id === v.me ? " (you)" : ""}</td><td>
<form method="post" action="/admin/staff/role" class="inline">${csrf}<input type="hidden" name="id" value="${s.id}">
<select name="role" aria-label="Role of ${s.username}"><option value="owner" ${s.role === "owner" ? "selected" : ""}>owner</option><option value="editor" ${s.role === "editor" ? "selected" : ""}>editor</option></select>
<button type="submit">Save</button></form></td>
<td>${[s.totp ? "app" : "", s.passkeys > 0 ? `${s.passkeys} passkey${s.passkeys > 1 ? "s" : ""}` : ""].filter(Boolean).join(", ") || "none"}</td>
<td>${formatDate(new Date(s.createdAt))}</td>
<td>${
    s.id === v.me
      ? ""
      : html`<form method="post" action="/admin/staff/remove" data-confirm="Remove ${s.username}?">${csrf}<input type="hidden" name="id" value="${s.id}"><button class="danger" type="submit">Remove</button></form>`
  }</td></tr>`,
)}
</tbody></table>
<section class="card"><h2>Add someone</h2>
<form method="post" action="/admin/staff">${csrf}
<label for="new-username">Username</label><input id="new-username" name="username" required maxlength="40" autocapitalize="none" spellcheck="false">
<label for="new-role">Role</label><select id="new-role" name="role"><option value="editor">editor (writes, edits, deletes, schedules, pins)</option><option value="owner">owner (everything, including staff and settings)</option></select>
<div class="actions"><button class="primary" type="submit">Add</button></div></form>
</section>
<section class="card"><h2>Second factor</h2>
<form method="post" action="/admin/staff/require-second-factor">${csrf}
<label><input type="checkbox" name="required" value="1" ${v.required ? "checked" : ""}> Everyone must use a second factor (an authenticator app or a passkey)</label>
<div class="actions"><button type="submit">Save</button></div></form>
</section>`;
}

export function auditPage(entries: AuditEntry[], next: string | null): Html {
  return html`<h1>Audit log</h1>
<p class="hint">Who did what, from where. Kept in the database; nobody can change or delete an entry.</p>
<table class="audit"><thead><tr><th>When</th><th>Who</th><th>What</th><th>From</th></tr></thead><tbody>
${entries.map(
  (e) =>
    html`<tr><td>${formatDate(new Date(e.at))}</td><td>${e.actor}</td><td>${ACTIONS[e.action] ?? e.action}${e.subject ? html` <span class="subject">${e.subject}</span>` : ""}</td><td>${e.address ?? "—"}</td></tr>`,
)}
</tbody></table>
${next ? html`<p><a href="${next}">Older</a></p>` : ""}`;
}
