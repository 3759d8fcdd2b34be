import type { Context } from "hono";
import { InvalidMediaError, ingestMedia, MAX_ATTACHMENTS } from "../../product/media.ts";
import { type Attachment, checkPost, type Post, unsavedPost } from "../../product/posts.ts";
import { UnavailableError } from "../../shared/errors.ts";
import { showAttachments } from "../attachments.ts";
import { ComposeForm, type ComposeValues, type SlotValue } from "../views/compose.tsx";
import type { Html } from "../views/layout.tsx";
import { PostArticle } from "../views/public.tsx";
import { type Desk, type DeskEnv, isMultipart, parseFocus } from "./desk.tsx";

/** Every zone the schedule offers, UTC first. */
export const TIME_ZONES = ["UTC", ...Intl.supportedValuesOf("timeZone").filter((z) => z !== "UTC")];

/** What a compose page shows besides the form's values: why it came back, or the preview. */
export interface PageExtra {
  error?: string;
  preview?: Html;
  status?: number;
}

/**
 * What the compose pages (write, edit, a scheduled post) share: the empty
 * form, the form read back with its uploads, the values as a post's input,
 * and the preview — the unsaved post rendered as the public page shows it.
 */
export function composer(desk: Desk) {
  const { readUpload } = desk;
  const { lectern, now } = desk.deps;
  const { config, data } = lectern;
  const emptyCompose = (): ComposeValues => ({
    attachments: [],
    title: "",
    text: "",
    summary: "",
    sensitive: false,
    language: config.language,
    date: "",
    time: "",
    timeZone: config.timeZone,
    inReplyTo: "",
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

  /** The form filled with what a post (published, scheduled, waiting, or a draft of changes) says now. */
  const valuesOf = async (
    p: Pick<Post, "title" | "summary" | "sensitive" | "language" | "attachments"> & { source: string },
    more: Partial<ComposeValues> = {},
  ): Promise<ComposeValues> => ({
    ...emptyCompose(),
    attachments: await slotsOf(p.attachments),
    title: p.title ?? "",
    text: p.source,
    summary: p.summary ?? "",
    sensitive: p.sensitive,
    language: p.language,
    ...more,
  });

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
    // "move-up:<media id>": the author moved that attachment earlier; the form comes back rearranged (a preview).
    let action = get("action") || "publish";
    const move = /^move-(up|down):(.+)$/.exec(action);
    if (move !== null) {
      const from = kept.findIndex((a) => a.mediaId === move[2]);
      const to = from + (move[1] === "up" ? -1 : 1);
      if (from >= 0 && to >= 0 && to < kept.length) [kept[from], kept[to]] = [kept[to], kept[from]];
      action = "preview";
    }
    return {
      attachments: await slotsOf(kept),
      title: get("title"),
      text: get("text"),
      summary: get("summary"),
      sensitive: get("sensitive") === "1",
      language: get("language") || config.language,
      date: get("date"),
      time: get("time"),
      timeZone: get("timeZone") || config.timeZone,
      inReplyTo: get("in_reply_to"),
      action,
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
  const preview = async (values: ComposeValues): Promise<Html> => {
    const { inReplyTo: _, threadRoot: __, ...checked } = await checkPost(data, toInput(values));
    const draft = unsavedPost(checked, now());
    const media = await showAttachments(data, draft.attachments);
    return <PostArticle post={draft} url={new URL("/admin", config.origin)} media={media} full />;
  };

  /** The form that changes a post already written (published, or waiting for approval): no schedule. */
  const changeForm = (
    c: Context<DeskEnv>,
    o: { action: string; values: ComposeValues; extra: PageExtra; draftable?: boolean },
  ): Html => (
    <ComposeForm
      draftable={o.draftable}
      csrf={c.get("session").csrfToken}
      values={o.values}
      action={o.action}
      schedule={false}
      guessZone={false}
      preview={o.extra.preview}
      submitLabel="Save changes"
      timeZones={TIME_ZONES}
    />
  );

  return { emptyCompose, slotsOf, valuesOf, readCompose, scheduledNotice, toInput, preview, changeForm };
}
