import type { Context } from "hono";
import { deliveryProgress } from "../../delivery/progress.ts";
import { audit } from "../../product/access/audit.ts";
import { getStaff } from "../../product/access/staff.ts";
import { clearDraft, getDraft } from "../../product/drafts.ts";
import { discardEditDraft, getEditDraft, listEditDrafts, saveEditDraft } from "../../product/edit-drafts.ts";
import {
  checkPost,
  decodePostCursor,
  encodePostCursor,
  getLivePost,
  InvalidPostError,
  listPosts,
  type Post,
  PostNotFoundError,
} from "../../product/posts.ts";
import { publishDelete, publishEdit, publishPin } from "../../product/publish.ts";
import { listScheduled, resolvePublishTime, schedulePost } from "../../product/schedule.ts";
import { listHeld, submitPost } from "../../product/undo.ts";
import { readerProgress } from "../../readers/fanout.ts";
import { UUID_PATTERN } from "../../shared/ids.ts";
import { showAttachments } from "../attachments.ts";
import { ComposeForm, type ComposeValues, DraftNotice } from "../views/compose.tsx";
import { Messages } from "../views/desk.tsx";
import { DeliveryBox, PostsTable, ScheduledTable } from "../views/posts.tsx";
import { PostArticle } from "../views/public.tsx";
import { composer, type PageExtra, TIME_ZONES } from "./compose.tsx";
import type { Desk, DeskEnv } from "./desk.tsx";
import { HeldPosts, heldRoutes } from "./held.tsx";
import {
  AudienceLine,
  audienceNow,
  ChangesWaiting,
  needsApproval,
  ReviewQueue,
  reviewRoutes,
  reviewRows,
  sendForApproval,
} from "./review.tsx";

/** Writing: compose (with uploads, preview and scheduling), the posts, one post's progress, edit, delete, pin. */
export function postRoutes(desk: Desk): void {
  const { admin, render, notice } = desk;
  const { lectern, now } = desk.deps;
  const { db, data } = lectern;
  const { emptyCompose, valuesOf, readCompose, scheduledNotice, toInput, preview, changeForm } = composer(desk);
  heldRoutes(desk);
  reviewRoutes(desk);
  const composePage = async (c: Context<DeskEnv>, values: ComposeValues, extra: PageExtra = {}) => {
    const session = c.get("session");
    const recent = (await listPosts(db, 5)).items;
    const audience = await audienceNow(desk);
    return render(
      c,
      "Write",
      <>
        <h1>Write</h1>
        <Messages notice={notice(c)} error={extra.error ?? desk.error(c)} />
        <AudienceLine a={audience} />
        <HeldPosts csrf={session.csrfToken} rows={await listHeld(data)} />
        <ReviewQueue
          csrf={session.csrfToken}
          owner={session.role === "owner"}
          rows={await reviewRows(desk, c, session.role === "owner")}
          audience={audience}
        />
        <ChangesWaiting
          owner={session.role === "owner"}
          rows={await listEditDrafts(db, session.role === "owner" ? undefined : session.staffId)}
        />
        <ComposeForm
          csrf={session.csrfToken}
          values={values}
          action="/admin/posts"
          schedule={true}
          guessZone={values.text === ""}
          preview={extra.preview}
          submitLabel="Publish"
          timeZones={TIME_ZONES}
          autofocus={true}
          draftKey="/admin/draft"
        />
        <ScheduledTable csrf={session.csrfToken} rows={await listScheduled(data)} />
        <h2>Latest</h2>
        <PostsTable
          csrf={session.csrfToken}
          rows={recent.map((post) => ({ post, url: data.urls.post(post.id) }))}
          next={null}
        />
        <p>
          <a href="/admin/posts">All posts →</a>
        </p>
      </>,
      session,
      extra.status,
    );
  };

  // The Write page starts from the account's unfinished post, if it left one.
  admin.get("/", async (c) => {
    const draft = await getDraft(db, c.get("session").staffId);
    return composePage(c, { ...emptyCompose(), ...(draft ? { text: draft.text, summary: draft.summary } : {}) });
  });

  admin.post("/posts", async (c) => {
    const values = await readCompose(c);
    try {
      if (values.mediaError) throw new InvalidPostError(values.mediaError);
      if (values.action === "preview") return composePage(c, values, { preview: await preview(values) });
      if (await needsApproval(desk, c)) {
        const at = values.date && values.time ? resolvePublishTime(values, now()) : undefined;
        const to = await sendForApproval(
          desk,
          c,
          toInput(values),
          at === undefined ? undefined : { publishAt: at, timeZone: values.timeZone },
        );
        await clearDraft(db, c.get("session").staffId);
        return c.redirect(to, 303);
      }
      if (values.date || values.time) {
        if (values.inReplyTo) throw new InvalidPostError("thread: a continuation is published at once, not scheduled");
        if (!values.date || !values.time)
          throw new InvalidPostError("scheduled time: give both a date and a time, or neither");
        const scheduled = await schedulePost(
          data,
          { ...toInput(values), date: values.date, time: values.time, timeZone: values.timeZone },
          now(),
        );
        await clearDraft(db, c.get("session").staffId);
        await audit(db, desk.actor(c), "schedule", `for ${values.date} ${values.time} ${values.timeZone}`, now());
        return c.redirect(scheduledNotice(scheduled), 303);
      }
      const { post, sendAt } = await submitPost(lectern.context(), toInput(values), now());
      if (!values.inReplyTo) await clearDraft(db, c.get("session").staffId);
      await audit(db, desk.actor(c), "publish", data.urls.post(post.id).href, now());
      return c.redirect(sendAt === null ? `/admin/posts/${post.id}?notice=published` : "/admin?notice=held", 303);
    } catch (e) {
      if (e instanceof InvalidPostError) return composePage(c, values, { error: e.message, status: 422 });
      throw e;
    }
  });

  admin.get("/posts", async (c) => {
    const session = c.get("session");
    const cursor = c.req.query("after");
    const list = await listPosts(db, 50, { after: cursor ? decodePostCursor(cursor) : null });
    return render(
      c,
      "Posts",
      <>
        <h1>Posts</h1>
        <Messages notice={notice(c)} error={desk.error(c)} />
        <PostsTable
          csrf={session.csrfToken}
          rows={
            await Promise.all(
              list.items.map(async (post) => ({
                post,
                url: data.urls.post(post.id),
                reach: await deliveryProgress(db, post.id),
              })),
            )
          }
          next={list.next ? `/admin/posts?after=${encodePostCursor(list.next)}` : null}
        />
      </>,
      session,
    );
  });

  const livePost = async (c: Context): Promise<Post | undefined> => {
    const id = c.req.param("id") ?? "";
    return UUID_PATTERN.test(id) ? await getLivePost(db, id) : undefined;
  };

  // The author's view of one post: where it is, and what followers' servers got.
  admin.get("/posts/:id", async (c) => {
    const post = await livePost(c);
    if (post === undefined) return c.notFound();
    const session = c.get("session");
    const url = data.urls.post(post.id);
    return render(
      c,
      "Post",
      <>
        <h1>Post</h1>
        <Messages notice={notice(c)} />
        <PostArticle
          post={post}
          url={url}
          pinned={post.pinnedAt !== null}
          media={await showAttachments(data, post.attachments)}
        />
        <p>
          Public link: <a href={url.href}>{url.href}</a>
        </p>
        <DeliveryBox progress={await deliveryProgress(db, post.id)} readers={await readerProgress(db, post.id)} />
        <div class="actions">
          <a class="button" href={`/admin/posts/${post.id}/edit`}>
            Edit
          </a>
        </div>
        <h2>Continue this thread</h2>
        <ComposeForm
          csrf={session.csrfToken}
          values={{ ...emptyCompose(), inReplyTo: post.id, language: post.language }}
          action="/admin/posts"
          schedule={false}
          guessZone={false}
          submitLabel="Publish"
          timeZones={TIME_ZONES}
        />
      </>,
      session,
    );
  });

  /** The edit page; without `values`, the form holds the changes saved as a draft, or else the post as it is. */
  const editPage = async (c: Context<DeskEnv>, post: Post, given?: ComposeValues, extra: PageExtra = {}) => {
    const session = c.get("session");
    const draft = await getEditDraft(db, post.id);
    const values =
      given ??
      (await valuesOf(draft === undefined ? post : { ...draft, title: draft.title || null, source: draft.text }));
    return render(
      c,
      "Edit",
      <>
        <h1>Edit {post.title === null ? "post" : "statement"}</h1>
        <Messages error={extra.error} notice={notice(c)} />
        {draft && (
          <DraftNotice
            csrf={session.csrfToken}
            postId={post.id}
            savedAt={draft.updatedAt}
            by={draft.staffId === session.staffId ? null : ((await getStaff(db, draft.staffId ?? 0))?.username ?? "")}
          />
        )}
        {changeForm(c, { action: `/admin/posts/${post.id}`, values, extra, draftable: true })}
      </>,
      session,
      extra.status,
    );
  };

  admin.get("/posts/:id/edit", async (c) => {
    const post = await livePost(c);
    if (post === undefined) return c.notFound();
    // Changes saved as a draft come back to be finished.
    return editPage(c, post);
  });

  admin.post("/posts/:id", async (c) => {
    const post = await livePost(c);
    if (post === undefined) return c.notFound();
    const values = await readCompose(c);
    try {
      if (values.mediaError) throw new InvalidPostError(values.mediaError);
      if (values.action === "preview") return editPage(c, post, values, { preview: await preview(values) });
      // Under the approval rule an editor's changes wait as a draft for the owner, who publishes them.
      const forOwner = values.action !== "draft" && (await needsApproval(desk, c));
      if (values.action === "draft" || forOwner) {
        if (forOwner) await checkPost(data, toInput(values), post.attachments);
        await saveEditDraft(db, post.id, c.get("session").staffId, toInput(values), now());
        await audit(db, desk.actor(c), "edit-draft", data.urls.post(post.id).href, now());
        return c.redirect(`/admin/posts/${post.id}/edit?notice=${forOwner ? "edit-awaiting" : "edit-draft"}`, 303);
      }
      await publishEdit(lectern.context(), post.id, toInput(values), now());
      await audit(db, desk.actor(c), "edit", data.urls.post(post.id).href, now());
      return c.redirect(`/admin/posts/${post.id}?notice=edited`, 303);
    } catch (e) {
      if (e instanceof InvalidPostError) return editPage(c, post, values, { error: e.message, status: 422 });
      throw e;
    }
  });

  admin.post("/posts/:id/draft/discard", async (c) => {
    const post = await livePost(c);
    if (post === undefined) return c.notFound();
    if (await discardEditDraft(db, post.id))
      await audit(db, desk.actor(c), "edit-draft-discard", data.urls.post(post.id).href, now());
    return c.redirect(`/admin/posts/${post.id}/edit?notice=edit-draft-discarded`, 303);
  });

  admin.post("/posts/:id/delete", async (c) => {
    const id = c.req.param("id");
    if (!UUID_PATTERN.test(id) || !(await publishDelete(lectern.context(), id, now()))) return c.notFound();
    await audit(db, desk.actor(c), "delete", data.urls.post(id).href, now());
    return c.redirect("/admin/posts?notice=deleted", 303);
  });

  admin.post("/posts/:id/pin", async (c) => {
    const post = await livePost(c);
    if (post === undefined) return c.notFound();
    const pinned = (await c.req.parseBody()).pinned === "1";
    try {
      await publishPin(lectern.context(), post.id, pinned, now());
    } catch (e) {
      if (e instanceof InvalidPostError) return c.redirect("/admin/posts?error=pin-limit", 303);
      if (e instanceof PostNotFoundError) return c.notFound();
      throw e;
    }
    await audit(db, desk.actor(c), pinned ? "pin" : "unpin", data.urls.post(post.id).href, now());
    return c.redirect(`/admin/posts?notice=${pinned ? "pinned" : "unpinned"}`, 303);
  });
}
