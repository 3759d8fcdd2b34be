import { createHash, randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, rename, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Readable } from "node:stream";

/** Names a store accepts: a SHA-256 and an extension. Nothing else can name a file (no traversal). */
export const MEDIA_NAME = /^[0-9a-f]{64}\.(jpg|png|webp|gif|mp4|webm)$/;

/**
 * Where media bytes live. Files are named by the hash of their content, so the
 * same bytes are stored once; a remote object store (S3 and alike) can
 * implement the same four methods.
 */
export interface MediaStore {
  /** Stores `bytes` (atomically) and returns their name. */
  put(bytes: Uint8Array, ext: string): Promise<string>;
  /** Size in bytes, or null when there is no such file. */
  size(name: string): Promise<number | null>;
  /** The bytes from `start` to `end` inclusive (the whole file by default). */
  read(name: string, range?: { start: number; end: number }): Readable;
  delete(name: string): Promise<void>;
}

export class FileMediaStore implements MediaStore {
  readonly #dir: string;
  constructor(dir: string) {
    this.#dir = dir;
  }

  #path(name: string): string {
    if (!MEDIA_NAME.test(name)) throw new Error(`not a media file name: ${name}`);
    return path.join(this.#dir, name.slice(0, 2), name);
  }

  async put(bytes: Uint8Array, ext: string): Promise<string> {
    const name = `${createHash("sha256").update(bytes).digest("hex")}.${ext}`;
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
    try {
      return (await stat(this.#path(name))).size;
    } catch {
      return null;
    }
  }

  read(name: string, range?: { start: number; end: number }): Readable {
    return createReadStream(this.#path(name), range);
  }

  async delete(name: string): Promise<void> {
    await rm(this.#path(name), { force: true });
  }
}
