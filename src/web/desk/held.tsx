import { audit } from "../../product/access/audit.ts";
import { InvalidPostError } from "../../product/posts.ts";
import type { ScheduledPost } from "../../product/schedule.ts";
import { sendNow, undoPost } from "../../product/undo.ts";
import { UUID_PATTERN } from "../../shared/ids.ts";
import { PostButton } from "../views/desk.tsx";
import type { Html } from "../views/layout.tsx";
import type { Desk } from "./desk.tsx";

/**
 * Posts in their undo window, in the desk: each with its deadline counting
 * down (desk.js; the time itself without JavaScript), **Undo** and **Send
 * now**. Both are audited with the person who pressed them; one that comes
 * too late (the post is out) or twice says so and changes nothing.
 */
export function heldRoutes(desk: Desk): void {
  const { admin } = desk;
  const { lectern, now } = desk.deps;
  for (const action of ["undo", "send-now"] as const)
    admin.post(`/posts/:id/${action}`, async (c) => {
      const id = c.req.param("id");
      if (!UUID_PATTERN.test(id)) return c.notFound();
      try {
        if (action === "undo") await undoPost(lectern.data, id);
        else await sendNow(lectern.context(), id, now());
      } catch (e) {
        if (!(e instanceof InvalidPostError)) throw e;
        return c.redirect(`/admin?error=${action === "undo" ? "undo-late" : "send-late"}`, 303);
      }
      await audit(lectern.db, desk.actor(c), action, lectern.data.urls.post(id).href, now());
      return action === "undo"
        ? c.redirect("/admin?notice=undone", 303)
        : c.redirect(`/admin/posts/${id}?notice=published`, 303);
    });
}

const clock = new Intl.DateTimeFormat("en-GB", {
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
  timeZone: "UTC",
});

/** The posts waiting out their undo window, with their countdown and buttons; nothing when there are none. */
export function HeldPosts({ rows, csrf }: { rows: ScheduledPost[]; csrf: string }): Html | null {
  if (rows.length === 0) return null;
  return (
    <section class="card held" id="held-posts" aria-live="polite">
      <h2>Sending soon</h2>
      <p class="hint">Nothing of these has left or shows anywhere yet. Undo takes a post back without a trace.</p>
      <ul>
        {rows.map((p) => (
          <li data-held={p.id}>
            {p.title && (
              <p>
                <strong>Statement: {p.title}</strong>
              </p>
            )}
            <blockquote>{p.source.length > 280 ? `${p.source.slice(0, 280)}…` : p.source}</blockquote>
            <p>
              Sending at <time datetime={new Date(p.publishAt).toISOString()}>{clock.format(p.publishAt)} UTC</time>{" "}
              <strong data-send-at={String(p.publishAt)} />
            </p>
            <PostButton csrf={csrf} action={`/admin/posts/${p.id}/undo`} label="Undo" kind="danger" inline={true} />
            <PostButton csrf={csrf} action={`/admin/posts/${p.id}/send-now`} label="Send now" inline={true} />
          </li>
        ))}
      </ul>
    </section>
  );
}
