import { PASSKEYS, WEBAUTHN } from "../assets.ts";
import { Csrf, Messages } from "./desk.tsx";
import type { Html } from "./layout.tsx";

/** The browser side of passkeys: SimpleWebAuthn's bundle, then ours. */
export function PasskeyScripts(): Html {
  return (
    <>
      <script src={WEBAUTHN.path} defer />
      <script src={PASSKEYS.path} defer />
    </>
  );
}

export function LoginPage({ error, username = "", next }: { error?: string; username?: string; next?: string }): Html {
  return (
    <section class="card">
      <h1>Sign in</h1>
      <Messages error={error} />
      <form method="post" action="/admin/login">
        {next && <input type="hidden" name="next" value={next} />}
        <label for="username">Username</label>
        <input
          id="username"
          name="username"
          autocomplete="username"
          autocapitalize="none"
          spellcheck={false}
          required
          value={username}
          autofocus={!username}
        />
        <label for="password">Password</label>
        <input
          id="password"
          name="password"
          type="password"
          autocomplete="current-password"
          required
          autofocus={Boolean(username)}
        />
        <div class="actions">
          <button class="primary" type="submit">
            Sign in
          </button>
        </div>
      </form>
      {!next && (
        <>
          <p>
            <button
              type="button"
              hidden
              data-passkey="login"
              data-options="/admin/login/passkey/start"
              data-finish="/admin/login/passkey/finish"
              data-csrf=""
              data-status="passkey-login-status"
            >
              Sign in with a passkey
            </button>
          </p>
          <p id="passkey-login-status" role="status" />
          <PasskeyScripts />
        </>
      )}
      <p class="hint">
        Forgot it, or lost your second factor? On the server run{" "}
        <code>npm run -s lectern -- set-password &lt;username&gt;</code> or{" "}
        <code>npm run -s lectern -- staff reset-factors &lt;username&gt;</code>.
      </p>
    </section>
  );
}

export interface VerifyView {
  csrf: string;
  totp: boolean;
  passkeys: boolean;
  username: string;
  error?: string;
  /** Where to go once signed in (the OAuth consent page). */
  next?: string;
}

/** The second step of signing in: a passkey, a code from the app, or a recovery code. */
export function VerifyPage(o: VerifyView): Html {
  const next = o.next ? <input type="hidden" name="next" value={o.next} /> : null;
  return (
    <section class="card">
      <h1>Second step</h1>
      <p>
        Signing in as <strong>{o.username}</strong>.
      </p>
      <Messages error={o.error} />
      {o.passkeys && (
        <>
          <p>
            <button
              type="button"
              class="primary"
              hidden
              data-passkey="login"
              data-options="/admin/login/passkey/options"
              data-finish="/admin/login/passkey"
              data-csrf={o.csrf}
              data-status="passkey-status"
            >
              Use a passkey
            </button>
          </p>
          <p id="passkey-status" role="status" />
          <PasskeyScripts />
        </>
      )}
      {o.totp && (
        <form method="post" action="/admin/login/verify">
          <Csrf token={o.csrf} />
          {next}
          <label for="code">Code from your authenticator app</label>
          <input
            id="code"
            name="code"
            inputmode="numeric"
            autocomplete="one-time-code"
            pattern="[0-9 ]{6,7}"
            maxlength={7}
            autofocus={!o.passkeys}
          />
          <div class="actions">
            <button class="primary" type="submit">
              Continue
            </button>
          </div>
        </form>
      )}
      <details>
        <summary>Use a recovery code</summary>
        <form method="post" action="/admin/login/verify">
          <Csrf token={o.csrf} />
          {next}
          <label for="recovery">Recovery code</label>
          <input
            id="recovery"
            name="recovery"
            autocomplete="off"
            autocapitalize="none"
            spellcheck={false}
            maxlength={20}
          />
          <div class="actions">
            <button type="submit">Continue</button>
          </div>
        </form>
      </details>
    </section>
  );
}

export function NotAllowed(): Html {
  return (
    <section class="card">
      <h1>Not allowed</h1>
      <p>Only the owner can open this page.</p>
      <p>
        <a href="/admin">Back to writing</a>
      </p>
    </section>
  );
}
