import type { DeliveryProgress } from "../../delivery/progress.ts";
import type { Post } from "../../product/posts.ts";
import type { ScheduledPost } from "../../product/schedule.ts";
import type { ChannelProgress } from "../../readers/fanout.ts";
import { Temporal } from "../../shared/temporal.ts";
import { PostButton, TableHead } from "./desk.tsx";
import type { Html } from "./layout.tsx";
import { formatDate } from "./media-grid.tsx";

export interface PostRow {
  post: Post;
  url: URL;
  /** Servers reached out of those due (when known). */
  reach?: { delivered: number; due: number };
}

/** The published posts, newest first: reach, boosts, and edit, pin and delete. */
export function PostsTable({ csrf, rows, next }: { csrf: string; rows: PostRow[]; next: string | null }): Html {
  if (rows.length === 0) {
    return (
      <p>
        Nothing published yet. <a href="/admin">Write the first post.</a>
      </p>
    );
  }
  return (
    <>
      <table>
        <TableHead columns={["Post", "Published", "Reach", "Actions"]} />
        <tbody>
          {rows.map((row) => (
            <PostLine csrf={csrf} {...row} />
          ))}
        </tbody>
      </table>
      {next && (
        <nav class="pages">
          <span />
          <a rel="next" href={next}>
            Older posts →
          </a>
        </nav>
      )}
    </>
  );
}

function PostLine({ csrf, post, url, reach }: PostRow & { csrf: string }): Html {
  return (
    <tr data-post={post.id}>
      <td>
        <a href={url.href}>{post.summary ? `CW: ${post.summary}` : excerptText(post)}</a>
        {post.pinnedAt !== null && (
          <>
            {" "}
            <span class="badge">Pinned</span>
          </>
        )}
        {post.updatedAt !== null && (
          <>
            {" "}
            <span class="badge">Edited</span>
          </>
        )}
      </td>
      <td>{formatDate(new Date(post.publishedAt))}</td>
      <td class="reach">
        {reach ? (
          <a href={`/admin/posts/${post.id}`}>
            {reach.delivered}/{reach.due} servers
          </a>
        ) : (
          "—"
        )}
        <br />
        {post.boosts} {post.boosts === 1 ? "boost" : "boosts"}
        {post.likes > 0 ? (
          <>
            <br />
            {post.likes} {post.likes === 1 ? "like" : "likes"}
          </>
        ) : null}
      </td>
      <td>
        <div class="actions">
          <a class="button" href={`/admin/posts/${post.id}/edit`}>
            Edit
          </a>
          <PostButton
            csrf={csrf}
            action={`/admin/posts/${post.id}/pin`}
            fields={{ pinned: post.pinnedAt ? "0" : "1" }}
            label={post.pinnedAt ? "Unpin" : "Pin"}
            inline
          />
          <PostButton
            csrf={csrf}
            action={`/admin/posts/${post.id}/delete`}
            label="Delete"
            kind="danger"
            confirm="Delete this post everywhere? This cannot be undone."
            inline
          />
        </div>
      </td>
    </tr>
  );
}

/** Posts waiting for their time, each with its zone; edit or cancel. */
export function ScheduledTable({ csrf, rows }: { csrf: string; rows: ScheduledPost[] }): Html | null {
  if (rows.length === 0) return null;
  return (
    <>
      <h2>Scheduled</h2>
      <table>
        <TableHead columns={["Post", "Goes out", "Actions"]} />
        <tbody>
          {rows.map((s) => (
            <tr data-scheduled={s.id}>
              <td>{s.title ? `Statement: ${s.title}` : s.summary ? `CW: ${s.summary}` : s.source.slice(0, 80)}</td>
              <td>{localTime(s.publishAt, s.timeZone)}</td>
              <td>
                <div class="actions">
                  <a class="button" href={`/admin/scheduled/${s.id}/edit`}>
                    Edit
                  </a>
                  <PostButton
                    csrf={csrf}
                    action={`/admin/scheduled/${s.id}/cancel`}
                    label="Cancel"
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

/** "24 Dec 2026, 18:30 Europe/Paris" */
export function localTime(epochMs: number, zone: string): string {
  const z = Temporal.Instant.fromEpochMilliseconds(epochMs).toZonedDateTimeISO(zone);
  return `${z.toPlainDate().toLocaleString("en", { dateStyle: "medium" })}, ${z.toPlainTime().toString({ smallestUnit: "minute" })} ${zone}`;
}

function excerptText(post: Post): string {
  if (post.title !== null) return `Statement: ${post.title}`;
  const chars = [...post.source];
  return chars.length > 80 ? `${chars.slice(0, 79).join("")}…` : post.source;
}

/** Where the post has got: servers reached out of those due, and what failed; then readers by email and push. */
export function DeliveryBox({
  progress: p,
  readers = [],
}: {
  progress: DeliveryProgress;
  readers?: ChannelProgress[];
}): Html {
  const pct = p.due === 0 ? 100 : Math.floor((p.delivered / p.due) * 100);
  const counts: [number, string][] = [
    [p.waiting, "on the way"],
    [p.failing, "retrying"],
    [p.givenUp, "given up"],
    [p.refused, "refused"],
    [p.gone, "gone (followers removed)"],
  ];
  return (
    <section class="card" aria-labelledby="delivery-title" data-delivery>
      <h2 id="delivery-title">Delivery</h2>
      {p.due === 0 ? (
        <p>No follower servers to reach yet.</p>
      ) : (
        <>
          <div
            class="progress"
            role="progressbar"
            aria-valuemin="0"
            aria-valuemax={p.due}
            aria-valuenow={p.delivered}
            aria-label="Servers reached"
          >
            <span class={`w${Math.round(pct / 5) * 5}`} />
          </div>
          <p>
            <strong data-reached>{p.delivered}</strong> of <strong data-due>{p.due}</strong> servers reached ({pct}%)
            {counts.filter(([n]) => n > 0).map(([n, what]) => ` · ${n} ${what}`)}
          </p>
          {p.failures.length > 0 && (
            <table>
              <TableHead columns={["Server", "State", "Tries", "Last answer"]} />
              <tbody>
                {p.failures.map((f) => (
                  <tr>
                    <td>{f.host}</td>
                    <td>{f.status === "pending" ? "retrying" : f.status.replace("_", " ")}</td>
                    <td class="num">{f.attempts}</td>
                    <td>{f.lastError ?? ""}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </>
      )}
      <table data-channels>
        <TableHead columns={["Channel", "Queued", "Sent", "Failed", "Suppressed or gone"]} />
        <tbody>
          <tr>
            <td>Fediverse servers</td>
            <td class="num">{p.due}</td>
            <td class="num">{p.delivered}</td>
            <td class="num">{p.givenUp + p.refused}</td>
            <td class="num">{p.gone}</td>
          </tr>
          {readers.map((r) => (
            <tr data-channel={r.channel}>
              <td>{r.channel === "email" ? "Email subscribers" : "Browsers (Web Push)"}</td>
              <td class="num">{r.queued}</td>
              <td class="num">{r.sent}</td>
              <td class="num">{r.failed}</td>
              <td class="num">{r.suppressed}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p class="hint">Reload to update.</p>
    </section>
  );
}
