import type { Context, Hono } from "hono";
import { audit } from "../../product/access/audit.ts";
import type { TokenInfo } from "../../product/access/oauth.ts";
import { getStaff } from "../../product/access/staff.ts";
import { approvalRequired } from "../../product/approval.ts";
import { MAX_ATTACHMENTS } from "../../product/media.ts";
import {
  getLivePost,
  InvalidPostError,
  listThread,
  listVersions,
  MAX_POST_LENGTH,
  PostNotFoundError,
} from "../../product/posts.ts";
import { publishDelete, publishEdit, publishPin } from "../../product/publish.ts";
import { schedulePost } from "../../product/schedule.ts";
import { submitPost } from "../../product/undo.ts";
import { MAX_VIDEO_PIXELS } from "../../product/video.ts";
import { Temporal } from "../../shared/temporal.ts";
import { showAttachments } from "../attachments.ts";
import type { WebDeps } from "../deps.ts";
import { mastodonMedia } from "./media.ts";
import { apiActor, apiError, authorizeRequest, bodyOf } from "./oauth.tsx";
import { ACCOUNT_ID, accountJson, attachmentJson, type MediaNote, statusJson } from "./shapes.ts";

/** What apps probe at start and would choke on an error: answered empty. */
const EMPTY_LISTS = [
  "/api/v1/filters",
  "/api/v2/filters",
  "/api/v1/lists",
  "/api/v1/followed_tags",
  "/api/v1/announcements",
  "/api/v1/trends",
  "/api/v1/trends/tags",
  "/api/v1/trends/statuses",
  "/api/v1/trends/links",
  "/api/v1/conversations",
  "/api/v1/bookmarks",
  "/api/v1/favourites",
  "/api/v1/mutes",
  "/api/v1/blocks",
  "/api/v1/domain_blocks",
  "/api/v1/follow_requests",
  "/api/v1/custom_emojis",
  "/api/v1/accounts/familiar_followers",
  "/api/v1/suggestions",
  "/api/v2/suggestions",
];

/**
 * The Mastodon client API for the author's side: apps post, upload, edit,
 * delete, pin and schedule as the staff member who allowed them. Replies to
 * anyone but the author stay impossible; favourites and boosts are refused
 * as Mastodon refuses a forbidden action.
 */
export function mastodonApi(app: Hono, deps: WebDeps): void {
  const { lectern, now } = deps;
  const { config, db, kv, data } = lectern;
  const noteKey = (id: string) => ["lectern", "api-media", id] as const;

  /** The token of this request and whether it allows `scope`; otherwise the answer to send. */
  const authorize = (c: Context, scope: string) => authorizeRequest(c, db, scope, scope.startsWith("write"), now());
  const actorOf = (c: Context, info: TokenInfo) => apiActor(c, info, config.trustedProxies);
  const livePost = async (id: string) => (/^[0-9a-f-]{36}$/.test(id) ? await getLivePost(db, id) : undefined);
  const notFound = (c: Context) => apiError(c, 404, "Record not found");
  const media = mastodonMedia(app, deps, authorize);
  /** An editor's token while the approval rule is on: it may not publish anything the owner has not seen. */
  const editorUnderRule = async (info: TokenInfo) =>
    (await approvalRequired(db)) && info.staffId !== null && (await getStaff(db, info.staffId))?.role === "editor";

  const instance = async (v2: boolean) => ({
    ...(v2 ? { domain: config.origin.host } : { uri: config.origin.host }),
    title: (await accountJson(data)).display_name,
    version: "4.3.0 (compatible; Lectern)",
    source_url: "https://github.com/lectern/lectern",
    description: "A single-actor, broadcast-only ActivityPub server",
    languages: [config.language],
    registrations: v2 ? { enabled: false, approval_required: false, message: null } : false,
    contact: v2 ? { email: "", account: await accountJson(data) } : undefined,
    configuration: {
      statuses: {
        max_characters: MAX_POST_LENGTH,
        max_media_attachments: MAX_ATTACHMENTS,
        characters_reserved_per_url: 23,
      },
      media_attachments: {
        supported_mime_types: [
          "image/jpeg",
          "image/png",
          "image/webp",
          "image/gif",
          "image/avif",
          "video/mp4",
          "video/webm",
        ],
        image_size_limit: config.media.maxImageBytes,
        video_size_limit: config.media.maxVideoBytes,
        image_matrix_limit: 2048 * 2048,
        video_matrix_limit: MAX_VIDEO_PIXELS,
      },
      polls: { max_options: 0, max_characters_per_option: 0, min_expiration: 0, max_expiration: 0 },
      accounts: { max_featured_tags: 0, max_pinned_statuses: 5 },
    },
    rules: [],
  });
  app.get("/api/v1/instance", async (c) => c.json(await instance(false)));
  app.get("/api/v2/instance", async (c) => c.json(await instance(true)));
  for (const p of EMPTY_LISTS) app.get(p, (c) => c.json([]));
  app.get("/api/v1/markers", (c) => c.json({}));
  app.get("/api/v1/preferences", (c) =>
    c.json({
      "posting:default:visibility": "public",
      "posting:default:sensitive": false,
      "posting:default:language": config.language,
      "reading:expand:media": "default",
      "reading:expand:spoilers": false,
    }),
  );

  app.get("/api/v1/accounts/verify_credentials", async (c) => {
    const info = await authorize(c, "read:accounts");
    if (info instanceof Response) return info;
    return c.json(await accountJson(data, true));
  });
  app.get("/api/v1/accounts/lookup", async (c) => {
    const acct = (c.req.query("acct") ?? "").replace(/^@/, "").toLowerCase();
    const mine = [config.handle.toLowerCase(), `${config.handle}@${config.origin.host}`.toLowerCase()];
    return mine.includes(acct) ? c.json(await accountJson(data)) : notFound(c);
  });
  app.get("/api/v1/accounts/:id", async (c) =>
    c.req.param("id") === ACCOUNT_ID ? c.json(await accountJson(data)) : notFound(c),
  );

  /** What an app sends for a status, as Lectern's input; a reply to anyone else is refused. */
  const statusInput = async (b: Record<string, string | undefined>) => {
    const ids = (b.media_ids ?? "").split(/\s+/).filter(Boolean);
    const attachments = [];
    for (const id of ids) {
      const n = await kv.get<MediaNote>(noteKey(id));
      // A video uploaded with 202 is posted by the id the app was given, once it is processed.
      attachments.push({ mediaId: await media.resolve(id), alt: n?.description ?? "", focus: n?.focus ?? undefined });
    }
    if (b.in_reply_to_id && (await livePost(b.in_reply_to_id)) === undefined)
      throw new InvalidPostError("Replies are not possible from this account: only its own posts can be continued");
    return {
      text: b.status ?? "",
      summary: b.spoiler_text || null,
      sensitive: b.sensitive === "true" || b.sensitive === "1",
      language: b.language || undefined,
      attachments: ids.length > 0 ? attachments : undefined,
      inReplyTo: b.in_reply_to_id || null,
    };
  };

  app.post("/api/v1/statuses", async (c) => {
    const info = await authorize(c, "write:statuses");
    if (info instanceof Response) return info;
    const idem = c.req.header("idempotency-key");
    const idemKey = ["lectern", "api-idem", String(info.staffId), (idem ?? "").slice(0, 100)] as const;
    if (idem) {
      const seen = await kv.get<string>(idemKey);
      const again = seen === undefined ? undefined : await livePost(seen);
      if (again) return c.json(await statusJson(data, again));
    }
    const b = await bodyOf(c);
    // Under the approval rule an editor's app cannot publish, now or scheduled: the owner approves in the desk.
    if (await editorUnderRule(info))
      return apiError(c, 403, "Posts by editors need the owner's approval: send it from the desk");
    try {
      const input = await statusInput(b);
      if (b.scheduled_at) {
        const at = Temporal.Instant.from(b.scheduled_at).toZonedDateTimeISO("UTC");
        const s = await schedulePost(
          data,
          {
            ...input,
            date: at.toPlainDate().toString(),
            time: at.toPlainTime().toString({ smallestUnit: "minute" }),
            timeZone: "UTC",
          },
          now(),
        );
        await audit(db, actorOf(c, info), "schedule", null, now());
        return c.json({
          id: s.id,
          scheduled_at: new Date(s.publishAt).toISOString(),
          params: { text: s.source },
          media_attachments: [],
        });
      }
      // With an undo window the app gets the post as it will be; it goes out (under this id) at its deadline.
      const { post, sendAt } = await submitPost(lectern.context(), input, now());
      if (idem && sendAt === null) await kv.set(idemKey, post.id, { ttl: Temporal.Duration.from({ hours: 1 }) });
      await audit(db, actorOf(c, info), "publish", `${data.urls.post(post.id).href}`, now());
      return c.json(await statusJson(data, post));
    } catch (e) {
      if (e instanceof InvalidPostError || e instanceof RangeError)
        return apiError(c, 422, `Validation failed: ${e.message}`);
      throw e;
    }
  });

  app.get("/api/v1/statuses/:id", async (c) => {
    const post = await livePost(c.req.param("id"));
    return post ? c.json(await statusJson(data, post)) : notFound(c);
  });
  app.get("/api/v1/statuses/:id/source", async (c) => {
    const post = await livePost(c.req.param("id"));
    return post ? c.json({ id: post.id, text: post.source, spoiler_text: post.summary ?? "" }) : notFound(c);
  });
  app.get("/api/v1/statuses/:id/context", async (c) => {
    const post = await livePost(c.req.param("id"));
    if (!post) return notFound(c);
    const thread = await listThread(db, post.threadRoot ?? post.id);
    const i = thread.findIndex((p) => p.id === post.id);
    const account = await accountJson(data);
    return c.json({
      ancestors: await Promise.all(thread.slice(0, Math.max(0, i)).map((p) => statusJson(data, p, account))),
      descendants: await Promise.all(thread.slice(i + 1).map((p) => statusJson(data, p, account))),
    });
  });
  // Every version, oldest first, the current one last (as Mastodon lists them).
  app.get("/api/v1/statuses/:id/history", async (c) => {
    const post = await livePost(c.req.param("id"));
    if (!post) return notFound(c);
    const s = await statusJson(data, post);
    const version = (v: { content: unknown; spoiler_text: unknown; sensitive: unknown; created_at: unknown }) => ({
      ...v,
      account: s.account,
      emojis: [],
    });
    const earlier = await Promise.all(
      (await listVersions(db, post.id)).map(async (v) => ({
        ...version({
          content: v.contentHtml,
          spoiler_text: v.summary ?? "",
          sensitive: v.sensitive,
          created_at: new Date(v.at).toISOString(),
        }),
        media_attachments: (await showAttachments(data, v.attachments)).map((m) =>
          attachmentJson(m, {
            description: m.alt,
            focus: v.attachments.find((a) => a.mediaId === m.mediaId)?.focus ?? null,
          }),
        ),
      })),
    );
    const current = {
      ...version({
        content: s.content,
        spoiler_text: s.spoiler_text,
        sensitive: s.sensitive,
        created_at: s.edited_at ?? s.created_at,
      }),
      media_attachments: s.media_attachments,
    };
    return c.json([...earlier, current]);
  });
  app.put("/api/v1/statuses/:id", async (c) => {
    const info = await authorize(c, "write:statuses");
    if (info instanceof Response) return info;
    if (await editorUnderRule(info))
      return apiError(c, 403, "Edits by editors need the owner's approval: save them as a draft in the desk");
    const post = await livePost(c.req.param("id"));
    if (!post) return notFound(c);
    try {
      const { inReplyTo: _, ...input } = await statusInput(await bodyOf(c));
      // Apps know no titles: a statement edited from one stays a statement.
      const edited = await publishEdit(lectern.context(), post.id, { ...input, title: post.title }, now());
      await audit(db, actorOf(c, info), "edit", `${data.urls.post(post.id).href}`, now());
      return c.json(await statusJson(data, edited));
    } catch (e) {
      if (e instanceof InvalidPostError) return apiError(c, 422, `Validation failed: ${e.message}`);
      throw e;
    }
  });
  app.delete("/api/v1/statuses/:id", async (c) => {
    const info = await authorize(c, "write:statuses");
    if (info instanceof Response) return info;
    const post = await livePost(c.req.param("id"));
    if (!post) return notFound(c);
    const shown = { ...(await statusJson(data, post)), text: post.source };
    await publishDelete(lectern.context(), post.id, now());
    await audit(db, actorOf(c, info), "delete", `${data.urls.post(post.id).href}`, now());
    return c.json(shown);
  });
  for (const [action, pinned] of [
    ["pin", true],
    ["unpin", false],
  ] as const) {
    app.post(`/api/v1/statuses/:id/${action}`, async (c) => {
      const info = await authorize(c, "write:accounts");
      if (info instanceof Response) return info;
      try {
        const post = await publishPin(lectern.context(), c.req.param("id"), pinned, now());
        await audit(db, actorOf(c, info), action, `${data.urls.post(post.id).href}`, now());
        return c.json(await statusJson(data, post));
      } catch (e) {
        if (e instanceof PostNotFoundError) return notFound(c);
        if (e instanceof InvalidPostError) return apiError(c, 422, `Validation failed: ${e.message}`);
        throw e;
      }
    });
  }
  for (const action of ["favourite", "unfavourite", "reblog", "unreblog", "bookmark", "unbookmark", "mute", "unmute"])
    app.post(`/api/v1/statuses/:id/${action}`, (c) => apiError(c, 403, "This action is not allowed"));

  // Anything else under /api: Mastodon's 404 shape, not an HTML page.
  app.all("/api/*", (c) => notFound(c));
}
