import { Csrf } from "./desk.tsx";
import type { Html } from "./layout.tsx";

/** What each scope lets an app do, in the author's words. */
function scopeMeaning(scope: string): string {
  if (scope.startsWith("write")) return " — it can publish, edit and delete posts as you";
  if (scope.startsWith("read")) return " — it can read the account, its posts and followers";
  return "";
}

export interface ConsentView {
  app: { name: string; website: string | null };
  scopes: string[];
  username: string;
  role: string;
  csrf: string;
  /** The authorization request as the app sent it, posted back with the decision. */
  request: Record<string, string>;
}

/** OAuth consent: which app, as whom, asking for what; allow or deny. */
export function Consent(v: ConsentView): Html {
  return (
    <section class="card">
      <h1>Allow {v.app.name} to use this account?</h1>
      <p>
        Signed in as <strong>{v.username}</strong> ({v.role}). {v.app.name}
        {v.app.website && ` (${v.app.website})`} asks for:
      </p>
      <ul>
        {v.scopes.map((s) => (
          <li>
            <code>{s}</code>
            {scopeMeaning(s)}
          </li>
        ))}
      </ul>
      <form method="post" action="/oauth/authorize">
        <Csrf token={v.csrf} />
        {Object.entries(v.request).map(([k, value]) => (
          <input type="hidden" name={k} value={value} />
        ))}
        <div class="actions">
          <button class="primary" type="submit" name="decision" value="allow">
            Allow
          </button>
          <button type="submit" name="decision" value="deny">
            Deny
          </button>
        </div>
      </form>
    </section>
  );
}

/** After the decision: the page that moves on to the app by itself, with a link in case it does not. */
export function BackToApp({ app, url }: { app: string; url: string }): Html {
  return (
    <section class="card">
      <h1>Back to {app}</h1>
      <p>
        <a id="back-to-app" href={url}>
          Return to {app}
        </a>{" "}
        if it does not open by itself.
      </p>
    </section>
  );
}

/** Out-of-band apps (no redirect): the code to copy by hand. */
export function CodeToCopy({ app, code }: { app: string; code: string }): Html {
  return (
    <p>
      Copy this code into {app}: <code id="code">{code}</code>
    </p>
  );
}
