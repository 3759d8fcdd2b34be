import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { encode as encodeBlurhash } from "blurhash";
import type { Metadata, OutputInfo, default as Sharp } from "sharp";
import { InvalidInputError, UnavailableError } from "../shared/errors.ts";
import type { MediaStore } from "../storage/media-store.ts";
import { sql } from "../storage/sql.ts";
import type { AppData } from "./context.ts";
import type { Attachment } from "./post.ts";
import { checkVideo, cleanVideo } from "./video.ts";
import { videoTools } from "./video-tools.ts";

/** An uploaded picture or video, processed once; its files live in the media store. */
export interface Media {
  /** SHA-256 of the uploaded bytes: the same upload twice is one media. */
  id: string;
  kind: "image" | "video";
  mediaType: string;
  /** Stored file name (content-addressed). */
  file: string;
  size: number;
  width: number | null;
  height: number | null;
  durationMs: number | null;
  blurhash: string | null;
  /** A small WebP: the thumbnail of an image, the poster frame of a video. */
  previewFile: string | null;
  previewWidth: number | null;
  previewHeight: number | null;
  createdAt: number;
}

const COLUMNS = sql.raw(
  `id, kind, media_type AS "mediaType", file, size, width, height, duration_ms AS "durationMs", blurhash,
   preview_file AS "previewFile", preview_width AS "previewWidth", preview_height AS "previewHeight",
   created_at AS "createdAt"`,
);

export const MAX_ATTACHMENTS = 4;
export const MAX_ALT_LENGTH = 1500;
/** Largest side of the stored image; larger pictures are scaled down. */
const MAX_SIDE = 2048;
const PREVIEW_SIDE = 400;
/** Frames an animated picture may have. */
const MAX_FRAMES = 1000;
/** All frames of an animation together may have this many times a still picture's pixel limit. */
const ANIMATION_PIXEL_FACTOR = 4;

const IMAGE_TYPES: Record<string, "jpeg" | "png" | "webp" | "gif" | "avif"> = {
  "image/jpeg": "jpeg",
  "image/png": "png",
  "image/webp": "webp",
  "image/gif": "gif",
  "image/avif": "avif",
};
const VIDEO_TYPES = new Set(["video/mp4", "video/webm"]);

/** An upload that cannot be used; the message says what is wrong with which file. */
export class InvalidMediaError extends InvalidInputError {
  override name = "InvalidMediaError";
}

export interface Upload {
  /** A temporary file holding the uploaded bytes. */
  path: string;
  /** The name the author's file had (for messages only: the type comes from the bytes). */
  filename: string;
}

async function sha256File(file: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/** What an upload is by its bytes (not its name): a picture, a video, or neither (undefined). */
export async function uploadKind(file: string): Promise<"image" | "video" | undefined> {
  const { fileTypeFromFile } = await import("file-type");
  const mime = (await fileTypeFromFile(file))?.mime;
  if (mime !== undefined && IMAGE_TYPES[mime]) return "image";
  return mime !== undefined && VIDEO_TYPES.has(mime) ? "video" : undefined;
}

/**
 * Checks an upload by its content, processes it (images: oriented, metadata
 * stripped, scaled to the web; videos: probed, poster frame) and stores it.
 * The same bytes uploaded twice give the same media. Nothing is stored when
 * it fails.
 */
export async function ingestMedia(
  data: AppData,
  store: MediaStore,
  upload: Upload,
  now: number = Date.now(),
): Promise<Media> {
  // `store` is data.media in the app; tests may hand another.
  const { size } = await stat(upload.path);
  const label = JSON.stringify(upload.filename || "upload");
  if (size === 0) throw new InvalidMediaError(`${label}: the file is empty`);
  const { fileTypeFromFile } = await import("file-type"); // loaded with the first upload, not at start
  const type = await fileTypeFromFile(upload.path);
  const mime = type?.mime === "video/quicktime" ? undefined : type?.mime;
  const limits = data.config.media;
  if (mime !== undefined && IMAGE_TYPES[mime]) {
    if (size > limits.maxImageBytes)
      throw new InvalidMediaError(`${label}: images can be at most ${mb(limits.maxImageBytes)}`);
  } else if (mime !== undefined && VIDEO_TYPES.has(mime)) {
    if (size > limits.maxVideoBytes)
      throw new InvalidMediaError(`${label}: videos can be at most ${mb(limits.maxVideoBytes)}`);
  } else {
    throw new InvalidMediaError(
      `${label}: not a supported picture or video (JPEG, PNG, WebP, GIF, AVIF, MP4 or WebM)${type ? `; it is ${type.mime}` : ""}`,
    );
  }
  const id = await sha256File(upload.path);
  const existing = await data.db.get<Media>(sql`SELECT ${COLUMNS} FROM media WHERE id = ${id}`);
  if (existing !== undefined && (await store.size(existing.file)) !== null) return existing;

  const row = IMAGE_TYPES[mime]
    ? await processImage(store, await readFile(upload.path), IMAGE_TYPES[mime], label, limits.maxImagePixels)
    : await processVideo(store, upload.path, size, mime, label, limits.maxVideoSeconds);
  const values: Media = { id, ...row, createdAt: now };
  await data.db.run(
    sql`INSERT INTO media (id, kind, media_type, file, size, width, height, duration_ms, blurhash, preview_file,
          preview_width, preview_height, created_at)
        VALUES (${id}, ${row.kind}, ${row.mediaType}, ${row.file}, ${row.size}, ${row.width}, ${row.height},
          ${row.durationMs}, ${row.blurhash}, ${row.previewFile}, ${row.previewWidth}, ${row.previewHeight}, ${now})
        ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, media_type = excluded.media_type, file = excluded.file,
          size = excluded.size, width = excluded.width, height = excluded.height, duration_ms = excluded.duration_ms,
          blurhash = excluded.blurhash, preview_file = excluded.preview_file, preview_width = excluded.preview_width,
          preview_height = excluded.preview_height, created_at = excluded.created_at`,
  );
  return values;
}

/** sharp (and libvips behind it) is loaded on the first upload: a serving process that never takes one stays smaller. */
let sharpModule: Promise<typeof Sharp> | undefined;
async function loadSharp(): Promise<typeof Sharp> {
  sharpModule ??= import("sharp").then((m) => {
    // libvips keeps recent operations (up to 50 MB of pixels) for reuse: a server never processes the same
    // picture twice, so that memory would only stay taken.
    m.default.cache(false);
    return m.default;
  });
  return await sharpModule;
}

function mb(bytes: number): string {
  return `${Math.round((bytes / 1024 / 1024) * 10) / 10} MB`;
}

type Processed = Omit<Media, "id" | "createdAt">;

async function processImage(
  store: MediaStore,
  input: Buffer,
  format: string,
  label: string,
  maxPixels: number,
): Promise<Processed> {
  const sharp = await loadSharp();
  const animated = format === "gif" || format === "webp";
  // The header alone first (no pixel is decoded): a decompression bomb is refused by what it claims.
  let meta: Metadata;
  try {
    meta = await sharp(input, { animated, limitInputPixels: false }).metadata();
  } catch (e) {
    throw new InvalidMediaError(`${label}: the picture cannot be read (${(e as Error).message})`);
  }
  const frames = meta.pages ?? 1;
  const width = meta.width ?? 0;
  const frameHeight = meta.pageHeight ?? meta.height ?? 0;
  const megapixels = (n: number) => `${Math.round(n / 100_000) / 10} megapixels`;
  if (width * frameHeight > maxPixels)
    throw new InvalidMediaError(
      `${label}: the picture is too large (${width}×${frameHeight}, ${megapixels(width * frameHeight)}; at most ${megapixels(maxPixels)})`,
    );
  if (frames > MAX_FRAMES)
    throw new InvalidMediaError(`${label}: the animation has too many frames (${frames}; at most ${MAX_FRAMES})`);
  if (width * frameHeight * frames > maxPixels * ANIMATION_PIXEL_FACTOR)
    throw new InvalidMediaError(
      `${label}: the animation is too large (${frames} frames of ${width}×${frameHeight}; at most ${megapixels(maxPixels * ANIMATION_PIXEL_FACTOR)} in all)`,
    );
  // libvips checks the same bound itself while decoding, whatever the header said.
  const open = () =>
    sharp(input, {
      limitInputPixels: Math.max(1, maxPixels * (animated ? ANIMATION_PIXEL_FACTOR : 1)),
      animated,
      failOn: "error",
    });
  // AVIF is not shown everywhere yet: it becomes WebP (keeps transparency) like the rest of the web gets it.
  const out = format === "avif" ? "webp" : format;
  let pipeline = open().rotate().resize({ width: MAX_SIDE, height: MAX_SIDE, fit: "inside", withoutEnlargement: true });
  if (out === "jpeg") pipeline = pipeline.jpeg({ quality: 85, mozjpeg: true });
  else if (out === "png") pipeline = pipeline.png({ compressionLevel: 9 });
  else if (out === "webp") pipeline = pipeline.webp({ quality: 85 });
  else pipeline = pipeline.gif();
  let result: { data: Buffer; info: OutputInfo };
  try {
    // sharp writes no metadata unless asked: EXIF (GPS, camera), XMP and IPTC are gone.
    result = await pipeline.toBuffer({ resolveWithObject: true });
  } catch (e) {
    throw new InvalidMediaError(`${label}: the picture is damaged or truncated (${(e as Error).message})`);
  }
  const ext = { jpeg: "jpg", png: "png", webp: "webp", gif: "gif" }[out] as string;
  const height = result.info.pageHeight ?? result.info.height;
  const still = await stillOf(result.data);
  const file = await store.put(result.data, ext);
  return {
    kind: "image",
    mediaType: { jpeg: "image/jpeg", png: "image/png", webp: "image/webp", gif: "image/gif" }[out] as string,
    file,
    size: result.data.byteLength,
    width: result.info.width,
    height,
    durationMs: null,
    ...(await previewAndBlurhash(store, still)),
  };
}

/** The first frame of an (animated) picture, as a still. */
async function stillOf(image: Buffer): Promise<Buffer> {
  const sharp = await loadSharp();
  return await sharp(image, { pages: 1 }).png().toBuffer();
}

async function previewAndBlurhash(
  store: MediaStore,
  still: Buffer,
): Promise<Pick<Media, "previewFile" | "previewWidth" | "previewHeight" | "blurhash">> {
  const sharp = await loadSharp();
  const preview = await sharp(still)
    .resize({ width: PREVIEW_SIDE, height: PREVIEW_SIDE, fit: "inside", withoutEnlargement: true })
    .webp({ quality: 75 })
    .toBuffer({ resolveWithObject: true });
  const small = await sharp(still)
    .resize(32, 32, { fit: "inside" })
    .ensureAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  const blurhash = encodeBlurhash(new Uint8ClampedArray(small.data), small.info.width, small.info.height, 4, 3);
  return {
    previewFile: await store.put(preview.data, "webp"),
    previewWidth: preview.info.width,
    previewHeight: preview.info.height,
    blurhash,
  };
}

async function processVideo(
  store: MediaStore,
  file: string,
  size: number,
  mime: string,
  label: string,
  maxSeconds: number,
): Promise<Processed> {
  const tools = await videoTools();
  if (tools === null) {
    // Stored as uploaded, a video would keep where and with what it was recorded.
    throw new InvalidMediaError(
      `${label}: videos cannot be accepted on this server (it has no ffmpeg to process them)`,
    );
  }
  const checked = await checkVideo(tools, file, size, mime, maxSeconds);
  if ("problem" in checked) throw new InvalidMediaError(`${label}: ${checked.problem}`);
  const work = await mkdtemp(path.join(tmpdir(), "lectern-video-"));
  try {
    const { cleaned, poster } = await cleanVideo(tools, file, mime, work);
    const bytes = await readFile(cleaned);
    return {
      kind: "video",
      mediaType: mime,
      file: await store.put(bytes, mime === "video/mp4" ? "mp4" : "webm"),
      size: bytes.byteLength,
      width: checked.width,
      height: checked.height,
      durationMs: checked.durationMs,
      ...(await previewAndBlurhash(store, await readFile(poster))),
    };
  } catch (e) {
    if (e instanceof InvalidMediaError || e instanceof UnavailableError) throw e;
    throw new InvalidMediaError(`${label}: the video cannot be processed (damaged or truncated)`);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** Checks what the author attached to a post: how many, known media, alt text and focal points in range. */
export async function checkAttachments(data: AppData, attachments: Attachment[]): Promise<Attachment[]> {
  if (attachments.length > MAX_ATTACHMENTS) {
    throw new InvalidMediaError(`at most ${MAX_ATTACHMENTS} pictures or videos per post`);
  }
  const known = new Set(
    (
      await getMedia(
        data,
        attachments.map((a) => a.mediaId),
      )
    ).keys(),
  );
  return attachments.map((a, i) => {
    if (!known.has(a.mediaId))
      throw new InvalidMediaError(`attachment ${i + 1}: this upload is gone; attach the file again`);
    const alt = a.alt.replace(/\r\n?/g, "\n").trim();
    if ([...alt].length > MAX_ALT_LENGTH)
      throw new InvalidMediaError(`attachment ${i + 1}: the description can be at most ${MAX_ALT_LENGTH} characters`);
    const focus = a.focus?.map((v) => Math.max(-1, Math.min(1, Number.isFinite(v) ? v : 0))) as
      | [number, number]
      | undefined;
    return { mediaId: a.mediaId, alt, ...(focus && (focus[0] !== 0 || focus[1] !== 0) ? { focus } : {}) };
  });
}

export async function getMedia(data: AppData, ids: string[]): Promise<Map<string, Media>> {
  if (ids.length === 0) return new Map();
  const rows = await data.db.all<Media>(sql`SELECT ${COLUMNS} FROM media WHERE id IN (${sql.join(ids)})`);
  return new Map(rows.map((m) => [m.id, m]));
}

/**
 * Deletes media no post, scheduled post or profile uses, older than `graceMs`
 * (a fresh upload waits for the post it was made for). Returns how many went.
 */
export async function sweepUnusedMedia(
  data: AppData,
  options: { graceMs?: number; only?: string[]; now?: number } = {},
): Promise<number> {
  const store = data.media;
  const graceMs = options.graceMs ?? 86_400_000;
  const now = options.now ?? Date.now();
  if (options.only?.length === 0) return 0;
  const db = data.db;
  const attachmentIds = (table: string) =>
    db.dialect === "postgres"
      ? sql.raw(`SELECT a->>'mediaId' FROM ${table}, jsonb_array_elements(${table}.attachments::jsonb) AS a`)
      : sql.raw(`SELECT json_extract(value, '$.mediaId') FROM ${table}, json_each(${table}.attachments)`);
  const used = sql`(${attachmentIds("posts")} UNION ${attachmentIds("scheduled_posts")} UNION ${attachmentIds("post_versions")} UNION ${attachmentIds("edit_drafts")}
    UNION SELECT avatar_media_id FROM profile WHERE avatar_media_id IS NOT NULL
    UNION SELECT header_media_id FROM profile WHERE header_media_id IS NOT NULL)`;
  const only = options.only ? sql` AND id IN (${sql.join(options.only)})` : sql.empty;
  const unused = await db.all<Media>(
    sql`SELECT ${COLUMNS} FROM media WHERE created_at < ${now - graceMs} AND id NOT IN ${used}${only}`,
  );
  for (const m of unused) {
    await db.run(sql`DELETE FROM media WHERE id = ${m.id}`);
    // Another media row may share a file (the same processed bytes): keep it then.
    for (const file of [m.file, m.previewFile]) {
      if (file === null) continue;
      const still = await db.get(sql`SELECT 1 AS x FROM media WHERE file = ${file} OR preview_file = ${file}`);
      if (still === undefined) await store.delete(file);
    }
  }
  return unused.length;
}
