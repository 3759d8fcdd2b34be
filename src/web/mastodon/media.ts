import { mkdir, rename, rm, stat } from "node:fs/promises";
import { hostname } from "node:os";
import path from "node:path";
import { getLogger } from "@logtape/logtape";
import type { Context, Hono } from "hono";
import { InvalidMediaError, ingestMedia, uploadKind } from "../../product/media.ts";
import { InvalidPostError } from "../../product/posts.ts";
import { UnavailableError } from "../../shared/errors.ts";
import { UUID_PATTERN, uuidv7 } from "../../shared/ids.ts";
import { Temporal } from "../../shared/temporal.ts";
import { showAttachments } from "../attachments.ts";
import type { WebDeps } from "../deps.ts";
import { PROCESSING, parseUpload, running as processRuns, UploadError } from "../uploads.ts";
import { apiError, bodyOf } from "./oauth.tsx";
import { attachmentJson, type MediaNote } from "./shapes.ts";

const logger = getLogger(["lectern", "api", "media"]);

/** A video an app uploaded, processed after the answer (Mastodon's 202): where it is, and how it ended. */
interface Processing {
  path: string;
  filename: string;
  /** When processing (last) began: one that has not ended long after was cut off by a restart. */
  startedAt: number;
  /** The process that works on it, and its machine: when that process is gone, the job is taken up at once. */
  pid: number;
  host: string;
  mediaId?: string;
  error?: string;
}

/** Longer than any video takes here (ffmpeg is bounded by media.max_video_seconds): a restart cut it off. */
const STALE_MS = 15 * 60_000;
const DAY = Temporal.Duration.from({ days: 1 });

/**
 * Uploads from apps (`POST /api/v2/media`, `GET`/`PUT /api/v1/media/:id`). A
 * picture is processed before the answer (200); a video, which takes ffmpeg
 * seconds to minutes, is answered 202 at once with `url: null` and processed
 * in the background, as Mastodon does: the app polls `GET /api/v1/media/:id`
 * (206 while processing, 200 with its URLs when done) and may post with the id
 * only then. The state is in the key-value store, so any web process answers
 * the poll, and one cut off by a restart is taken up again by the next poll.
 */
export function mastodonMedia(
  app: Hono,
  deps: WebDeps,
  authorize: (c: Context, scope: string) => Promise<unknown>,
): { resolve(id: string): Promise<string> } {
  const { lectern, now } = deps;
  const { config, kv, data } = lectern;
  const noteKey = (id: string) => ["lectern", "api-media", id] as const;
  const jobKey = (id: string) => ["lectern", "api-upload", id] as const;
  const pending = path.join(config.dataDir, "tmp", PROCESSING);
  const running = new Set<string>();

  const work = async (id: string, job: Processing): Promise<void> => {
    running.add(id);
    let ended: Processing;
    try {
      const m = await ingestMedia(data, lectern.media, { path: job.path, filename: job.filename }, now());
      ended = { ...job, mediaId: m.id };
    } catch (e) {
      const known = e instanceof InvalidMediaError || e instanceof UnavailableError;
      if (!known) logger.error("Processing an uploaded video failed: {error}", { error: e });
      ended = { ...job, error: known ? (e as Error).message : "the video could not be processed" };
    } finally {
      running.delete(id);
    }
    // Two processes may have taken up one cut-off job: a success is never overwritten by the other's failure.
    if (ended.error === undefined || (await kv.get<Processing>(jobKey(id)))?.mediaId === undefined)
      await kv.set(jobKey(id), ended, { ttl: DAY });
    await rm(job.path, { force: true });
  };

  /** The job of a processing id; one a restart cut off is started again here. */
  const job = async (id: string): Promise<Processing | undefined> => {
    if (!UUID_PATTERN.test(id)) return undefined;
    const j = await kv.get<Processing>(jobKey(id));
    if (j === undefined || j.mediaId || j.error || running.has(id)) return j;
    // Its process still works on it (or one on another machine may, for a while).
    const gone = j.host === hostname() && j.pid !== process.pid && !processRuns(j.pid);
    if (!gone && now() - j.startedAt < STALE_MS) return j;
    if ((await stat(j.path).catch(() => null)) === null) {
      const lost = { ...j, error: "the upload was lost; upload it again" };
      await kv.set(jobKey(id), lost, { ttl: DAY });
      return lost;
    }
    const again = { ...j, startedAt: now(), pid: process.pid, host: hostname() };
    await kv.set(jobKey(id), again, { ttl: DAY });
    void work(id, again);
    return again;
  };

  const noteOf = async (id: string): Promise<MediaNote> =>
    (await kv.get<MediaNote>(noteKey(id))) ?? { description: "", focus: null };
  /** What the app says of the file; a field it leaves out keeps what was said before. */
  const readNote = (fields: (k: string) => string | undefined, before: MediaNote): MediaNote => {
    const focus = (fields("focus") ?? "").split(",").map(Number);
    const description = fields("description");
    return {
      description: description === undefined ? before.description : description.slice(0, 1500),
      focus:
        focus.length === 2 && focus.every((n) => Number.isFinite(n) && Math.abs(n) <= 1)
          ? [focus[0], focus[1]]
          : before.focus,
    };
  };
  /** A video still processing, as Mastodon shows one: no URLs yet. */
  const processingJson = (id: string, note: MediaNote) => ({
    id,
    type: "video",
    url: null,
    preview_url: null,
    remote_url: null,
    text_url: null,
    description: note.description || null,
    blurhash: null,
    meta: note.focus ? { focus: { x: note.focus[0], y: note.focus[1] } } : {},
  });
  /** The attachment as the API shows it under the id the app knows (200), or why not. */
  const answer = async (c: Context, id: string, note: MediaNote): Promise<Response> => {
    const j = await job(id);
    if (j?.error) return apiError(c, 422, `Validation failed: ${j.error}`);
    if (j !== undefined && j.mediaId === undefined) return c.json(processingJson(id, note), 206);
    const [shown] = await showAttachments(data, [{ mediaId: j?.mediaId ?? id, alt: note.description }]);
    if (shown === undefined) return apiError(c, 404, "Record not found");
    return c.json({ ...attachmentJson(shown, note), id });
  };

  app.post("/api/v2/media", async (c) => {
    const info = await authorize(c, "write:media");
    if (info instanceof Response) return info;
    let upload: Awaited<ReturnType<typeof parseUpload>>;
    try {
      upload = await parseUpload(c, path.join(config.dataDir, "tmp"), {
        maxFileBytes: Math.max(config.media.maxImageBytes, config.media.maxVideoBytes),
        maxFiles: 1,
      });
    } catch (e) {
      if (e instanceof UploadError) return apiError(c, e.status, e.message);
      throw e;
    }
    try {
      const file = upload.files.find((f) => f.field === "file");
      if (file === undefined) return apiError(c, 422, "Validation failed: File can't be blank");
      const note = readNote((k) => upload.field(k), { description: "", focus: null });
      if ((await uploadKind(file.path)) === "video") {
        // Checked now what is cheap to check (the size); the rest after the answer.
        if ((await stat(file.path)).size > config.media.maxVideoBytes)
          return apiError(c, 422, `Validation failed: videos can be at most ${config.media.maxVideoBytes} bytes`);
        const id = uuidv7(now());
        await mkdir(pending, { recursive: true });
        const job: Processing = {
          path: path.join(pending, id),
          filename: file.filename,
          startedAt: now(),
          pid: process.pid,
          host: hostname(),
        };
        await rename(file.path, job.path);
        await kv.set(noteKey(id), note, { ttl: DAY });
        await kv.set(jobKey(id), job, { ttl: DAY });
        void work(id, job);
        return c.json(processingJson(id, note), 202);
      }
      const m = await ingestMedia(data, lectern.media, { path: file.path, filename: file.filename }, now());
      await kv.set(noteKey(m.id), note, { ttl: DAY });
      const [shown] = await showAttachments(data, [{ mediaId: m.id, alt: note.description }]);
      return c.json(attachmentJson(shown, note, m.blurhash));
    } catch (e) {
      if (e instanceof InvalidMediaError) return apiError(c, 422, `Validation failed: ${e.message}`);
      if (e instanceof UnavailableError) return apiError(c, 503, e.message);
      throw e;
    } finally {
      await upload.cleanup();
    }
  });

  app.get("/api/v1/media/:id", async (c) => {
    const info = await authorize(c, "write:media");
    if (info instanceof Response) return info;
    const id = c.req.param("id");
    return await answer(c, id, await noteOf(id));
  });

  app.put("/api/v1/media/:id", async (c) => {
    const info = await authorize(c, "write:media");
    if (info instanceof Response) return info;
    const id = c.req.param("id");
    const b = await bodyOf(c);
    const note = readNote((k) => b[k], await noteOf(id));
    const response = await answer(c, id, note);
    if (response.status < 300) await kv.set(noteKey(id), note, { ttl: DAY });
    return response;
  });

  return {
    /** The stored media behind the id an app posts with; a video still processing (or failed) is refused. */
    async resolve(id: string): Promise<string> {
      const j = await job(id);
      if (j === undefined) return id;
      if (j.error) throw new InvalidPostError(`media ${id}: ${j.error}`);
      if (j.mediaId === undefined) throw new InvalidPostError(`media ${id}: still being processed, try again shortly`);
      return j.mediaId;
    },
  };
}
