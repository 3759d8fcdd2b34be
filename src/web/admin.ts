import path from "node:path";
import { getConnInfo } from "@hono/node-server/conninfo";
import type { Context, Hono, MiddlewareHandler } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { csrf } from "hono/csrf";
import { HTTPException } from "hono/http-exception";
import { deliveryProgress } from "../delivery/progress.ts";
import { checkPassword, createSession, endSession, getSession, type Session, sameToken } from "../product/auth.ts";
import { InvalidBlockError, listBlocks } from "../product/blocks.ts";
import { countFollowers, listFollowers } from "../product/followers.ts";
import { UUID_PATTERN } from "../product/ids.ts";
import { InvalidMediaError, ingestMedia, MAX_ATTACHMENTS } from "../product/media.ts";
import {
  type Attachment,
  checkPost,
  decodePostCursor,
  encodePostCursor,
  getLivePost,
  InvalidPostError,
  listPosts,
  MAX_PINNED,
  type Post,
  PostNotFoundError,
} from "../product/posts.ts";
import { getProfile, InvalidProfileError } from "../product/profile.ts";
import {
  approveFollowRequest,
  blockAccount,
  blockServer,
  publishDelete,
  publishEdit,
  publishPin,
  publishPost,
  publishProfile,
  rejectFollower,
  unblock,
} from "../product/publish.ts";
import { cancelScheduled, editScheduled, getScheduled, listScheduled, schedulePost } from "../product/schedule.ts";
import { Temporal } from "../temporal.ts";
import { showAttachments } from "./attachments.ts";
import { audienceRoutes } from "./audience.ts";
import type { WebDeps } from "./deps.ts";
import { type ParsedUpload, parseUpload, UploadError } from "./uploads.ts";
import {
  blocksPage,
  type ComposeValues,
  composeForm,
  deliveryBox,
  followersTable,
  loginPage,
  messages,
  pendingTable,
  postsTable,
  profileForm,
  type SlotValue,
  scheduledTable,
} from "./views/admin.ts";
import { type Html, html, page } from "./views/layout.ts";
import { postArticle } from "./views/public.ts";

type Env = { Variables: { session: Session; token: string } };

const NOTICES: Record<string, string> = {
  published: "Published. It is on its way to every follower.",
  scheduled: "Scheduled.",
  edited: "Saved. Followers' servers receive the edit.",
  deleted: "Deleted everywhere.",
  pinned: "Pinned to the profile.",
  unpinned: "Unpinned.",
  cancelled: "The scheduled post was cancelled.",
  profile: "Profile saved. Followers' servers receive the update.",
  removed: "Follower removed; their server was told.",
  approved: "Follower approved; their server was told.",
  blocked: "Blocked.",
  unblocked: "Unblocked.",
  "signed-in": "Welcome back.",
};

const ERRORS: Record<string, string> = {
  "pin-limit": `At most ${MAX_PINNED} posts can be pinned: unpin one first.`,
};

const TIME_ZONES = ["UTC", ...Intl.supportedValuesOf("timeZone").filter((z) => z !== "UTC")];

export function adminRoutes(app: Hono, deps: WebDeps): void {
  const { lectern, now, throttle } = deps;
  const { config, db, data } = lectern;
  const secure = config.origin.protocol === "https:";
  // __Host- cookies must be Secure: on plain http (local use) a plain name.
  const COOKIE = secure ? "__Host-lectern_session" : "lectern_session";
  const admin = app.basePath("/admin") as unknown as Hono<Env>;

  admin.use("*", async (c, next) => {
    await next();
    c.header("Cache-Control", "no-store");
    c.header("X-Robots-Tag", "noindex");
  });
  // Forms must come from our own pages (Origin checked by Hono), and carry the session's token (below).
  admin.use("*", csrf({ origin: config.origin.origin }));

  const postUrl = (_: unknown, id: string) => data.urls.post(id);
  const render = async (c: Context, title: string, body: Html | Promise<Html>, session?: Session, status = 200) => {
    const siteName = (await getProfile(data)).name;
    return c.html(
      page(
        { title: `${title} · Lectern`, siteName, private: true },
        { home: "/", siteName, admin: session ? { csrf: session.csrfToken } : undefined },
        await body,
      ),
      status as 200,
    );
  };

  admin.get("/login", (c) => render(c, "Sign in", loginPage()));

  admin.post("/login", async (c) => {
    const client = clientAddress(c);
    const wait = throttle.waitMs(client, now());
    if (wait > 0) {
      c.header("Retry-After", String(Math.ceil(wait / 1000)));
      return render(
        c,
        "Sign in",
        loginPage(`Too many wrong passwords. Try again in ${Math.ceil(wait / 1000)} seconds.`),
        undefined,
        429,
      );
    }
    const form = await c.req.parseBody();
    const password = typeof form.password === "string" ? form.password : "";
    if (!(await checkPassword(db, password))) {
      throttle.failed(client, now());
      return render(c, "Sign in", loginPage("That password is not right."), undefined, 401);
    }
    throttle.succeeded(client);
    const { token } = await createSession(db, now());
    setCookie(c, COOKIE, token, { httpOnly: true, sameSite: "Lax", secure, path: "/", maxAge: 30 * 86_400 });
    return c.redirect("/admin?notice=signed-in", 303);
  });

  // Everything else needs a session; every POST needs the session's CSRF token too.
  const requireSession: MiddlewareHandler<Env> = async (c, next) => {
    const token = getCookie(c, COOKIE);
    const session = await getSession(db, token, now());
    if (session === undefined || token === undefined) {
      if (c.req.method === "GET") return c.redirect("/admin/login", 303);
      return c.text("Sign in first", 401);
    }
    if (c.req.method === "POST" && isMultipart(c)) {
      // Uploads stream to disk; their route checks the token from the parsed fields before using any file.
      if (!UPLOAD_ROUTES.some((r) => r.test(c.req.path))) return c.text("Uploads are not accepted here", 415);
    } else if (c.req.method === "POST") {
      const form = await c.req.parseBody({ all: true });
      const sent = form._csrf;
      if (!sameToken(typeof sent === "string" ? sent : undefined, session.csrfToken)) {
        return c.text("This form has expired or did not come from this site. Reload the page and try again.", 403);
      }
    }
    c.set("session", session);
    c.set("token", token);
    await next();
  };
  admin.use("/", requireSession);
  admin.use("/*", async (c, next) => (c.req.path === "/admin/login" ? next() : requireSession(c, next)));

  admin.post("/logout", async (c) => {
    await endSession(db, c.get("token"));
    deleteCookie(c, COOKIE, { path: "/", secure });
    return c.redirect("/", 303);
  });

  const emptyCompose = (): ComposeValues => ({
    attachments: [],
    text: "",
    summary: "",
    sensitive: false,
    language: config.language,
    date: "",
    time: "",
    timeZone: config.timeZone,
  });
  const notice = (c: Context) => NOTICES[c.req.query("notice") ?? ""];

  const composePage = async (
    c: Context<Env>,
    values: ComposeValues,
    extra: { error?: string; previewHtml?: string; status?: number } = {},
  ) => {
    const session = c.get("session");
    const recent = (await listPosts(db, 5)).items;
    return render(
      c,
      "Write",
      html`<h1>Write</h1>${messages(notice(c), extra.error)}
${composeForm({ csrf: session.csrfToken, values, action: "/admin/posts", schedule: true, guessZone: values.text === "", previewHtml: extra.previewHtml, submitLabel: "Publish", timeZones: TIME_ZONES })}
${scheduledTable(session.csrfToken, await listScheduled(data))}
<h2>Latest</h2>${postsTable(
        session.csrfToken,
        recent.map((post) => ({ post, url: postUrl(lectern.context(), post.id) })),
        null,
      )}
<p><a href="/admin/posts">All posts →</a></p>`,
      session,
      extra.status,
    );
  };

  admin.get("/", (c) => composePage(c, emptyCompose()));

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
  const readCompose = async (c: Context<Env>): Promise<ComposeValues & { action: string; mediaError?: string }> => {
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
            if (!(e instanceof InvalidMediaError)) throw e;
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
      action: get("action") || "publish",
      mediaError,
    };
  };

  /** Streams an upload to temporary files and checks the form's CSRF token before anything else. */
  const readUpload = async (c: Context<Env>, maxFiles: number): Promise<ParsedUpload> => {
    let upload: ParsedUpload;
    try {
      upload = await parseUpload(c.req.raw, path.join(config.dataDir, "tmp"), {
        maxFileBytes: Math.max(config.media.maxImageBytes, config.media.maxVideoBytes),
        maxFiles,
      });
    } catch (e) {
      if (e instanceof UploadError) throw new HTTPException(e.status, { message: e.message });
      throw e;
    }
    if (!sameToken(upload.field("_csrf"), c.get("session").csrfToken)) {
      await upload.cleanup();
      throw new HTTPException(403, {
        message: "This form has expired or did not come from this site. Reload the page and try again.",
      });
    }
    return upload;
  };

  const toInput = (values: ComposeValues) => ({
    ...values,
    attachments: values.attachments.map((a) => ({
      mediaId: a.mediaId,
      alt: a.alt,
      focus: parseFocus(a.focus) ?? undefined,
    })),
  });

  /** The post as it would be published: the same checks and rendering (a bad field throws InvalidPostError). */
  const preview = async (values: ComposeValues): Promise<string> => {
    const draft: Post = {
      id: "00000000-0000-7000-8000-000000000000",
      attachments: [],
      ...(await checkPost(data, toInput(values))),
      publishedAt: now(),
      updatedAt: null,
      queuedAt: null,
      pinnedAt: null,
      deletedAt: null,
      boosts: 0,
    };
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
        if (!values.date || !values.time)
          throw new InvalidPostError("scheduled time: give both a date and a time, or neither");
        await schedulePost(
          data,
          { ...toInput(values), date: values.date, time: values.time, timeZone: values.timeZone },
          now(),
        );
        return c.redirect("/admin?notice=scheduled", 303);
      }
      const post = await publishPost(lectern.context(), toInput(values), now());
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
      html`<h1>Posts</h1>${messages(notice(c), ERRORS[c.req.query("error") ?? ""])}${postsTable(
        session.csrfToken,
        list.items.map((post) => ({ post, url: postUrl(lectern.context(), post.id) })),
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
    const url = postUrl(lectern.context(), post.id);
    return render(
      c,
      "Post",
      html`<h1>Post</h1>${messages(notice(c))}${postArticle(post, url, { pinned: post.pinnedAt !== null, media: await showAttachments(data, post.attachments) })}
<p>Public link: <a href="${url.href}">${url.href}</a></p>
${deliveryBox(await deliveryProgress(db, post.id))}
<div class="actions"><a class="button" href="/admin/posts/${post.id}/edit">Edit</a></div>`,
      session,
    );
  });

  const editPage = (
    c: Context<Env>,
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
      return c.redirect(`/admin/posts/${post.id}?notice=edited`, 303);
    } catch (e) {
      if (e instanceof InvalidPostError) return editPage(c, post, values, { error: e.message, status: 422 });
      throw e;
    }
  });

  admin.post("/posts/:id/delete", async (c) => {
    const id = c.req.param("id");
    if (!UUID_PATTERN.test(id) || !(await publishDelete(lectern.context(), id, now()))) return c.notFound();
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
    return c.redirect(`/admin/posts?notice=${pinned ? "pinned" : "unpinned"}`, 303);
  });

  const scheduledPage = (
    c: Context<Env>,
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
      await editScheduled(
        data,
        id,
        { ...toInput(values), date: values.date, time: values.time, timeZone: values.timeZone },
        now(),
      );
      return c.redirect("/admin?notice=scheduled", 303);
    } catch (e) {
      if (e instanceof InvalidPostError) return scheduledPage(c, id, values, { error: e.message, status: 422 });
      throw e;
    }
  });

  admin.post("/scheduled/:id/cancel", async (c) => {
    if (!(await cancelScheduled(data, c.req.param("id")))) return c.notFound();
    return c.redirect("/admin?notice=cancelled", 303);
  });

  admin.get("/profile", async (c) => {
    const session = c.get("session");
    return render(
      c,
      "Profile",
      html`<h1>Profile</h1>${messages(notice(c))}${profileForm(session.csrfToken, await getProfile(data))}`,
      session,
    );
  });

  admin.post("/profile", async (c) => {
    const session = c.get("session");
    let all: (k: string) => string[];
    const pictures: { avatarMediaId?: string | null; headerMediaId?: string | null } = {};
    let pictureError: string | undefined;
    if (isMultipart(c)) {
      const upload = await readUpload(c, 2);
      try {
        all = (k) => upload.fields.get(k) ?? [];
        for (const file of upload.files) {
          if (file.field !== "avatar" && file.field !== "header") continue;
          try {
            const m = await ingestMedia(data, lectern.media, { path: file.path, filename: file.filename }, now());
            if (m.kind !== "image") throw new InvalidMediaError(`${file.field}: must be a picture`);
            pictures[file.field === "avatar" ? "avatarMediaId" : "headerMediaId"] = m.id;
          } catch (e) {
            if (!(e instanceof InvalidMediaError)) throw e;
            pictureError = e.message;
          }
        }
      } finally {
        await upload.cleanup();
      }
    } else {
      const f = await c.req.parseBody({ all: true });
      all = (k) => [f[k]].flat().filter((x): x is string => typeof x === "string");
    }
    for (const which of all("removePicture")) {
      if (which === "avatar") pictures.avatarMediaId = null;
      if (which === "header") pictures.headerMediaId = null;
    }
    const names = all("fieldName");
    const values = all("fieldValue");
    const input = {
      name: all("name")[0] ?? "",
      summary: all("summary")[0] ?? "",
      bot: all("bot")[0] === "1",
      approveFollowers: all("approveFollowers")[0] === "1",
      fields: names.map((name, i) => ({ name, value: values[i] ?? "" })),
      ...pictures,
    };
    try {
      if (pictureError) throw new InvalidProfileError(pictureError);
      await publishProfile(lectern.context(), input, now());
      return c.redirect("/admin/profile?notice=profile", 303);
    } catch (e) {
      if (!(e instanceof InvalidProfileError)) throw e;
      const shown = { ...(await getProfile(data)), ...input, fields: input.fields.filter((x) => x.name || x.value) };
      return render(
        c,
        "Profile",
        html`<h1>Profile</h1>${messages(undefined, e.message)}${profileForm(session.csrfToken, shown)}`,
        session,
        422,
      );
    }
  });

  admin.get("/followers", async (c) => {
    const session = c.get("session");
    const after = Number(c.req.query("after") ?? 0);
    const list = await listFollowers(db, 100, Number.isSafeInteger(after) && after >= 0 ? after : 0);
    return render(
      c,
      "Followers",
      html`<h1>Followers</h1>${messages(notice(c))}${pendingTable(session.csrfToken, (await listFollowers(db, 200, 0, "pending")).items)}${followersTable(session.csrfToken, await countFollowers(db), list.items, list.next ? `/admin/followers?after=${list.next}` : null)}`,
      session,
    );
  });

  admin.post("/followers/approve", async (c) => {
    const actor = (await c.req.parseBody()).actor;
    if (typeof actor !== "string" || !(await approveFollowRequest(lectern.context(), actor))) return c.notFound();
    return c.redirect("/admin/followers?notice=approved", 303);
  });

  admin.get("/blocks", async (c) =>
    render(
      c,
      "Blocks",
      blocksPage(c.get("session").csrfToken, await listBlocks(db), undefined, notice(c)),
      c.get("session"),
    ),
  );

  admin.post("/blocks", async (c) => {
    const f = await c.req.parseBody();
    const value = typeof f.value === "string" ? f.value : "";
    try {
      if (f.kind === "domain") await blockServer(lectern.context(), value);
      else await blockAccount(lectern.context(), value);
    } catch (e) {
      if (!(e instanceof InvalidBlockError)) throw e;
      return render(
        c,
        "Blocks",
        blocksPage(c.get("session").csrfToken, await listBlocks(db), e.message),
        c.get("session"),
        422,
      );
    }
    return c.redirect("/admin/blocks?notice=blocked", 303);
  });

  admin.post("/blocks/remove", async (c) => {
    const f = await c.req.parseBody();
    if ((f.kind !== "actor" && f.kind !== "domain") || typeof f.value !== "string") return c.notFound();
    await unblock(lectern.context(), f.kind, f.value);
    return c.redirect("/admin/blocks?notice=unblocked", 303);
  });

  audienceRoutes(admin as unknown as Hono, deps, (c, title, body, status) =>
    render(c, title, body, c.get("session") as Session, status),
  );

  admin.post("/followers/remove", async (c) => {
    const actor = (await c.req.parseBody()).actor;
    if (typeof actor !== "string" || !(await rejectFollower(lectern.context(), actor))) return c.notFound();
    return c.redirect("/admin/followers?notice=removed", 303);
  });
}

/** POST routes that take multipart uploads (and check the CSRF token themselves). */
export const UPLOAD_ROUTES = [
  /^\/admin\/posts$/,
  /^\/admin\/posts\/[0-9a-f-]{36}$/,
  /^\/admin\/scheduled\/[0-9a-f-]{36}$/,
  /^\/admin\/profile$/,
];

function isMultipart(c: Context): boolean {
  return (c.req.header("content-type") ?? "").startsWith("multipart/form-data");
}

/** "0.5,-0.25" → [0.5, -0.25]; empty or malformed → undefined. */
function parseFocus(text: string): [number, number] | undefined {
  const m = /^\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*$/.exec(text);
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}

function clientAddress(c: Context): string {
  try {
    return getConnInfo(c).remote.address ?? "unknown";
  } catch {
    return "unknown";
  }
}
