import { Readable } from "node:stream";
import type { S3Client } from "@aws-sdk/client-s3";
import type { S3Settings } from "../shared/config.ts";
import { UnavailableError } from "../shared/errors.ts";
import {
  FileMediaStore,
  MEDIA_CACHE_CONTROL,
  MEDIA_NAME,
  MEDIA_TYPES,
  type MediaStore,
  mediaName,
} from "./media-store.ts";

type S3 = typeof import("@aws-sdk/client-s3");

/** The object store did not answer or refused: the upload is not stored, nothing half-written. */
export class MediaStoreUnavailableError extends UnavailableError {
  constructor(cause: unknown) {
    super(`The media store is not answering; nothing was stored. Try again shortly. (${describe(cause)})`);
  }
}

function describe(e: unknown): string {
  const err = e as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const status = err.$metadata?.httpStatusCode;
  return [err.name, status, err.message]
    .filter((x) => x !== undefined && x !== "")
    .join(": ")
    .slice(0, 200);
}

function isNotFound(e: unknown): boolean {
  const err = e as { name?: string; $metadata?: { httpStatusCode?: number } };
  return err.name === "NotFound" || err.name === "NoSuchKey" || err.$metadata?.httpStatusCode === 404;
}

/**
 * Media in an S3-compatible bucket (AWS S3, MinIO, Cloudflare R2, Garage…):
 * objects keyed by their content hash, stored with their type and
 * `Cache-Control: public, max-age=31536000, immutable`, so a CDN in front
 * of the bucket (`media.public_url`) keeps them forever. A put is one
 * PutObject: the object exists whole or not at all. The AWS SDK is loaded
 * only when this store is used.
 */
export class S3MediaStore implements MediaStore {
  readonly kind = "s3";
  readonly #client: S3Client;
  readonly #s3: S3;
  readonly #bucket: string;

  private constructor(s3: S3, client: S3Client, bucket: string) {
    this.#s3 = s3;
    this.#client = client;
    this.#bucket = bucket;
  }

  static async open(settings: S3Settings): Promise<S3MediaStore> {
    const s3 = await import("@aws-sdk/client-s3");
    const client = new s3.S3Client({
      region: settings.region,
      endpoint: settings.endpoint ?? undefined,
      forcePathStyle: settings.pathStyle,
      credentials:
        settings.accessKeyId !== null && settings.secretAccessKey !== null
          ? { accessKeyId: settings.accessKeyId, secretAccessKey: settings.secretAccessKey }
          : undefined,
      maxAttempts: 3,
    });
    return new S3MediaStore(s3, client, settings.bucket);
  }

  #key(name: string): string {
    if (!MEDIA_NAME.test(name)) throw new Error(`not a media file name: ${name}`);
    return name;
  }

  async put(bytes: Uint8Array, ext: string): Promise<string> {
    const name = mediaName(bytes, ext);
    if ((await this.size(name)) === bytes.byteLength) return name;
    try {
      await this.#client.send(
        new this.#s3.PutObjectCommand({
          Bucket: this.#bucket,
          Key: this.#key(name),
          Body: bytes,
          ContentType: MEDIA_TYPES[ext],
          CacheControl: MEDIA_CACHE_CONTROL,
          ContentLength: bytes.byteLength,
        }),
      );
    } catch (e) {
      throw new MediaStoreUnavailableError(e);
    }
    return name;
  }

  async size(name: string): Promise<number | null> {
    try {
      const head = await this.#client.send(
        new this.#s3.HeadObjectCommand({ Bucket: this.#bucket, Key: this.#key(name) }),
      );
      return head.ContentLength ?? null;
    } catch (e) {
      if (isNotFound(e)) return null;
      throw new MediaStoreUnavailableError(e);
    }
  }

  async read(name: string, range?: { start: number; end: number }): Promise<Readable> {
    try {
      const got = await this.#client.send(
        new this.#s3.GetObjectCommand({
          Bucket: this.#bucket,
          Key: this.#key(name),
          Range: range === undefined ? undefined : `bytes=${range.start}-${range.end}`,
        }),
      );
      const body = got.Body;
      if (body instanceof Readable) return body;
      if (body === undefined) return Readable.from([]);
      return Readable.fromWeb(body.transformToWebStream() as import("node:stream/web").ReadableStream);
    } catch (e) {
      throw new MediaStoreUnavailableError(e);
    }
  }

  async delete(name: string): Promise<void> {
    try {
      await this.#client.send(new this.#s3.DeleteObjectCommand({ Bucket: this.#bucket, Key: this.#key(name) }));
    } catch (e) {
      if (!isNotFound(e)) throw new MediaStoreUnavailableError(e);
    }
  }

  async *list(): AsyncIterable<string> {
    let token: string | undefined;
    do {
      const page = await this.#client.send(
        new this.#s3.ListObjectsV2Command({ Bucket: this.#bucket, ContinuationToken: token }),
      );
      for (const o of page.Contents ?? []) if (o.Key !== undefined && MEDIA_NAME.test(o.Key)) yield o.Key;
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
  }

  close(): void {
    this.#client.destroy();
  }
}

/** The store `media.store` names. */
export async function openMediaStore(
  config: { media: { store: "disk" | "s3"; s3: S3Settings | null } },
  dir: string,
): Promise<MediaStore> {
  if (config.media.store === "s3" && config.media.s3 !== null) return await S3MediaStore.open(config.media.s3);
  return new FileMediaStore(dir);
}
