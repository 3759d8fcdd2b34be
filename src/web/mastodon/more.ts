import type { Context, Hono } from "hono";
import { audit } from "../../product/audit.ts";
import { allows, tokenInfo } from "../../product/oauth.ts";
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
import { Temporal } from "../../temporal.ts";
import type { WebDeps } from "../deps.ts";
import { clientAddress } from "../http.ts";
import { apiError, bodyOf } from "./oauth.ts";
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
export function mastodonMore(app: Hono, deps: WebDeps): void {
  const { lectern, now } = deps;
  const { config, db, data } = lectern;
  const authorized = async (c: Context, scope: string) => {
    const bearer = /^Bearer (.+)$/i.exec(c.req.header("authorization") ?? "")?.[1];
    const info = bearer === undefined ? undefined : await tokenInfo(db, bearer.trim(), now());
    if (info === undefined) return apiError(c, 401, "The access token is invalid");
    if (!allows(info.scopes, scope) || info.staffId === null)
      return apiError(c, 403, "This action is outside the authorized scopes");
    return info;
  };
  const who = (c: Context, staffId: number | null, name: string) => ({
    staffId,
    name,
    address: clientAddress(c, config.trustedProxies),
  });

  app.patch("/api/v1/accounts/update_credentials", async (c) => {
    const info = await authorized(c, "write:accounts");
    if (info instanceof Response) return info;
    const b = await bodyOf(c);
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
        },
        now(),
      );
    } catch (e) {
      if (e instanceof InvalidProfileError) return apiError(c, 422, `Validation failed: ${e.message}`);
      throw e;
    }
    await audit(db, who(c, info.staffId, info.appName), "profile", `via ${info.appName}`, now());
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
      await audit(db, who(c, info.staffId, info.appName), "edit-scheduled", `via ${info.appName}`, now());
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
    await audit(db, who(c, info.staffId, info.appName), "cancel-scheduled", `via ${info.appName}`, now());
    return c.json({});
  });
}
