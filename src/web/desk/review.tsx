import type { Context } from "hono";
import { audit } from "../../product/access/audit.ts";
import { getStaff } from "../../product/access/staff.ts";
import {
  approvalRequired,
  approve,
  decline,
  discardDeclined,
  editAwaiting,
  listForReview,
  submitForApproval,
} from "../../product/approval.ts";
import { countFollowerServers, countFollowers } from "../../product/followers.ts";
import { InvalidPostError, type PostInput } from "../../product/posts.ts";
import { getScheduled, type ScheduledPost } from "../../product/schedule.ts";
import { readerCounts } from "../../readers/subscribers.ts";
import { UUID_PATTERN } from "../../shared/ids.ts";
import type { ComposeValues } from "../views/compose.tsx";
import { Csrf, Messages, PostButton } from "../views/desk.tsx";
import type { Html } from "../views/layout.tsx";
import { composer, type PageExtra } from "./compose.tsx";
import type { Desk, DeskEnv } from "./desk.tsx";

/** Who a post would reach now: followers and their servers, readers by email and push, the undo window. */
export interface Audience {
  followers: number;
  servers: number;
  email: number;
  push: number;
  undoSeconds: number;
}

/**
 * The approval rule in the desk: an editor's post goes to the owner's queue
 * instead of out; the owner sees what would be sent and to whom, and approves
 * or declines it with a note; every step is in the audit log with the person.
 */
export function reviewRoutes(desk: Desk): void {
  const { admin } = desk;
  const { lectern, now } = desk.deps;
  for (const action of ["approve", "decline"] as const)
    admin.post(`/posts/:id/${action}`, async (c) => {
      const id = c.req.param("id");
      if (!UUID_PATTERN.test(id)) return c.notFound();
      const form = await c.req.parseBody();
      try {
        if (action === "approve") await approve(lectern.context(), id, now());
        else await decline(lectern.data, id, typeof form.note === "string" ? form.note : "");
      } catch (e) {
        if (!(e instanceof InvalidPostError)) throw e;
        return c.redirect("/admin?error=decided", 303);
      }
      await audit(lectern.db, desk.actor(c), action === "approve" ? "approve" : "decline", id, now());
      return c.redirect(`/admin?notice=${action === "approve" ? "approved-post" : "declined-post"}`, 303);
    });
  // The owner may change a waiting post before approving it: the same compose form, without a schedule.
  const { valuesOf, readCompose, toInput, preview, changeForm } = composer(desk);
  const editPage = (c: Context<DeskEnv>, id: string, values: ComposeValues, extra: PageExtra = {}) => {
    const session = c.get("session");
    return desk.render(
      c,
      "Edit before approving",
      <>
        <h1>Edit before approving</h1>
        <p class="hint">Your changes are what Approve will send; the audit log names you.</p>
        <Messages error={extra.error} />
        {changeForm(c, { action: `/admin/posts/${id}/review`, values, extra })}
      </>,
      session,
      extra.status,
    );
  };
  const waiting = async (id: string) => {
    const p = UUID_PATTERN.test(id) ? await getScheduled(lectern.data, id) : undefined;
    return p?.review === "awaiting" ? p : undefined;
  };
  admin.get("/posts/:id/review", async (c) => {
    const p = await waiting(c.req.param("id"));
    if (p === undefined) return c.redirect("/admin?error=decided", 303);
    return editPage(c, p.id, await valuesOf(p, { timeZone: p.timeZone }));
  });
  admin.post("/posts/:id/review", async (c) => {
    const id = c.req.param("id");
    if ((await waiting(id)) === undefined) return c.redirect("/admin?error=decided", 303);
    const values = await readCompose(c);
    try {
      if (values.mediaError) throw new InvalidPostError(values.mediaError);
      if (values.action === "preview") return editPage(c, id, values, { preview: await preview(values) });
      await editAwaiting(lectern.data, id, toInput(values));
    } catch (e) {
      if (e instanceof InvalidPostError) return editPage(c, id, values, { error: e.message, status: 422 });
      throw e;
    }
    await audit(lectern.db, desk.actor(c), "edit-awaiting", id, now());
    return c.redirect("/admin?notice=edited-awaiting", 303);
  });

  admin.post("/posts/:id/discard", async (c) => {
    const id = c.req.param("id");
    if (UUID_PATTERN.test(id)) await discardDeclined(lectern.data, id, c.get("session").staffId);
    return c.redirect("/admin", 303);
  });
}

/** Whether this person's post must wait for the owner (an editor, with the rule on). */
export async function needsApproval(desk: Desk, c: Context<DeskEnv>): Promise<boolean> {
  const { db } = desk.deps.lectern;
  if (!(await approvalRequired(db))) return false;
  return (await getStaff(db, c.get("session").staffId))?.role === "editor";
}

/** Puts an editor's post in the owner's queue, audited; the redirect to show. */
export async function sendForApproval(
  desk: Desk,
  c: Context<DeskEnv>,
  input: PostInput,
  schedule?: { publishAt: number; timeZone: string },
): Promise<string> {
  const { lectern, now } = desk.deps;
  const id = await submitForApproval(lectern.data, input, c.get("session").staffId, schedule ?? {}, now());
  await audit(lectern.db, desk.actor(c), "submit-for-approval", id, now());
  return "/admin?notice=awaiting";
}

export async function audienceNow(desk: Desk): Promise<Audience> {
  const { db, config } = desk.deps.lectern;
  const readers = await readerCounts(db);
  return {
    followers: await countFollowers(db),
    servers: await countFollowerServers(db),
    email: config.email === null ? 0 : readers.email.confirmed,
    push: config.push.enabled ? readers.push : 0,
    undoSeconds: config.undoMs / 1000,
  };
}

/** The audience preview, in words. */
export function AudienceLine({ a }: { a: Audience }): Html {
  return (
    <p class="hint audience-preview">
      Reaches {a.followers} followers on {a.servers} servers
      {a.email > 0 && `, ${a.email} email subscribers`}
      {a.push > 0 && `, ${a.push} browsers with notifications`}
      {a.undoSeconds > 0 ? `; leaves ${a.undoSeconds} s after it is sent (undo window).` : "; leaves at once."}
    </p>
  );
}

/** The owner's queue (approve, decline with a note), or an editor's own waiting and declined posts. */
export function ReviewQueue(v: {
  rows: ScheduledPost[];
  csrf: string;
  owner: boolean;
  audience: Audience;
}): Html | null {
  if (v.rows.length === 0) return null;
  return (
    <section class="card review" id="review">
      <h2>{v.owner ? "Waiting for your approval" : "Your posts waiting for approval"}</h2>
      {v.owner && <AudienceLine a={v.audience} />}
      <ul>
        {v.rows.map((p) => (
          <li data-review={p.id}>
            {p.title && (
              <p>
                <strong>Statement: {p.title}</strong>
              </p>
            )}
            {p.summary && (
              <p>
                <strong>Content warning:</strong> {p.summary}
              </p>
            )}
            <blockquote lang={p.language}>{p.source}</blockquote>
            <p class="hint">
              {p.attachments.length > 0 && `${p.attachments.length} attachments · `}language {p.language}
              {p.publishAt > p.createdAt + 60_000 && ` · scheduled for ${new Date(p.publishAt).toISOString()}`}
            </p>
            {p.review === "declined" ? (
              <>
                <p>
                  <strong>Declined</strong>
                  {p.reviewNote ? `: ${p.reviewNote}` : "."}
                </p>
                <PostButton csrf={v.csrf} action={`/admin/posts/${p.id}/discard`} label="Put away" inline={true} />
              </>
            ) : v.owner ? (
              <>
                <PostButton
                  csrf={v.csrf}
                  action={`/admin/posts/${p.id}/approve`}
                  label="Approve"
                  kind="primary"
                  inline={true}
                />
                <a class="button" href={`/admin/posts/${p.id}/review`}>
                  Edit
                </a>
                <form method="post" action={`/admin/posts/${p.id}/decline`} class="inline">
                  <Csrf token={v.csrf} />
                  <label for={`note-${p.id}`}>Note for the editor</label>
                  <input id={`note-${p.id}`} name="note" maxlength={1000} />
                  <button type="submit" class="danger">
                    Decline
                  </button>
                </form>
              </>
            ) : (
              <p>Waiting for the owner.</p>
            )}
          </li>
        ))}
      </ul>
    </section>
  );
}

/** The rows the Write page shows this person. */
export function reviewRows(desk: Desk, c: Context<DeskEnv>, owner: boolean): Promise<ScheduledPost[]> {
  return listForReview(desk.deps.lectern.data, owner ? undefined : c.get("session").staffId);
}

/**
 * Changes to published posts saved as drafts (an editor's, under the approval rule, wait here for the
 * owner): each links to its post's edit page, where they are published or discarded.
 */
export function ChangesWaiting(v: {
  rows: { postId: string; title: string; text: string; username: string | null; updatedAt: number }[];
  owner: boolean;
}): Html | null {
  if (v.rows.length === 0) return null;
  return (
    <section class="card review" id="changes-waiting">
      <h2>{v.owner ? "Changes saved as drafts" : "Your changes saved as drafts"}</h2>
      <p class="hint">Nothing of these has gone out: the posts read as before until the changes are published.</p>
      <ul>
        {v.rows.map((d) => (
          <li data-changes={d.postId}>
            <blockquote>{d.title || (d.text.length > 200 ? `${d.text.slice(0, 200)}…` : d.text)}</blockquote>
            <p class="hint">
              Saved by {d.username ?? "someone no longer on the staff"} ·{" "}
              <a href={`/admin/posts/${d.postId}/edit`}>{v.owner ? "Review and publish" : "Open"}</a>
            </p>
          </li>
        ))}
      </ul>
    </section>
  );
}
