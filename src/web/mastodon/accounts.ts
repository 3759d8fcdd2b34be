import { createHash } from "node:crypto";
import path from "node:path";
import type { Context, Hono } from "hono";
import { audit } from "../../product/access/audit.ts";
import { followersBefore } from "../../product/followers.ts";
import { InvalidMediaError, ingestMedia } from "../../product/media.ts";
import { InvalidPostError } from "../../product/posts.ts";
import { InvalidProfileError } from "../../product/profile.ts";
import { publishProfile } from "../../product/publish.ts";
import {
  cancelScheduled,
  editScheduled,
  getScheduled,
  listScheduled,
  type ScheduledPost,
} from "../../product/schedule.ts";
import { RateLimiter } from "../../shared/rate-limit.ts";
import { Temporal } from "../../shared/temporal.ts";
import type { WebDeps } from "../deps.ts";
import { clientAddress } from "../http.ts";
import { parseUpload, UploadError } from "../uploads.ts";
import { apiAccess, apiActor, apiError, authorizeRequest, bodyOf } from "./oauth.tsx";
import { accountJson } from "./shapes.ts";

/** A scheduled post as Mastodon's ScheduledStatus. */
function scheduledJson(s: ScheduledPost): Record<string, unknown> {
  return {
    id: s.id,
    scheduled_at: new Date(s.publishAt).toISOString(),
    params: {
      text: s.source,
      spoiler_text: s.summary,
      sensitive: s.sensitive,
      language: s.language,
      visibility: "public",
      media_ids: s.attachments.map((a) => a.mediaId),
      in_reply_to_id: null,
      scheduled_at: null,
      poll: null,
      idempotency: null,
      with_rate_limit: false,
      application_id: 0,
    },
    media_attachments: [],
  };
}

/** More of the author's side: the profile (update_credentials) and scheduled statuses. */
export function mastodonAccounts(app: Hono, deps: WebDeps): void {
  const { lectern, now } = deps;
  const { config, db, data } = lectern;
  const authorized = (c: Context, scope: string) => authorizeRequest(c, db, scope, true, now());

  // Mastodon's limit: 300 calls in 5 minutes per token (or address), with its headers; 429 beyond.
  const LIMIT = 300;
  const calls = new RateLimiter(LIMIT / 300, LIMIT);
  app.use("/api/*", async (c, next) => {
    const bearer = /^Bearer (.+)$/i.exec(c.req.header("authorization") ?? "")?.[1];
    const key = bearer
      ? `t:${createHash("sha256").update(bearer).digest("hex")}`
      : `a:${clientAddress(c, config.trustedProxies)}`;
    const wait = calls.take(key);
    const reset = new Date(Date.now() + (wait > 0 ? wait : 300_000)).toISOString();
    if (wait > 0) {
      c.header("X-RateLimit-Limit", String(LIMIT));
      c.header("X-RateLimit-Remaining", "0");
      c.header("X-RateLimit-Reset", reset);
      c.header("Retry-After", String(Math.ceil(wait / 1000)));
      return apiError(c, 429, "Too many requests");
    }
    await next();
    c.res.headers.set("X-RateLimit-Limit", String(LIMIT));
    c.res.headers.set("X-RateLimit-Remaining", String(calls.left(key)));
    c.res.headers.set("X-RateLimit-Reset", reset);
  });
  // Then who may: the token's person, by their role, for every API route (web/access.ts).
  app.use("/api/*", apiAccess(db, now));

  /** A follower as a Mastodon account (what is known of it here: its handle and address). */
  const followerAccount = (r: { id: number; iri: string; handle: string | null; at: number }) => {
    const [user, host] = (r.handle ?? "").replace(/^@/, "").split("@");
    const username = user || new URL(r.iri).pathname.split("/").pop() || "someone";
    const blank = new URL("/assets/none.png", data.urls.origin).href;
    return {
      id: `f${r.id}`,
      username,
      acct: `${username}@${host || new URL(r.iri).host}`,
      display_name: username,
      url: r.iri,
      uri: r.iri,
      avatar: blank,
      avatar_static: blank,
      header: blank,
      header_static: blank,
      locked: false,
      bot: false,
      group: false,
      note: "",
      created_at: new Date(Number(r.at)).toISOString(),
      followers_count: 0,
      following_count: 0,
      statuses_count: 0,
      emojis: [],
      fields: [],
    };
  };
  /** Accepted followers, newest first, before `max_id` (a follower row id). */
  const followers = async (c: Context) => {
    const limit = Math.min(80, Math.max(1, Number(c.req.query("limit") ?? 40) || 40));
    const maxId = Number(String(c.req.query("max_id") ?? "").replace(/^f/, ""));
    return await followersBefore(db, Number.isSafeInteger(maxId) && maxId > 0 ? maxId : null, limit);
  };

  // New followers are the account's only notifications (nothing else reaches it).
  app.get("/api/v1/notifications", async (c) => {
    const info = await authorized(c, "read:notifications");
    if (info instanceof Response) return info;
    return c.json(
      (await followers(c)).map((r) => ({
        id: String(r.id),
        type: "follow",
        created_at: new Date(Number(r.at)).toISOString(),
        account: followerAccount(r),
      })),
    );
  });
  app.get("/api/v1/accounts/:id/followers", async (c) => {
    if (c.req.param("id") !== "1") return c.json([]);
    const rows = await followers(c);
    if (rows.length > 0) {
      const next = new URL(c.req.path, config.origin);
      next.searchParams.set("max_id", `f${rows[rows.length - 1].id}`);
      c.header("Link", `<${next.href}>; rel="next"`);
    }
    return c.json(rows.map(followerAccount));
  });
  // The account's relationship to anyone: it follows nobody; they may follow it.
  app.get("/api/v1/accounts/relationships", async (c) => {
    const ids = new URL(c.req.url).searchParams.getAll("id[]").concat(new URL(c.req.url).searchParams.getAll("id"));
    return c.json(
      ids.slice(0, 40).map((id) => ({
        id,
        following: false,
        showing_reblogs: false,
        notifying: false,
        followed_by: /^f\d+$/.test(id),
        blocking: false,
        blocked_by: false,
        muting: false,
        muting_notifications: false,
        requested: false,
        requested_by: false,
        domain_blocking: false,
        endorsed: false,
        note: "",
      })),
    );
  });

  app.patch("/api/v1/accounts/update_credentials", async (c) => {
    const info = await authorized(c, "write:accounts");
    if (info instanceof Response) return info;
    // With pictures (multipart: avatar, header), they are taken in as the desk takes them.
    let b: Record<string, string | undefined>;
    const pictures: { avatarMediaId?: string; headerMediaId?: string } = {};
    if ((c.req.header("content-type") ?? "").startsWith("multipart/form-data")) {
      let upload: Awaited<ReturnType<typeof parseUpload>>;
      try {
        upload = await parseUpload(c, path.join(config.dataDir, "tmp"), {
          maxFileBytes: config.media.maxImageBytes,
          maxFiles: 2,
        });
      } catch (e) {
        if (e instanceof UploadError) return apiError(c, e.status, e.message);
        throw e;
      }
      try {
        b = Object.fromEntries([...upload.fields].map(([k, v]) => [k.replace(/\[\]$/, ""), v.join(" ")]));
        for (const file of upload.files) {
          if (file.field !== "avatar" && file.field !== "header") continue;
          const m = await ingestMedia(data, lectern.media, { path: file.path, filename: file.filename }, now());
          if (m.kind !== "image") return apiError(c, 422, `Validation failed: ${file.field} must be a picture`);
          pictures[file.field === "avatar" ? "avatarMediaId" : "headerMediaId"] = m.id;
        }
      } catch (e) {
        if (e instanceof InvalidMediaError) return apiError(c, 422, `Validation failed: ${e.message}`);
        throw e;
      } finally {
        await upload.cleanup();
      }
    } else b = await bodyOf(c);
    // fields_attributes[0][name] / [value], as Mastodon's apps send them.
    const fields: { name: string; value: string }[] = [];
    for (let i = 0; i < 8; i++) {
      const name = b[`fields_attributes[${i}][name]`];
      if (name !== undefined) fields.push({ name, value: b[`fields_attributes[${i}][value]`] ?? "" });
    }
    const flag = (v: string | undefined) => (v === undefined ? undefined : v === "true" || v === "1");
    try {
      await publishProfile(
        lectern.context(),
        {
          name: b.display_name,
          summary: b.note,
          bot: flag(b.bot),
          approveFollowers: flag(b.locked),
          ...(fields.length > 0 ? { fields: fields.filter((f) => f.name.trim() !== "") } : {}),
          ...pictures,
        },
        now(),
      );
    } catch (e) {
      if (e instanceof InvalidProfileError) return apiError(c, 422, `Validation failed: ${e.message}`);
      throw e;
    }
    await audit(db, apiActor(c, info, config.trustedProxies), "profile", null, now());
    return c.json(await accountJson(data, true));
  });

  app.get("/api/v1/scheduled_statuses", async (c) => {
    const info = await authorized(c, "read:statuses");
    if (info instanceof Response) return info;
    return c.json((await listScheduled(data)).map(scheduledJson));
  });
  app.get("/api/v1/scheduled_statuses/:id", async (c) => {
    const info = await authorized(c, "read:statuses");
    if (info instanceof Response) return info;
    const s = await getScheduled(data, c.req.param("id"));
    return s ? c.json(scheduledJson(s)) : apiError(c, 404, "Record not found");
  });
  app.put("/api/v1/scheduled_statuses/:id", async (c) => {
    const info = await authorized(c, "write:statuses");
    if (info instanceof Response) return info;
    const s = await getScheduled(data, c.req.param("id"));
    if (!s) return apiError(c, 404, "Record not found");
    const b = await bodyOf(c);
    try {
      const at = Temporal.Instant.from(b.scheduled_at ?? "").toZonedDateTimeISO("UTC");
      const changed = await editScheduled(
        data,
        s.id,
        {
          text: s.source,
          summary: s.summary,
          sensitive: s.sensitive,
          language: s.language,
          attachments: s.attachments,
          date: at.toPlainDate().toString(),
          time: at.toPlainTime().toString({ smallestUnit: "minute" }),
          timeZone: "UTC",
        },
        now(),
      );
      await audit(db, apiActor(c, info, config.trustedProxies), "edit-scheduled", null, now());
      return c.json(scheduledJson(changed));
    } catch (e) {
      if (e instanceof InvalidPostError || e instanceof RangeError)
        return apiError(c, 422, `Validation failed: ${e.message}`);
      throw e;
    }
  });
  app.delete("/api/v1/scheduled_statuses/:id", async (c) => {
    const info = await authorized(c, "write:statuses");
    if (info instanceof Response) return info;
    if (!(await cancelScheduled(data, c.req.param("id")))) return apiError(c, 404, "Record not found");
    await audit(db, apiActor(c, info, config.trustedProxies), "cancel-scheduled", null, now());
    return c.json({});
  });
}
