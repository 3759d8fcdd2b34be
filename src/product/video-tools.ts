import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { getLogger } from "@logtape/logtape";

const logger = getLogger(["lectern", "media"]);
const run = promisify(execFile);

/** The ffmpeg and ffprobe a video goes through. */
export interface VideoTools {
  ffmpeg: string;
  ffprobe: string;
  /** Where they come from, for the log. */
  source: "system" | "npm";
}

async function works(tools: Omit<VideoTools, "source">): Promise<boolean> {
  try {
    await run(tools.ffprobe, ["-version"], { timeout: 10_000 });
    await run(tools.ffmpeg, ["-version"], { timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
}

let found: Promise<VideoTools | null> | undefined;

/**
 * The system's ffmpeg and ffprobe (Debian's `ffmpeg` package) when they run;
 * otherwise the static builds of `@ffmpeg-installer/ffmpeg` and
 * `@ffprobe-installer/ffprobe` from npm. Null when neither runs: videos are
 * then refused (never stored with their metadata).
 */
export function videoTools(): Promise<VideoTools | null> {
  found ??= (async () => {
    if (await works({ ffmpeg: "ffmpeg", ffprobe: "ffprobe" }))
      return { ffmpeg: "ffmpeg", ffprobe: "ffprobe", source: "system" };
    try {
      const ffmpeg = ((await import("@ffmpeg-installer/ffmpeg")) as { default: { path: string } }).default.path;
      const ffprobe = ((await import("@ffprobe-installer/ffprobe")) as { default: { path: string } }).default.path;
      if (await works({ ffmpeg, ffprobe })) {
        logger.info("Using ffmpeg and ffprobe from npm (no system ffmpeg)");
        return { ffmpeg, ffprobe, source: "npm" };
      }
    } catch {
      // No build for this platform.
    }
    logger.warning("No ffmpeg/ffprobe that runs here: videos are refused (apt-get install ffmpeg)");
    return null;
  })();
  return found;
}
