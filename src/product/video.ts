import { execFile } from "node:child_process";
import { open } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import type { VideoTools } from "./video-tools.ts";

/*
 * What a video must be before it is kept: its container whole, its codecs the
 * web plays, its picture and length within bounds (checked from what ffprobe
 * reads of its headers, before anything is decoded); and how it is kept: the
 * same streams without metadata, with a poster frame.
 */

const run = promisify(execFile);

/** Largest video frame: what the Mastodon API tells apps (`video_matrix_limit`), and 8192 on a side. */
export const MAX_VIDEO_PIXELS = 4096 * 4096;
const MAX_VIDEO_SIDE = 8192;

const VIDEO_CODECS: Record<string, { video: string[]; audio: string[] }> = {
  "video/mp4": { video: ["h264"], audio: ["aac", "mp3"] },
  "video/webm": { video: ["vp8", "vp9", "av1"], audio: ["opus", "vorbis"] },
};

interface Probe {
  streams?: { codec_type?: string; codec_name?: string; width?: number; height?: number }[];
  format?: { format_name?: string; duration?: string };
}

export type VideoCheck = { problem: string } | { width: number; height: number; durationMs: number };

/** Checks a video by its container and headers; what is wrong with it, in words, or its size and length. */
export async function checkVideo(
  tools: VideoTools,
  file: string,
  size: number,
  mime: string,
  maxSeconds: number,
): Promise<VideoCheck> {
  const ext = mime === "video/mp4" ? "mp4" : "webm";
  // An MP4's boxes say how long they are: one that claims more than the file holds is damaged, or made to
  // make the tools read (or seek, or allocate) far beyond it.
  if (ext === "mp4") {
    const problem = await mp4BoxProblem(file, size);
    if (problem !== undefined) return { problem };
  }
  let probe: Probe;
  try {
    const { stdout } = await run(
      tools.ffprobe,
      ["-v", "error", "-print_format", "json", "-show_streams", "-show_format", file],
      { timeout: 30_000, maxBuffer: 1 << 20 },
    );
    probe = JSON.parse(stdout) as Probe;
  } catch {
    return { problem: "the video cannot be read (damaged or truncated)" };
  }
  const video = probe.streams?.find((s) => s.codec_type === "video");
  const audio = probe.streams?.find((s) => s.codec_type === "audio");
  const allowed = VIDEO_CODECS[mime];
  if (video === undefined || !allowed.video.includes(video.codec_name ?? ""))
    return {
      problem: `${ext.toUpperCase()} videos must be ${allowed.video.join(" or ").toUpperCase()}${video ? `, this one is ${video.codec_name}` : ", this one has no video"}`,
    };
  if (audio !== undefined && !allowed.audio.includes(audio.codec_name ?? ""))
    return { problem: `its sound must be ${allowed.audio.join(" or ").toUpperCase()}, not ${audio.codec_name}` };
  const [width, height] = [video.width ?? 0, video.height ?? 0];
  if (width * height > MAX_VIDEO_PIXELS || width > MAX_VIDEO_SIDE || height > MAX_VIDEO_SIDE)
    return { problem: `the video's picture is too large (${width}×${height}; at most 4096×4096)` };
  const seconds = Number(probe.format?.duration ?? Number.NaN);
  if (!Number.isFinite(seconds) || seconds < 0) return { problem: "the video cannot be read (it gives no length)" };
  if (seconds > maxSeconds)
    return { problem: `the video is too long (${Math.round(seconds)} seconds; at most ${maxSeconds})` };
  return { width, height, durationMs: Math.round(seconds * 1000) };
}

/**
 * The video as it is kept, in `work`: the same streams with no metadata (the
 * recording place, the device), the index first so playback starts at once;
 * and its first frame as a picture.
 */
export async function cleanVideo(
  tools: VideoTools,
  file: string,
  mime: string,
  work: string,
): Promise<{ cleaned: string; poster: string }> {
  const ext = mime === "video/mp4" ? "mp4" : "webm";
  const cleaned = path.join(work, `clean.${ext}`);
  await run(
    tools.ffmpeg,
    [
      "-v",
      "error",
      "-i",
      file,
      "-map",
      "0:v:0",
      "-map",
      "0:a:0?",
      "-c",
      "copy",
      "-map_metadata",
      "-1",
      ...(ext === "mp4" ? ["-movflags", "+faststart"] : []),
      "-y",
      cleaned,
    ],
    { timeout: 120_000 },
  );
  const poster = path.join(work, "poster.png");
  await run(tools.ffmpeg, ["-v", "error", "-i", cleaned, "-frames:v", "1", "-y", poster], { timeout: 60_000 });
  return { cleaned, poster };
}

/**
 * Walks an MP4's top-level boxes: each must fit in the file (a last `mdat`
 * may run to its end, size 0). What is wrong when one claims more.
 */
async function mp4BoxProblem(file: string, size: number): Promise<string | undefined> {
  const handle = await open(file, "r");
  try {
    const header = Buffer.alloc(16);
    let at = 0;
    for (let boxes = 0; at < size; boxes++) {
      if (boxes > 10_000) return "the video cannot be read (too many boxes)";
      const { bytesRead } = await handle.read(header, 0, 16, at);
      if (bytesRead < 8) return "the video is damaged or truncated";
      let length = header.readUInt32BE(0);
      const type = header.toString("latin1", 4, 8);
      if (length === 1) {
        if (bytesRead < 16) return "the video is damaged or truncated";
        const large = header.readBigUInt64BE(8);
        length = large > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(large);
      } else if (length === 0) {
        length = size - at; // to the end of the file
      }
      if (length < 8 || at + length > size)
        return `the video is damaged: its "${type.replace(/[^\x20-\x7e]/g, "?")}" box claims ${length} bytes, the file has ${size - at} left`;
      at += length;
    }
    return undefined;
  } finally {
    await handle.close();
  }
}
