import type { Html } from "./layout.tsx";

/** What the last action did, or why it did not: shown at the top of a desk page. */
export function Messages({ notice, error }: { notice?: string; error?: string }): Html {
  return (
    <>
      {notice && (
        <div class="notice" role="status">
          {notice}
        </div>
      )}
      {error && (
        <div class="error" role="alert">
          {error}
        </div>
      )}
    </>
  );
}

/** The session's CSRF token, which every desk form posts back. */
export function Csrf({ token }: { token: string }): Html {
  return <input type="hidden" name="_csrf" value={token} />;
}

/**
 * A desk table's header row. With `actions`, a last column for each row's
 * buttons, named for screen readers only.
 */
export function TableHead({ columns, actions = false }: { columns: string[]; actions?: boolean }): Html {
  return (
    <thead>
      <tr>
        {columns.map((c) => (
          <th scope="col">{c}</th>
        ))}
        {actions && (
          <th scope="col">
            <span class="sr">Actions</span>
          </th>
        )}
      </tr>
    </thead>
  );
}

export interface PostButtonProps {
  csrf: string;
  action: string;
  /** Posted with the button, as hidden fields. */
  fields?: Record<string, string | number>;
  label: string;
  /** The button's look: "primary", "danger", or plain. */
  kind?: string;
  /** Asked before posting (a browser confirm). */
  confirm?: string;
  /** Laid out beside its neighbours. */
  inline?: boolean;
}

/** One button that posts (with the session's token): remove, revoke, approve, pin… */
export function PostButton(p: PostButtonProps): Html {
  return (
    <form method="post" action={p.action} class={p.inline ? "inline" : undefined} data-confirm={p.confirm}>
      <Csrf token={p.csrf} />
      {Object.entries(p.fields ?? {}).map(([name, value]) => (
        <input type="hidden" name={name} value={value} />
      ))}
      <button class={p.kind} type="submit">
        {p.label}
      </button>
    </form>
  );
}
