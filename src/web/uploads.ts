import { randomBytes } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import path from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import busboy from "busboy";
import { LecternError } from "../errors.ts";

export interface UploadedFile {
  field: string;
  filename: string;
  /** A temporary file with the bytes; removed by {@link ParsedUpload.cleanup}. */
  path: string;
  size: number;
}

export interface ParsedUpload {
  fields: Map<string, string[]>;
  files: UploadedFile[];
  field(name: string): string;
  /** Removes the temporary files. */
  cleanup(): Promise<void>;
}

/** An upload refused while it was read; the message says why. */
export class UploadError extends LecternError {
  override name = "UploadError";
  declare readonly status: 400 | 413;
  constructor(message: string, status: 400 | 413) {
    super(message, status, 65);
  }
}

export interface UploadLimits {
  maxFileBytes: number;
  maxFiles: number;
  maxFields?: number;
  maxFieldBytes?: number;
}

/**
 * Reads a multipart form as it streams in: fields into memory (bounded),
 * files straight to temporary files, so a 200 MB video never sits in memory.
 * A file over the limit stops the upload with a 413 and leaves nothing behind.
 */
export async function parseUpload(request: Request, tmpDir: string, limits: UploadLimits): Promise<ParsedUpload> {
  const type = request.headers.get("content-type") ?? "";
  if (!type.startsWith("multipart/form-data") || request.body === null)
    throw new UploadError("expected a multipart form", 400);
  await mkdir(tmpDir, { recursive: true });
  const fields = new Map<string, string[]>();
  const files: UploadedFile[] = [];
  const writes: Promise<void>[] = [];
  const cleanup = async () => {
    await Promise.allSettled(writes);
    await Promise.all(files.map((f) => rm(f.path, { force: true })));
  };
  if (!/;\s*boundary=/i.test(type)) throw new UploadError("a multipart form needs a boundary", 400);
  const bb = busboy({
    headers: { "content-type": type },
    limits: {
      fileSize: limits.maxFileBytes,
      files: limits.maxFiles,
      fields: limits.maxFields ?? 100,
      fieldSize: limits.maxFieldBytes ?? 64 * 1024,
      parts: (limits.maxFields ?? 100) + limits.maxFiles,
    },
  });
  let failure: UploadError | undefined;
  const fail = (e: UploadError) => {
    failure ??= e;
  };
  bb.on("field", (name, value, info) => {
    if (info.valueTruncated) fail(new UploadError(`the field "${name}" is too long`, 413));
    fields.set(name, [...(fields.get(name) ?? []), value]);
  });
  bb.on("file", (name, stream, info) => {
    if (!info.filename) {
      stream.resume(); // an empty file input
      return;
    }
    const file: UploadedFile = {
      field: name,
      filename: info.filename.slice(0, 200),
      path: path.join(tmpDir, `upload-${randomBytes(8).toString("hex")}`),
      size: 0,
    };
    files.push(file);
    stream.on("data", (chunk: Buffer) => {
      file.size += chunk.length;
    });
    stream.on("limit", () =>
      fail(
        new UploadError(`"${file.filename}" is larger than ${Math.round(limits.maxFileBytes / 1024 / 1024)} MB`, 413),
      ),
    );
    writes.push(pipeline(stream, createWriteStream(file.path)));
  });
  bb.on("filesLimit", () => fail(new UploadError(`at most ${limits.maxFiles} files at once`, 413)));
  bb.on("fieldsLimit", () => fail(new UploadError("too many fields", 413)));
  bb.on("partsLimit", () => fail(new UploadError("too many parts", 413)));
  try {
    await pipeline(Readable.fromWeb(request.body as WebReadableStream<Uint8Array>), bb);
    await Promise.all(writes);
  } catch (e) {
    await cleanup();
    throw e instanceof UploadError
      ? e
      : new UploadError(`the upload was broken off or malformed (${(e as Error).message})`, 400);
  }
  if (failure) {
    await cleanup();
    throw failure;
  }
  return { fields, files, field: (name) => fields.get(name)?.[0] ?? "", cleanup };
}
