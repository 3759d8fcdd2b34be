import type { Context } from "hono";
import { deliveryProgress } from "../../delivery/progress.ts";
import { UnavailableError } from "../../errors.ts";
import { audit } from "../../product/audit.ts";
import { clearDraft, getDraft } from "../../product/drafts.ts";
import { UUID_PATTERN } from "../../product/ids.ts";
import { InvalidMediaError, ingestMedia, MAX_ATTACHMENTS } from "../../product/media.ts";
import {
  type Attachment,
  checkPost,
  decodePostCursor,
  encodePostCursor,
  getLivePost,
  InvalidPostError,
  listPosts,
  type Post,
  PostNotFoundError,
  unsavedPost,
} from "../../product/posts.ts";
import { publishDelete, publishEdit, publishPin, publishPost } from "../../product/publish.ts";
import { cancelScheduled, editScheduled, getScheduled, listScheduled, schedulePost } from "../../product/schedule.ts";
import { Temporal } from "../../temporal.ts";
import { showAttachments } from "../attachments.ts";
import {
  type ComposeValues,
  composeForm,
  deliveryBox,
  messages,
  postsTable,
  type SlotValue,
  scheduledTable,
} from "../views/admin.ts";
import { html } from "../views/layout.ts";
import { postArticle } from "../views/public.ts";
import { type Desk, type DeskEnv, isMultipart, parseFocus } from "./desk.ts";

const TIME_ZONES = ["UTC", ...Intl.supportedValuesOf("timeZone").filter((z) => z !== "UTC")];

/** Writing: compose (with uploads, preview and scheduling), the posts, one post's progress, edit, delete, pin. */
export function postRoutes(desk: Desk): void {
  const { admin, render, notice, readUpload } = desk;
  const { lectern, now } = desk.deps;
  const { config, db, data } = lectern;
  const emptyCompose = (): ComposeValues => ({
    attachments: [],
    text: "",
    summary: "",
    sensitive: false,
    language: config.language,
    date: "",
    time: "",
    timeZone: config.timeZone,
    inReplyTo: "",
  });

  const composePage = async (
    c: Context<DeskEnv>,
    values: ComposeValues,
    extra: { error?: string; previewHtml?: string; status?: number } = {},
  ) => {
    const session = c.get("session");
    const recent = (await listPosts(db, 5)).items;
    return render(
      c,
      "Write",
      html`<h1>Write</h1>${messages(notice(c), extra.error)}
${composeForm({ csrf: session.csrfToken, values, action: "/admin/posts", schedule: true, guessZone: values.text === "", previewHtml: extra.previewHtml, submitLabel: "Publish", timeZones: TIME_ZONES, autofocus: true, draftKey: "/admin/draft" })}
${scheduledTable(session.csrfToken, await listScheduled(data))}
<h2>Latest</h2>${postsTable(
        session.csrfToken,
        recent.map((post) => ({ post, url: data.urls.post(post.id) })),
        null,
      )}
<p><a href="/admin/posts">All posts →</a></p>`,
      session,
      extra.status,
    );
  };

  // The Write page starts from the account's unfinished post, if it left one.
  admin.get("/", async (c) => {
    const draft = await getDraft(db, c.get("session").staffId);
    return composePage(c, { ...emptyCompose(), ...(draft ? { text: draft.text, summary: draft.summary } : {}) });
  });

  /** Slots as the form shows them, from attachments as stored. */
  const slotsOf = async (attachments: Attachment[]): Promise<SlotValue[]> => {
    const shown = new Map((await showAttachments(data, attachments)).map((m) => [m.mediaId, m]));
    return attachments.map((a) => ({
      mediaId: a.mediaId,
      alt: a.alt,
      focus: a.focus ? a.focus.join(",") : "",
      previewUrl: shown.get(a.mediaId)?.previewUrl ?? null,
      kind: shown.get(a.mediaId)?.kind ?? "image",
    }));
  };

  /**
   * Reads the compose form: a multipart upload (files ingested at once, so a
   * preview or an error never asks for them again) or a plain form.
   */
  const readCompose = async (c: Context<DeskEnv>): Promise<ComposeValues & { action: string; mediaError?: string }> => {
    let get: (k: string) => string;
    let all: (k: string) => string[];
    let mediaError: string | undefined;
    // What was attached before (a preview, an edit), minus what the author removed.
    const keptAttachments = (): Attachment[] => {
      const removed = new Set(all("remove"));
      const alts = all("alt");
      const focuses = all("focus");
      return all("media")
        .map((mediaId, i) => ({ mediaId, alt: alts[i] ?? "", focus: parseFocus(focuses[i] ?? "") }))
        .filter((a) => !removed.has(a.mediaId));
    };
    let kept: Attachment[];
    if (isMultipart(c)) {
      const upload = await readUpload(c, MAX_ATTACHMENTS);
      try {
        get = upload.field;
        all = (k) => upload.fields.get(k) ?? [];
        kept = keptAttachments();
        for (const file of [...upload.files].sort((a, b) => a.field.localeCompare(b.field))) {
          const slot = file.field.replace(/^file/, "");
          try {
            const m = await ingestMedia(data, lectern.media, { path: file.path, filename: file.filename }, now());
            kept.push({ mediaId: m.id, alt: get(`newalt${slot}`), focus: parseFocus(get(`newfocus${slot}`)) });
          } catch (e) {
            // A damaged file, or the media store away: the form comes back with the text kept and the reason.
            if (!(e instanceof InvalidMediaError || e instanceof UnavailableError)) throw e;
            mediaError = e.message;
          }
        }
      } finally {
        await upload.cleanup();
      }
    } else {
      const f = await c.req.parseBody({ all: true });
      all = (k) => [f[k]].flat().filter((x): x is string => typeof x === "string");
      get = (k) => all(k)[0] ?? "";
      kept = keptAttachments();
    }
    return {
      attachments: await slotsOf(kept),
      text: get("text"),
      summary: get("summary"),
      sensitive: get("sensitive") === "1",
      language: get("language") || config.language,
      date: get("date"),
      time: get("time"),
      timeZone: get("timeZone") || config.timeZone,
      inReplyTo: get("in_reply_to"),
      action: get("action") || "publish",
      mediaError,
    };
  };

  /** "Scheduled for Tue 24 Nov, 08:00 (Europe/Paris)": the notice names the time. */
  const scheduledNotice = (s: { publishAt: number; timeZone: string }) =>
    `/admin?notice=scheduled&at=${s.publishAt}&zone=${encodeURIComponent(s.timeZone)}`;

  const toInput = (values: ComposeValues) => ({
    ...values,
    inReplyTo: values.inReplyTo || null,
    attachments: values.attachments.map((a) => ({
      mediaId: a.mediaId,
      alt: a.alt,
      focus: parseFocus(a.focus) ?? undefined,
    })),
  });

  /** The post as it would be published: the same checks and rendering (a bad field throws InvalidPostError). */
  const preview = async (values: ComposeValues): Promise<string> => {
    const { inReplyTo: _, threadRoot: __, ...checked } = await checkPost(data, toInput(values));
    const draft = unsavedPost(checked, now());
    return String(
      await postArticle(draft, new URL("/admin", config.origin), {
        media: await showAttachments(data, draft.attachments),
      }),
    );
  };

  admin.post("/posts", async (c) => {
    const values = await readCompose(c);
    try {
      if (values.mediaError) throw new InvalidPostError(values.mediaError);
      if (values.action === "preview") return composePage(c, values, { previewHtml: await preview(values) });
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
      const post = await publishPost(lectern.context(), toInput(values), now());
      if (!values.inReplyTo) await clearDraft(db, c.get("session").staffId);
      await audit(db, desk.actor(c), "publish", data.urls.post(post.id).href, now());
      return c.redirect(`/admin/posts/${post.id}?notice=published`, 303);
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
      html`<h1>Posts</h1>${messages(notice(c), desk.error(c))}${postsTable(
        session.csrfToken,
        await Promise.all(
          list.items.map(async (post) => ({
            post,
            url: data.urls.post(post.id),
            reach: await deliveryProgress(db, post.id),
          })),
        ),
        list.next ? `/admin/posts?after=${encodePostCursor(list.next)}` : null,
      )}`,
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
      html`<h1>Post</h1>${messages(notice(c))}${postArticle(post, url, { pinned: post.pinnedAt !== null, media: await showAttachments(data, post.attachments) })}
<p>Public link: <a href="${url.href}">${url.href}</a></p>
${deliveryBox(await deliveryProgress(db, post.id))}
<div class="actions"><a class="button" href="/admin/posts/${post.id}/edit">Edit</a></div>
<h2>Continue this thread</h2>
${composeForm({ csrf: session.csrfToken, values: { ...emptyCompose(), inReplyTo: post.id, language: post.language }, action: "/admin/posts", schedule: false, guessZone: false, submitLabel: "Publish", timeZones: TIME_ZONES })}`,
      session,
    );
  });

  const editPage = (
    c: Context<DeskEnv>,
    post: Post,
    values: ComposeValues,
    extra: { error?: string; previewHtml?: string; status?: number } = {},
  ) => {
    const session = c.get("session");
    return render(
      c,
      "Edit",
      html`<h1>Edit post</h1>${messages(undefined, extra.error)}
${composeForm({ csrf: session.csrfToken, values, action: `/admin/posts/${post.id}`, schedule: false, guessZone: false, previewHtml: extra.previewHtml, submitLabel: "Save changes", timeZones: TIME_ZONES })}`,
      session,
      extra.status,
    );
  };

  admin.get("/posts/:id/edit", async (c) => {
    const post = await livePost(c);
    if (post === undefined) return c.notFound();
    return editPage(c, post, {
      ...emptyCompose(),
      attachments: await slotsOf(post.attachments),
      text: post.source,
      summary: post.summary ?? "",
      sensitive: post.sensitive,
      language: post.language,
    });
  });

  admin.post("/posts/:id", async (c) => {
    const post = await livePost(c);
    if (post === undefined) return c.notFound();
    const values = await readCompose(c);
    try {
      if (values.mediaError) throw new InvalidPostError(values.mediaError);
      if (values.action === "preview") return editPage(c, post, values, { previewHtml: await preview(values) });
      await publishEdit(lectern.context(), post.id, toInput(values), now());
      await audit(db, desk.actor(c), "edit", data.urls.post(post.id).href, now());
      return c.redirect(`/admin/posts/${post.id}?notice=edited`, 303);
    } catch (e) {
      if (e instanceof InvalidPostError) return editPage(c, post, values, { error: e.message, status: 422 });
      throw e;
    }
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

  const scheduledPage = (
    c: Context<DeskEnv>,
    id: string,
    values: ComposeValues,
    extra: { error?: string; previewHtml?: string; status?: number } = {},
  ) => {
    const session = c.get("session");
    return render(
      c,
      "Edit scheduled post",
      html`<h1>Edit scheduled post</h1>${messages(undefined, extra.error)}
${composeForm({ csrf: session.csrfToken, values, action: `/admin/scheduled/${id}`, schedule: true, guessZone: false, previewHtml: extra.previewHtml, submitLabel: "Save", timeZones: TIME_ZONES })}`,
      session,
      extra.status,
    );
  };

  admin.get("/scheduled/:id/edit", async (c) => {
    const s = await getScheduled(data, c.req.param("id"));
    if (s === undefined) return c.notFound();
    const local = Temporal.Instant.fromEpochMilliseconds(s.publishAt).toZonedDateTimeISO(s.timeZone);
    return scheduledPage(c, s.id, {
      inReplyTo: "",
      attachments: await slotsOf(s.attachments),
      text: s.source,
      summary: s.summary ?? "",
      sensitive: s.sensitive,
      language: s.language,
      date: local.toPlainDate().toString(),
      time: local.toPlainTime().toString({ smallestUnit: "minute" }),
      timeZone: s.timeZone,
    });
  });

  admin.post("/scheduled/:id", async (c) => {
    const id = c.req.param("id");
    if ((await getScheduled(data, id)) === undefined) return c.notFound();
    const values = await readCompose(c);
    try {
      if (values.mediaError) throw new InvalidPostError(values.mediaError);
      if (values.action === "preview") return scheduledPage(c, id, values, { previewHtml: await preview(values) });
      const scheduled = await editScheduled(
        data,
        id,
        { ...toInput(values), date: values.date, time: values.time, timeZone: values.timeZone },
        now(),
      );
      await audit(db, desk.actor(c), "edit-scheduled", `for ${values.date} ${values.time} ${values.timeZone}`, now());
      return c.redirect(scheduledNotice(scheduled), 303);
    } catch (e) {
      if (e instanceof InvalidPostError) return scheduledPage(c, id, values, { error: e.message, status: 422 });
      throw e;
    }
  });

  admin.post("/scheduled/:id/cancel", async (c) => {
    if (!(await cancelScheduled(data, c.req.param("id")))) return c.notFound();
    await audit(db, desk.actor(c), "cancel-scheduled", null, now());
    return c.redirect("/admin?notice=cancelled", 303);
  });
}
