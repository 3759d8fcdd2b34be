import type { FailingServer } from "../../delivery/status.ts";
import type { Block } from "../../product/blocks.ts";
import type { Follower } from "../../product/followers.ts";
import { Csrf, Messages, PostButton, TableHead } from "./desk.tsx";
import type { Html } from "./layout.tsx";
import { formatDate } from "./media-grid.tsx";

function Account({ follower: f }: { follower: Follower }): Html {
  return (
    <a href={f.actorIri} rel="noopener nofollow" target="_blank">
      {f.handle ?? f.actorIri}
    </a>
  );
}

export function FollowersTable(p: { csrf: string; total: number; rows: Follower[]; next: string | null }): Html {
  return (
    <>
      <p class="stats">
        <strong>{p.total}</strong> {p.total === 1 ? "follower" : "followers"}
      </p>
      {p.rows.length === 0 ? (
        <p>No followers yet.</p>
      ) : (
        <table>
          <TableHead columns={["Follower", "Server", "Since"]} actions />
          <tbody>
            {p.rows.map((f) => (
              <tr>
                <td>
                  <Account follower={f} />
                </td>
                <td>{f.host}</td>
                <td>{formatDate(new Date(f.createdAt))}</td>
                <td>
                  <PostButton
                    csrf={p.csrf}
                    action="/admin/followers/remove"
                    fields={{ actor: f.actorIri }}
                    label="Remove"
                    kind="danger"
                    confirm="Remove this follower? Their server is told."
                  />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {p.next && (
        <nav class="pages">
          <span />
          <a rel="next" href={p.next}>
            More →
          </a>
        </nav>
      )}
    </>
  );
}

/** Followers over time as a small line chart (SVG drawn here: no chart library), with its numbers in words. */
export function FollowersChart({ points }: { points: { day: number; followers: number }[] }): Html | null {
  if (points.length < 2) return null;
  const w = 600;
  const h = 120;
  const max = Math.max(1, ...points.map((p) => p.followers));
  const x = (i: number) => Math.round((i / (points.length - 1)) * w);
  const y = (n: number) => Math.round(h - (n / max) * (h - 10));
  const line = points.map((p, i) => `${x(i)},${y(p.followers)}`).join(" ");
  const first = points[0];
  const last = points[points.length - 1];
  const day = new Intl.DateTimeFormat("en-GB", { day: "numeric", month: "short", timeZone: "UTC" });
  const words = `Followers over ${points.length} days: ${first.followers} on ${day.format(new Date(first.day))}, ${last.followers} today.`;
  return (
    <figure class="card chart">
      <figcaption>{words}</figcaption>
      <svg viewBox={`0 0 ${w} ${h}`} width="100%" height={h} role="img" aria-label={words} preserveAspectRatio="none">
        <polyline points={line} fill="none" stroke="currentColor" stroke-width="2" vector-effect="non-scaling-stroke" />
      </svg>
    </figure>
  );
}

/** Servers not taking deliveries: their followers are kept, and get the posts when the server answers again. */
export function FailingServersTable({ rows }: { rows: FailingServer[] }): Html | null {
  if (rows.length === 0) return null;
  return (
    <section class="card" id="failing-servers">
      <h2>Servers not answering</h2>
      <p class="hint">
        Their followers are kept: a server that fails is retried, then paused and probed twice a day, and gets what it
        missed once it answers. Only a follower whose own account is gone is removed.
      </p>
      <table>
        <TableHead columns={["Server", "Followers there", "Failing since", "Last success", "State"]} />
        <tbody>
          {rows.map((r) => (
            <tr>
              <td>{r.host}</td>
              <td>{r.followers}</td>
              <td>
                {formatDate(new Date(r.failingSince))} ({r.failureDays} {r.failureDays === 1 ? "day" : "days"})
              </td>
              <td>{r.lastSuccessAt === null ? "—" : formatDate(new Date(r.lastSuccessAt))}</td>
              <td>{r.paused ? "paused" : "retrying"}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

/** Accounts asking to follow while followers are approved by hand. */
export function PendingTable({ csrf, rows }: { csrf: string; rows: Follower[] }): Html | null {
  if (rows.length === 0) return null;
  return (
    <>
      <h2>Waiting for approval</h2>
      <table>
        <TableHead columns={["Account", "Asked"]} actions />
        <tbody>
          {rows.map((f) => (
            <tr>
              <td>
                <Account follower={f} />
              </td>
              <td>{formatDate(new Date(f.createdAt))}</td>
              <td>
                <div class="actions">
                  <PostButton
                    csrf={csrf}
                    action="/admin/followers/approve"
                    fields={{ actor: f.actorIri }}
                    label="Approve"
                    kind="primary"
                    inline
                  />
                  <PostButton
                    csrf={csrf}
                    action="/admin/followers/remove"
                    fields={{ actor: f.actorIri }}
                    label="Decline"
                    kind="danger"
                    inline
                  />
                </div>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

export function BlocksPage(p: { csrf: string; rows: Block[]; error?: string; notice?: string }): Html {
  return (
    <>
      <h1>Blocks</h1>
      <Messages notice={p.notice} error={p.error} />
      <p class="hint">
        A blocked account stops following (its server is told) and cannot follow again. A blocked server loses all its
        followers here, its follows and messages are refused, and nothing is delivered to it.
      </p>
      <form method="post" action="/admin/blocks" class="card">
        <Csrf token={p.csrf} />
        <div class="row">
          <div>
            <label for="block-value">An account (@user@server or its URL), or a whole server (spam.example)</label>
            <input
              id="block-value"
              name="value"
              required
              autocapitalize="none"
              spellcheck={false}
              placeholder="@spammer@spam.example or spam.example"
            />
          </div>
          <button class="danger" type="submit">
            Block
          </button>
        </div>
      </form>
      <form method="post" action="/admin/blocks/import" enctype="multipart/form-data" class="card">
        <Csrf token={p.csrf} />
        <label for="blocklist">
          Import a server blocklist{" "}
          <span class="hint">
            (Mastodon's CSV export, or one server name per line; suspensions are blocked, silences skipped)
          </span>
        </label>
        <input id="blocklist" type="file" name="file0" accept=".csv,.txt,text/csv,text/plain" />
        <div class="actions">
          <button class="danger" type="submit">
            Import
          </button>
        </div>
      </form>
      {p.rows.length === 0 ? <p>Nothing is blocked.</p> : <BlocksTable csrf={p.csrf} rows={p.rows} />}
    </>
  );
}

function BlocksTable({ csrf, rows }: { csrf: string; rows: Block[] }): Html {
  return (
    <table>
      <TableHead columns={["Blocked", "Kind", "Since"]} actions />
      <tbody>
        {rows.map((b) => (
          <tr>
            <td>{b.value}</td>
            <td>{b.kind === "domain" ? "server" : "account"}</td>
            <td>{formatDate(new Date(b.createdAt))}</td>
            <td>
              <PostButton
                csrf={csrf}
                action="/admin/blocks/remove"
                fields={{ kind: b.kind, value: b.value }}
                label="Unblock"
              />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
