import { randomBytes } from "node:crypto";
import { createWriteStream, readFileSync } from "node:fs";
import { mkdir, readdir, rm, stat } from "node:fs/promises";
import type { IncomingMessage } from "node:http";
import path from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import busboy from "busboy";
import type { Context } from "hono";
import { LecternError } from "../shared/errors.ts";

/** Temporary upload files are named so; what a killed process left is swept (see {@link sweepUploads}). */
const PREFIX = "upload-";
/** Where the API's videos wait to be processed, under the uploads' folder. */
export const PROCESSING = "processing";

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

/** A multipart Content-Type with a boundary busboy can use (RFC 2046: 1 to 70 characters). */
const BOUNDARY = /;\s*boundary=(?:"[^"\r\n]{1,70}"|[^";\s]{1,70})\s*(?:;|$)/i;

/**
 * The request's body as a Node stream: the socket's own stream when the
 * request came through @hono/node-server and nothing has read it (so the
 * kernel's backpressure reaches the client), else the web stream.
 */
function bodyOf(c: Context): Readable | null {
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  // Not through c.req.raw.body first: making that stream starts reading the socket.
  if (incoming !== undefined && !incoming.readableDidRead && !incoming.readableEnded) return incoming;
  const body = c.req.raw.body;
  if (body === null || c.req.raw.bodyUsed || body.locked) return null;
  return Readable.fromWeb(body as WebReadableStream<Uint8Array>);
}

/**
 * Reads a multipart form as it streams in: fields into memory (bounded),
 * files straight to temporary files, so a 200 MB video never sits in memory.
 * A file over the limit stops the upload with a 413 and leaves nothing behind.
 */
export async function parseUpload(c: Context, tmpDir: string, limits: UploadLimits): Promise<ParsedUpload> {
  const type = c.req.header("content-type") ?? "";
  if (!type.startsWith("multipart/form-data")) throw new UploadError("expected a multipart form", 400);
  if (!BOUNDARY.test(type)) throw new UploadError("a multipart form needs a boundary", 400);
  const body = bodyOf(c);
  if (body === null) throw new UploadError("expected a multipart form", 400);
  await mkdir(tmpDir, { recursive: true });
  const fields = new Map<string, string[]>();
  const files: UploadedFile[] = [];
  const writes: Promise<void>[] = [];
  const cleanup = async () => {
    await Promise.allSettled(writes);
    await Promise.all(files.map((f) => rm(f.path, { force: true })));
  };
  let bb: busboy.Busboy;
  try {
    bb = busboy({
      headers: { "content-type": type },
      limits: {
        fileSize: limits.maxFileBytes,
        files: limits.maxFiles,
        fields: limits.maxFields ?? 100,
        fieldSize: limits.maxFieldBytes ?? 64 * 1024,
        parts: (limits.maxFields ?? 100) + limits.maxFiles,
      },
    });
  } catch (e) {
    body.resume();
    throw new UploadError(`the upload's form cannot be read (${(e as Error).message})`, 400);
  }
  let failure: UploadError | undefined;
  const fail = (e: UploadError) => {
    failure ??= e;
  };
  bb.on("field", (name, value, info) => {
    if (typeof name !== "string" || name === "") return; // a part without a name names nothing
    if (info.valueTruncated) fail(new UploadError(`the field "${name}" is too long`, 413));
    fields.set(name, [...(fields.get(name) ?? []), value]);
  });
  bb.on("file", (name, stream, info) => {
    if (!info.filename || typeof name !== "string" || name === "") {
      stream.resume(); // an empty file input
      return;
    }
    const file: UploadedFile = {
      field: name,
      filename: info.filename.slice(0, 200),
      path: path.join(tmpDir, `${PREFIX}${process.pid}-${randomBytes(8).toString("hex")}`),
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
    await pipeline(body, bb);
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

/**
 * Removes what processes killed in the middle of an upload left behind:
 * temporary files of a process that is no longer running (each file names
 * its process), and any older than `olderThanMs` (a process id used again).
 * Returns how many went.
 */
export async function sweepUploads(tmpDir: string, olderThanMs: number, now: number = Date.now()): Promise<number> {
  let names: string[];
  try {
    names = await readdir(tmpDir);
  } catch {
    return 0;
  }
  let removed = await sweepProcessing(path.join(tmpDir, PROCESSING), now);
  for (const name of names) {
    if (!name.startsWith(PREFIX)) continue;
    const file = path.join(tmpDir, name);
    const pid = Number(/^upload-(\d+)-/.exec(name)?.[1]);
    try {
      if (running(pid) && now - (await stat(file)).mtimeMs < olderThanMs) continue;
      await rm(file, { force: true });
      removed++;
    } catch {
      // gone meanwhile
    }
  }
  return removed;
}

/**
 * Videos uploaded through the API wait in `tmp/processing` until processed (mastodon/media.ts); one whose
 * job was cut off and never asked for again is nobody's after a day (its record expires then).
 */
async function sweepProcessing(dir: string, now: number): Promise<number> {
  let removed = 0;
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const file = path.join(dir, name);
    try {
      if (now - (await stat(file)).mtimeMs < 25 * 3600_000) continue;
      await rm(file, { force: true });
      removed++;
    } catch {
      // gone meanwhile
    }
  }
  return removed;
}

/** Whether a process of this machine with that id runs (one of ours, or one that took its number). */
export function running(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
  // A process killed but not reaped yet (its parent died with it) still answers the signal: a zombie is dead.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return true;
  }
}
