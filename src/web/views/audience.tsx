import { Csrf, Messages } from "./desk.tsx";
import type { Html } from "./layout.tsx";
import { formatDate } from "./media-grid.tsx";

export interface AudienceView {
  csrf: string;
  aliases: string[];
  movedTo: string | null;
  movesIn: { from: string; at: number; followersSince: number }[];
  bridgy: { account: string; status: "off" | "pending" | "accepted" };
  relays: { url: string; status: string; style: string }[];
  hasAvatar: boolean;
  error?: string;
  notice?: string;
}

/** Bringing the audience here, taking it elsewhere, and reaching Bluesky. */
export function AudiencePage(v: AudienceView): Html {
  return (
    <>
      <h1>Audience</h1>
      <Messages notice={v.notice} error={v.error} />
      {v.movedTo && (
        <p class="notice">
          This account has moved to <a href={v.movedTo}>{v.movedTo}</a>. Nothing more is published here.
        </p>
      )}
      <section class="card">
        <h2>Also known as</h2>
        <p>
          Your other accounts, one per line (<code>@you@mastodon.example</code> or a URL). Listing an account here lets
          it move its followers to this one: on Mastodon, <em>Move to a different account</em>.
        </p>
        <form method="post" action="/admin/audience/aliases">
          <Csrf token={v.csrf} />
          <label for="aliases">Accounts</label>
          <textarea id="aliases" name="aliases" rows={3}>
            {v.aliases.join("\n")}
          </textarea>
          <div class="actions">
            <button type="submit">Save</button>
          </div>
        </form>
        {v.movesIn.length > 0 && (
          <ul>
            {v.movesIn.map((m) => (
              <li>
                {m.from} moved here on {formatDate(new Date(m.at))}: {m.followersSince} followers since
              </li>
            ))}
          </ul>
        )}
      </section>
      <Bluesky {...v} />
      <Relays {...v} />
      <section class="card">
        <h2>Take your audience with you</h2>
        <p>
          <a class="button" href="/admin/followers.csv" download>
            Export followers (CSV)
          </a>
        </p>
        {!v.movedTo && <MoveForm csrf={v.csrf} />}
      </section>
    </>
  );
}

function Bluesky({ csrf, bridgy, hasAvatar }: AudienceView): Html {
  const status = { off: "off", pending: "waiting for Bridgy Fed to accept", accepted: "on" }[bridgy.status];
  return (
    <section class="card">
      <h2>Bluesky</h2>
      <p>
        Bridgy Fed shows your posts on Bluesky while this account follows <code>{bridgy.account}</code>; people on
        Bluesky then see and follow a bridged profile. Turning it off ends the bridging.
      </p>
      {!hasAvatar && <p class="hint">Bridgy Fed wants a profile picture: add an avatar first.</p>}
      <form method="post" action="/admin/audience/bridgy">
        <Csrf token={csrf} />
        <input type="hidden" name="on" value={bridgy.status === "off" ? "1" : "0"} />
        <p>
          Status: <strong>{status}</strong>
        </p>
        <div class="actions">
          <button type="submit">
            {bridgy.status === "off" ? "Also publish to Bluesky (through Bridgy Fed)" : "Stop publishing to Bluesky"}
          </button>
        </div>
      </form>
    </section>
  );
}

const RELAY_STATES: Record<string, string> = {
  pending: "waiting for the relay to accept",
  accepted: "relaying every public post",
  rejected: "refused by the relay",
};

function Relays({ csrf, relays }: AudienceView): Html {
  return (
    <section class="card">
      <h2>Relays</h2>
      <p>
        A relay forwards public posts into the federated timelines of every server subscribed to it. Give its actor URL
        (e.g. <code>https://relay.example/actor</code>) or, for Mastodon-style relays, its inbox URL (
        <code>https://relay.example/inbox</code>).
      </p>
      {relays.length > 0 && (
        <ul>
          {relays.map((r) => (
            <li>
              <code>{r.url}</code> — {RELAY_STATES[r.status] ?? r.status}
              <form method="post" action="/admin/audience/relays/remove" class="inline">
                <Csrf token={csrf} />
                <input type="hidden" name="url" value={r.url} />
                <button type="submit">Leave</button>
              </form>
            </li>
          ))}
        </ul>
      )}
      <form method="post" action="/admin/audience/relays">
        <Csrf token={csrf} />
        <label for="relay-url">Relay URL</label>
        <input id="relay-url" name="url" type="url" placeholder="https://relay.example/actor" required />
        <div class="actions">
          <button type="submit">Join relay</button>
        </div>
      </form>
    </section>
  );
}

function MoveForm({ csrf }: { csrf: string }): Html {
  return (
    <form
      method="post"
      action="/admin/audience/move"
      data-confirm="Move this account for good? Every follower's server is told to follow the new account, and nothing more can be published here."
    >
      <Csrf token={csrf} />
      <label for="move-to">Move to</label>
      <input id="move-to" name="target" placeholder="@you@new.example" required />
      <p class="hint">
        The new account must first list this one (the "also known as" of its profile). Followers' servers follow the new
        account; this one keeps its posts and says where it went.
      </p>
      <label class="check">
        <input type="checkbox" name="confirm" value="1" required /> I understand this cannot be undone
      </label>
      <div class="actions">
        <button class="danger" type="submit">
          Move this account
        </button>
      </div>
    </form>
  );
}
