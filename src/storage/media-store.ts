import { createHash, randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, readdir, rename, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Readable } from "node:stream";

/** Names a store accepts: a SHA-256 and an extension. Nothing else can name a file (no traversal). */
export const MEDIA_NAME = /^[0-9a-f]{64}\.(jpg|png|webp|gif|mp4|webm)$/;

export const MEDIA_TYPES: Record<string, string> = {
  jpg: "image/jpeg",
  png: "image/png",
  webp: "image/webp",
  gif: "image/gif",
  mp4: "video/mp4",
  webm: "video/webm",
};

/** What media files are served with: they never change (their name is their hash). */
export const MEDIA_CACHE_CONTROL = "public, max-age=31536000, immutable";

/** The name bytes are stored under: their SHA-256 and an extension. */
export function mediaName(bytes: Uint8Array, ext: string): string {
  return `${createHash("sha256").update(bytes).digest("hex")}.${ext}`;
}

/**
 * Where media bytes live: the data directory ({@link FileMediaStore}) or an
 * S3-compatible bucket (storage/s3-media-store.ts). Files are named by the
 * hash of their content, so the same bytes are stored once and a name never
 * changes meaning.
 */
export interface MediaStore {
  /** `disk` or `s3`, as `media.store` names it. */
  readonly kind: "disk" | "s3";
  /** Stores `bytes` (atomically: all or nothing) and returns their name. */
  put(bytes: Uint8Array, ext: string): Promise<string>;
  /** Size in bytes, or null when there is no such file. */
  size(name: string): Promise<number | null>;
  /** The bytes from `start` to `end` inclusive (the whole file by default). */
  read(name: string, range?: { start: number; end: number }): Promise<Readable>;
  delete(name: string): Promise<void>;
  /** Every name stored (for `lectern media migrate`). */
  list(): AsyncIterable<string>;
  close?(): void;
}

export class FileMediaStore implements MediaStore {
  readonly kind = "disk";
  readonly #dir: string;
  constructor(dir: string) {
    this.#dir = dir;
  }

  #path(name: string): string {
    if (!MEDIA_NAME.test(name)) throw new Error(`not a media file name: ${name}`);
    return path.join(this.#dir, name.slice(0, 2), name);
  }

  async put(bytes: Uint8Array, ext: string): Promise<string> {
    const name = mediaName(bytes, ext);
    const file = this.#path(name);
    if ((await this.size(name)) === bytes.byteLength) return name;
    await mkdir(path.dirname(file), { recursive: true });
    // Write beside, then rename: a reader never sees half a file, a crash leaves none.
    const tmp = `${file}.${randomBytes(6).toString("hex")}.tmp`;
    try {
      await writeFile(tmp, bytes, { flush: true });
      await rename(tmp, file);
    } catch (e) {
      await rm(tmp, { force: true });
      throw e;
    }
    return name;
  }

  async size(name: string): Promise<number | null> {
    const file = this.#path(name);
    try {
      return (await stat(file)).size;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
      throw e;
    }
  }

  async read(name: string, range?: { start: number; end: number }): Promise<Readable> {
    return createReadStream(this.#path(name), range);
  }

  async delete(name: string): Promise<void> {
    await rm(this.#path(name), { force: true });
  }

  async *list(): AsyncIterable<string> {
    let dirs: string[];
    try {
      dirs = await readdir(this.#dir);
    } catch {
      return;
    }
    for (const dir of dirs.sort()) {
      if (!/^[0-9a-f]{2}$/.test(dir)) continue;
      for (const name of (await readdir(path.join(this.#dir, dir))).sort()) if (MEDIA_NAME.test(name)) yield name;
    }
  }
}
