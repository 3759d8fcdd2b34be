import { readdirSync, readFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import path from "node:path";
import type { Readable } from "node:stream";
import S3rver from "s3rver";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ingestMedia } from "../src/product/media.ts";
import { publishPost } from "../src/product/publish.ts";
import { FileMediaStore, type MediaStore, mediaName } from "../src/storage/media-store.ts";
import { S3MediaStore } from "../src/storage/s3-media-store.ts";
import { runCli } from "./helpers/cli.ts";
import { signIn } from "./helpers/desk.ts";
import { startTestLectern, type TestLectern, tempDir } from "./helpers/lectern.ts";
import { scalar } from "./helpers/rows.ts";

const BUCKET = "lectern-media";

/** A real S3-protocol server on loopback (s3rver), with the bucket made. */
async function startS3(dir: string, port = 0): Promise<{ endpoint: string; port: number; close(): Promise<void> }> {
  const server = new S3rver({
    port,
    address: "127.0.0.1",
    silent: true,
    directory: dir,
    configureBuckets: [{ name: BUCKET, configs: [] }],
  });
  const address = (await server.run()) as AddressInfo;
  return { endpoint: `http://127.0.0.1:${address.port}`, port: address.port, close: () => server.close() };
}

const s3Env = (endpoint: string): Record<string, string> => ({
  LECTERN_MEDIA_STORE: "s3",
  LECTERN_S3_ENDPOINT: endpoint,
  LECTERN_S3_BUCKET: BUCKET,
  LECTERN_S3_ACCESS_KEY_ID: "S3RVER",
  LECTERN_S3_SECRET_ACCESS_KEY: "S3RVER",
});

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** A camera photo: EXIF with a GPS position and the camera. */
async function cameraPhoto(file: string, green = 140): Promise<void> {
  await sharp({ create: { width: 320, height: 200, channels: 3, background: { r: 30, g: green, b: 90 } } })
    .jpeg()
    .withExifMerge({
      IFD0: { Make: "LeakyCam", Model: "Spy 3000" },
      IFD3: { GPSLatitudeRef: "N", GPSLatitude: "48/1 51/1 24/1", GPSLongitudeRef: "E", GPSLongitude: "2/1 21/1 3/1" },
    })
    .toFile(file);
}

let tmp: ReturnType<typeof tempDir>;
let s3: Awaited<ReturnType<typeof startS3>>;
beforeAll(async () => {
  tmp = tempDir();
  s3 = await startS3(path.join(tmp.dir, "s3"));
});
afterAll(async () => {
  await s3?.close();
  tmp?.remove();
});

describe.each(["disk", "s3"] as const)("the %s media store keeps the contract", (kind) => {
  let store: MediaStore;
  beforeAll(async () => {
    store =
      kind === "disk"
        ? new FileMediaStore(path.join(tmp.dir, "disk-contract"))
        : await S3MediaStore.open({
            endpoint: s3.endpoint,
            bucket: BUCKET,
            region: "us-east-1",
            accessKeyId: "S3RVER",
            secretAccessKey: "S3RVER",
            pathStyle: true,
          });
  });
  afterAll(() => store?.close?.());

  it("stores bytes under their hash, once; reads them whole and by range; lists and deletes them", async () => {
    const bytes = new Uint8Array(Buffer.from(`picture bytes of the ${kind} store `.repeat(100)));
    const name = await store.put(bytes, "jpg");
    expect(name).toBe(mediaName(bytes, "jpg"));
    expect(await store.put(bytes, "jpg")).toBe(name);
    expect(await store.size(name)).toBe(bytes.byteLength);
    expect((await readAll(await store.read(name))).equals(Buffer.from(bytes))).toBe(true);
    const part = await readAll(await store.read(name, { start: 10, end: 29 }));
    expect(part.equals(Buffer.from(bytes.subarray(10, 30)))).toBe(true);
    const other = await store.put(new Uint8Array([1, 2, 3]), "png");
    const listed: string[] = [];
    for await (const n of store.list()) listed.push(n);
    expect(listed.sort()).toEqual([name, other].sort());
    await store.delete(name);
    await store.delete(name); // twice is fine
    expect(await store.size(name)).toBeNull();
    await store.delete(other);
    expect(await store.size(`${"0".repeat(64)}.jpg`)).toBeNull();
  });

  it("refuses names that are not a hash and a known extension", async () => {
    await expect(store.size("../../etc/passwd")).rejects.toThrow(/not a media file name/);
    await expect(store.read("x.jpg")).rejects.toThrow(/not a media file name/);
  });
});

describe("a Lectern with its media in S3", () => {
  let lectern: TestLectern;
  const publicUrl = () => `${s3.endpoint}/${BUCKET}/`;
  beforeAll(async () => {
    lectern = await startTestLectern(path.join(tmp.dir, "on-s3"), {
      env: { ...s3Env(s3.endpoint), LECTERN_MEDIA_PUBLIC_URL: publicUrl() },
    });
  });
  afterAll(async () => {
    await lectern?.stop();
  });

  it("federates picture URLs under media.public_url, where the stripped bytes are, cached forever", async () => {
    const photo = path.join(tmp.dir, "photo.jpg");
    await cameraPhoto(photo);
    expect((await sharp(photo).metadata()).exif).toBeDefined();
    const { data } = lectern.server.lectern;
    const media = await ingestMedia(data, lectern.server.lectern.media, { path: photo, filename: "photo.jpg" });
    const post = await publishPost(lectern.server.lectern.context(), {
      text: "From the bucket",
      attachments: [{ mediaId: media.id, alt: "A green square" }],
    });
    const note = (await (
      await fetch(new URL(`/posts/${post.id}`, lectern.origin), { headers: { accept: "application/activity+json" } })
    ).json()) as { attachment: { url: string } | { url: string }[] };
    const attachments = [note.attachment].flat(); // one attachment compacts to an object
    expect(attachments, JSON.stringify(note)).toHaveLength(1);
    const url = attachments[0].url;
    expect(url.startsWith(publicUrl())).toBe(true);
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    expect(res.headers.get("content-type")).toBe("image/jpeg");
    const bytes = Buffer.from(await res.arrayBuffer());
    const meta = await sharp(bytes).metadata();
    expect(meta.exif).toBeUndefined();
    expect(bytes.includes(Buffer.from("LeakyCam"))).toBe(false);
    // Links made before the CDN was set (this server's /media/) are sent there.
    const old = await fetch(new URL(`/media/${media.file}`, lectern.origin), { redirect: "manual" });
    expect(old.status).toBe(301);
    expect(old.headers.get("location")).toBe(url);
    // Nothing on the local disk.
    expect(readdirSync(path.join(tmp.dir, "on-s3")).includes("media")).toBe(false);
  });
});

describe("when object storage is down", () => {
  it("an upload fails with a clear message in the desk and the CLI, the text kept, nothing half-stored", async () => {
    const dir = path.join(tmp.dir, "down");
    const dead = await startS3(path.join(tmp.dir, "s3-dead"));
    const lectern = await startTestLectern(dir, { env: s3Env(dead.endpoint) });
    try {
      await dead.close();
      const photo = path.join(tmp.dir, "down.jpg");
      await cameraPhoto(photo);
      const db = lectern.server.lectern.db;
      const origin = lectern.origin.origin;
      const cookie = await signIn(lectern);
      const compose = await (await fetch(new URL("/admin", origin), { headers: { cookie } })).text();
      const csrf = /name="_csrf" value="([^"]+)"/.exec(compose)?.[1] as string;
      const form = new FormData();
      form.set("_csrf", csrf);
      form.set("text", "Words that must not be lost");
      form.set("action", "publish");
      form.set("file0", new Blob([readFileSync(photo)], { type: "image/jpeg" }), "down.jpg");
      const res = await fetch(new URL("/admin/posts", origin), {
        method: "POST",
        headers: { cookie, origin },
        body: form,
        redirect: "manual",
      });
      expect(res.status).toBeLessThan(500);
      const page = await res.text();
      expect(page).toContain("The media store is not answering; nothing was stored");
      expect(page).toContain("Words that must not be lost");
      expect(await scalar(db, "SELECT count(*) FROM media")).toBe(0);
      expect(await scalar(db, "SELECT count(*) FROM posts")).toBe(0);

      const cli = await runCli(["post", "--text", "From the shell", "--media", photo], lectern.env);
      expect(cli.code).not.toBe(0);
      expect(cli.stderr).toContain("The media store is not answering");
      expect(cli.stderr).not.toMatch(/\n\s+at /); // no stack trace
      expect(await scalar(db, "SELECT count(*) FROM posts")).toBe(0);
    } finally {
      await lectern.stop();
    }
  });
});

describe("lectern media migrate", () => {
  it("moves every file from the disk to the bucket and leaves nothing behind; pages keep showing them", async () => {
    const dir = path.join(tmp.dir, "migrating");
    let lectern = await startTestLectern(dir);
    const photo = path.join(tmp.dir, "migrate.jpg");
    await cameraPhoto(photo, 60); // not the bytes of the other tests' pictures, already in the bucket
    const { data, media: store } = lectern.server.lectern;
    const media = await ingestMedia(data, store, { path: photo, filename: "migrate.jpg" });
    const before = Buffer.from(await (await fetch(new URL(`/media/${media.file}`, lectern.origin))).arrayBuffer());
    const env = lectern.env;
    await lectern.stop();
    const files = () => readdirSync(path.join(dir, "media"), { recursive: true }).filter((f) => /\./.test(String(f)));
    expect(files().length).toBe(2); // the picture and its preview

    const run = await runCli(["media", "migrate"], { ...env, ...s3Env(s3.endpoint) });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout, `${run.stdout}\n${run.stderr}`).toContain("Moved 2 files");
    expect(files()).toEqual([]);
    // Again: nothing to do, nothing broken.
    const again = await runCli(["media", "migrate"], { ...env, ...s3Env(s3.endpoint) });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain("Moved 0 files");

    lectern = await startTestLectern(dir, { port: lectern.config.port, env: s3Env(s3.endpoint) });
    try {
      const after = await fetch(new URL(`/media/${media.file}`, lectern.origin));
      expect(after.status).toBe(200);
      expect(Buffer.from(await after.arrayBuffer()).equals(before)).toBe(true);
      const ranged = await fetch(new URL(`/media/${media.file}`, lectern.origin), { headers: { range: "bytes=0-9" } });
      expect(ranged.status).toBe(206);
      expect(Buffer.from(await ranged.arrayBuffer()).equals(before.subarray(0, 10))).toBe(true);
    } finally {
      await lectern.stop();
    }
  });
});
