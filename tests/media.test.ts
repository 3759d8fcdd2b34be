import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InvalidMediaError, ingestMedia } from "../src/product/media.ts";
import { publishDelete, publishPost } from "../src/product/publish.ts";
import { type VideoTools, videoTools } from "../src/product/video-tools.ts";
import { hugeMoovMp4, manyFrameGif, pngHeader } from "./fixtures/media.ts";
import { runCli } from "./helpers/cli.ts";
import { type FollowerServer, startFollowerServer } from "./helpers/follower.ts";
import { startTestLectern, type TestLectern, tempDir, testEnv } from "./helpers/lectern.ts";
import { scalar } from "./helpers/rows.ts";

type Json = Record<string, any>;

let tmp: ReturnType<typeof tempDir>;
let files: ReturnType<typeof tempDir>;
let lectern: TestLectern;
/** ffmpeg and ffprobe: the system's, or the ones from npm on a machine without them. */
let tools: VideoTools | null = await videoTools();
const videoToolsFound = tools !== null;
const fixture = (name: string) => path.join(files.dir, name);
const ingest = (file: string, filename = path.basename(file)) =>
  ingestMedia(lectern.server.lectern.data, lectern.server.lectern.media, { path: file, filename });
const mediaRows = async () => (await scalar(lectern.server.lectern.db, "SELECT count(*) FROM media")) as number;
function storedFiles(): string[] {
  const dir = path.join(tmp.dir, "media");
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => d.name);
}

beforeAll(async () => {
  tmp = tempDir();
  files = tempDir("lectern-fixtures-");
  lectern = await startTestLectern(tmp.dir);
  // A camera photo: EXIF with GPS position and camera model, taken sideways (orientation 6).
  await sharp({ create: { width: 600, height: 400, channels: 3, background: { r: 200, g: 80, b: 40 } } })
    .jpeg()
    .withMetadata({ orientation: 6 })
    .withExifMerge({
      IFD0: { Make: "LeakyCam", Model: "Spy 3000" },
      IFD3: { GPSLatitudeRef: "N", GPSLatitude: "48/1 51/1 24/1", GPSLongitudeRef: "E", GPSLongitude: "2/1 21/1 3/1" },
    })
    .toFile(fixture("photo.jpg"));
  await sharp({ create: { width: 300, height: 200, channels: 4, background: { r: 0, g: 120, b: 255, alpha: 0.5 } } })
    .png()
    .toFile(fixture("really-png.jpg"));
  writeFileSync(fixture("notes.png"), "This is plain text pretending to be a picture.\n".repeat(20));
  writeFileSync(fixture("bomb.png"), pngHeader(20000, 20000));
  const full = readFileSync(fixture("photo.jpg"));
  writeFileSync(fixture("truncated.jpg"), full.subarray(0, Math.floor(full.length / 2)));
  await sharp({ create: { width: 5000, height: 1000, channels: 3, background: "#336699" } })
    .webp()
    .toFile(fixture("wide.webp"));
  // Two frames: an animated GIF.
  const frame = (color: string) =>
    sharp({ create: { width: 40, height: 40, channels: 3, background: color } })
      .raw()
      .toBuffer();
  const frames = Buffer.concat([await frame("#ff0000"), await frame("#0000ff")]);
  await sharp(frames, { raw: { width: 40, height: 80, channels: 3, pageHeight: 40 } })
    .gif({ delay: [100, 100] })
    .toFile(fixture("blink.gif"));
  tools = await videoTools();
  if (tools !== null) {
    execFileSync(tools.ffmpeg, [
      "-v",
      "error",
      "-f",
      "lavfi",
      "-i",
      "testsrc=duration=1:size=320x240:rate=10",
      "-f",
      "lavfi",
      "-i",
      "sine=duration=1",
      "-c:v",
      "libx264",
      "-pix_fmt",
      "yuv420p",
      "-c:a",
      "aac",
      "-shortest",
      "-metadata",
      "location=+48.8566+002.3522/",
      "-metadata",
      "title=secret",
      "-y",
      fixture("clip.mp4"),
    ]);
  }
});

afterAll(async () => {
  await lectern?.stop();
  tmp?.remove();
  files?.remove();
});

describe("what is accepted, decided by content", () => {
  it("a JPEG with GPS EXIF comes out oriented, web-sized and without any metadata", async () => {
    const before = await sharp(fixture("photo.jpg")).metadata();
    expect(before.exif?.toString("latin1")).toContain("LeakyCam");
    expect(before.orientation).toBe(6);
    const m = await ingest(fixture("photo.jpg"));
    expect(m).toMatchObject({ kind: "image", mediaType: "image/jpeg", width: 400, height: 600 });
    expect(m.blurhash).toMatch(/^[0-9A-Za-z#$%*+,\-.:;=?@[\]^_{|}~]{20,}$/);
    const stored = await fetchBytes(`/media/${m.file}`);
    const after = await sharp(stored).metadata();
    expect(after.exif).toBeUndefined();
    expect(after.xmp).toBeUndefined();
    expect(after.iptc).toBeUndefined();
    expect(stored.toString("latin1")).not.toContain("LeakyCam");
    expect(after.orientation ?? 1).toBe(1);
    expect([after.width, after.height]).toEqual([400, 600]);
    // A small preview for lists and link cards.
    const preview = await sharp(await fetchBytes(`/media/${m.previewFile}`)).metadata();
    expect(preview.format).toBe("webp");
    expect(Math.max(preview.width ?? 0, preview.height ?? 0)).toBeLessThanOrEqual(400);
  });

  it("a PNG named .jpg is stored as PNG", async () => {
    const m = await ingest(fixture("really-png.jpg"));
    expect(m.mediaType).toBe("image/png");
    expect(m.file).toMatch(/\.png$/);
  });

  it("a large picture is scaled to the web size, an animated GIF keeps its frames", async () => {
    const wide = await ingest(fixture("wide.webp"));
    expect([wide.width, wide.height]).toEqual([2048, 410]);
    const gif = await ingest(fixture("blink.gif"));
    expect(gif.mediaType).toBe("image/gif");
    expect((await sharp(await fetchBytes(`/media/${gif.file}`)).metadata()).pages).toBe(2);
  });

  it("refuses a text file named .png, a truncated JPEG and a 20000×20000 bomb, leaving nothing behind", async () => {
    const rows = await mediaRows();
    const stored = storedFiles().length;
    await expect(ingest(fixture("notes.png"))).rejects.toThrow(/"notes\.png": not a supported picture or video/);
    await expect(ingest(fixture("truncated.jpg"))).rejects.toThrow(InvalidMediaError);
    const rss = process.memoryUsage().rss;
    await expect(ingest(fixture("bomb.png"))).rejects.toThrow(/too large|cannot be read/);
    expect(process.memoryUsage().rss - rss).toBeLessThan(100 * 1024 * 1024);
    expect(await mediaRows()).toBe(rows);
    expect(storedFiles().length).toBe(stored);
  });

  it("refuses by their headers, before decoding: too many pixels, too many frames, an MP4 whose box claims 1 TB", async () => {
    const rows = await mediaRows();
    const stored = storedFiles().length;
    writeFileSync(fixture("frames.gif"), manyFrameGif(1001));
    await expect(ingest(fixture("frames.gif"))).rejects.toThrow(/too many frames \(1001; at most 1000\)/);
    writeFileSync(fixture("bomb-8000.png"), pngHeader(8000, 8000));
    await expect(ingest(fixture("bomb-8000.png"))).rejects.toThrow(
      /too large \(8000×8000, 64 megapixels; at most 50 megapixels\)/,
    );
    if (videoToolsFound) {
      writeFileSync(fixture("moov.mp4"), hugeMoovMp4());
      await expect(ingest(fixture("moov.mp4"))).rejects.toThrow(/"moov" box claims 1099511627776 bytes/);
    }
    expect(await mediaRows()).toBe(rows);
    expect(storedFiles().length).toBe(stored);
  });

  it("stores the same upload once", async () => {
    const a = await ingest(fixture("photo.jpg"), "a.jpg");
    const rows = await mediaRows();
    const count = storedFiles().length;
    const b = await ingest(fixture("photo.jpg"), "b.jpg");
    expect(b.id).toBe(a.id);
    expect(await mediaRows()).toBe(rows);
    expect(storedFiles().length).toBe(count);
  });
});

describe("video", () => {
  it.runIf(videoToolsFound)("is probed, stripped of metadata, given a poster, and served with Range", async () => {
    const m = await ingest(fixture("clip.mp4"));
    expect(m).toMatchObject({ kind: "video", mediaType: "video/mp4", width: 320, height: 240 });
    expect(m.durationMs).toBeGreaterThan(800);
    expect(m.previewFile).toMatch(/\.webp$/);
    const stored = path.join(tmp.dir, "media", m.file.slice(0, 2), m.file);
    const tags =
      JSON.parse(
        execFileSync((tools as VideoTools).ffprobe, ["-v", "error", "-print_format", "json", "-show_format", stored], {
          encoding: "utf8",
        }),
      ).format.tags ?? {};
    expect(tags.location).toBeUndefined();
    expect(tags.title).toBeUndefined();

    const res = await fetch(new URL(`/media/${m.file}`, lectern.origin), { headers: { Range: "bytes=0-99" } });
    expect(res.status).toBe(206);
    expect(res.headers.get("content-range")).toBe(`bytes 0-99/${m.size}`);
    expect(res.headers.get("content-type")).toBe("video/mp4");
    expect(res.headers.get("accept-ranges")).toBe("bytes");
    const body = Buffer.from(await res.arrayBuffer());
    expect(body.length).toBe(100);
    expect(body.equals(readFileSync(stored).subarray(0, 100))).toBe(true);
    const tail = await fetch(new URL(`/media/${m.file}`, lectern.origin), { headers: { Range: "bytes=-10" } });
    expect((await tail.arrayBuffer()).byteLength).toBe(10);
    const bad = await fetch(new URL(`/media/${m.file}`, lectern.origin), {
      headers: { Range: `bytes=${m.size + 5}-` },
    });
    expect(bad.status).toBe(416);
  });
});

describe("serving", () => {
  it("sends the right type, caches forever, never sniffs, and cannot be led outside the store", async () => {
    const m = await ingest(fixture("photo.jpg"));
    const res = await fetch(new URL(`/media/${m.file}`, lectern.origin));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("image/jpeg");
    expect(res.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    for (const probe of [
      "/media/..%2f..%2fetc%2fpasswd",
      "/media/%2e%2e/lectern.sqlite",
      `/media/${m.file.replace(".jpg", ".sqlite")}`,
      "/media/../data/lectern.sqlite",
    ]) {
      expect((await fetch(new URL(probe, lectern.origin))).status).toBe(404);
    }
  });
});

describe("in posts", () => {
  let remote: FollowerServer;
  beforeAll(async () => {
    remote = await startFollowerServer({ users: ["carol"] });
    await remote.follow("carol", lectern.actorId);
    await remote.waitForActivity((a) => a.type === "Accept");
  });
  afterAll(() => remote?.close());

  it("a follower receives attachments with type, alt text and size, and fetches the same bytes", async () => {
    const photo = await ingest(fixture("photo.jpg"));
    const attachments: { mediaId: string; alt: string; focus?: [number, number] }[] = [
      { mediaId: photo.id, alt: "A red square on a sunny day", focus: [0.25, -0.5] },
    ];
    const clip = tools !== null ? await ingest(fixture("clip.mp4")) : undefined;
    if (clip) attachments.push({ mediaId: clip.id, alt: "Test pattern" });
    await publishPost(lectern.server.lectern.context(), { text: "With media", attachments });
    const create = (
      await remote.waitForActivity(
        (a) => a.type === "Create" && String((a.object as Json).content).includes("With media"),
      )
    ).json as Json;
    const sent = [create.object.attachment].flat();
    expect(sent[0]).toMatchObject({
      type: "Image",
      mediaType: "image/jpeg",
      name: "A red square on a sunny day",
      width: 400,
      height: 600,
      // Mastodon's placeholder and crop centre, which Fedify's vocabulary lacks, with their context.
      blurhash: photo.blurhash,
      focalPoint: [0.25, -0.5],
    });
    expect(create["@context"]).toContainEqual(
      expect.objectContaining({
        blurhash: "toot:blurhash",
        focalPoint: { "@container": "@list", "@id": "toot:focalPoint" },
      }),
    );
    // The Note as served carries them too.
    const served = await (await fetch(create.object.id, { headers: { Accept: "application/activity+json" } })).json();
    expect([served.attachment].flat()[0]).toMatchObject({ blurhash: photo.blurhash, focalPoint: [0.25, -0.5] });
    const bytes = Buffer.from(await (await fetch(sent[0].url)).arrayBuffer());
    expect(bytes.equals(await fetchBytes(`/media/${photo.file}`))).toBe(true);
    if (clip) {
      expect(sent[1]).toMatchObject({
        type: "Video",
        mediaType: "video/mp4",
        name: "Test pattern",
        width: 320,
        height: 240,
      });
      expect(sent[1].icon).toMatchObject({ type: "Image", mediaType: "image/webp" });
    }
  });

  it("a Note with a single attachment, fetched at its URL, carries its blurhash and focal point", async () => {
    // Fedify compacts one attachment to an object, not a list: the extras are found either way.
    const photo = await ingest(fixture("photo.jpg"));
    const post = await publishPost(lectern.server.lectern.context(), {
      text: "One picture",
      attachments: [{ mediaId: photo.id, alt: "Alone", focus: [0.5, 0.5] }],
    });
    const url = lectern.server.lectern.data.urls.post(post.id);
    const served = (await (await fetch(url, { headers: { Accept: "application/activity+json" } })).json()) as Json;
    expect(Array.isArray(served.attachment)).toBe(false);
    expect(served.attachment).toMatchObject({ blurhash: photo.blurhash, focalPoint: [0.5, 0.5] });
  });

  it("deleting a post deletes its media unless another post uses them", async () => {
    await sharp({ create: { width: 64, height: 64, channels: 3, background: "#00aa00" } })
      .png()
      .toFile(fixture("green.png"));
    await sharp({ create: { width: 64, height: 64, channels: 3, background: "#aa00aa" } })
      .png()
      .toFile(fixture("purple.png"));
    const green = await ingest(fixture("green.png"));
    const purple = await ingest(fixture("purple.png"));
    const ctx = lectern.server.lectern.context();
    const a = await publishPost(ctx, {
      text: "Both",
      attachments: [
        { mediaId: green.id, alt: "" },
        { mediaId: purple.id, alt: "" },
      ],
    });
    await publishPost(ctx, { text: "Green again", attachments: [{ mediaId: green.id, alt: "green" }] });
    await new Promise((r) => setTimeout(r, 5));
    await publishDelete(ctx, a.id, Date.now() + 10);
    expect(storedFiles()).toContain(green.file);
    expect(storedFiles()).not.toContain(purple.file);
    expect(storedFiles()).not.toContain(purple.previewFile);
  });

  it("the CLI attaches files with --media and --alt, and refuses a file that is not a picture", async () => {
    const env = testEnv(tmp.dir, lectern.config.port);
    const ok = await runCli(
      ["post", "--text", "From the shell", "--media", fixture("really-png.jpg"), "--alt", "Blue glass"],
      env,
    );
    expect(ok.code).toBe(0);
    const note = await (await fetch(ok.stdout.trim(), { headers: { Accept: "application/activity+json" } })).json();
    expect([note.attachment].flat()[0]).toMatchObject({ type: "Image", mediaType: "image/png", name: "Blue glass" });
    const bad = await runCli(["post", "--text", "x", "--media", fixture("notes.png")], env);
    expect(bad.code).toBe(65);
    expect(bad.stderr).toContain("not a supported picture or video");
  }, 120_000);
});

async function fetchBytes(p: string): Promise<Buffer> {
  const res = await fetch(new URL(p, lectern.origin));
  expect(res.status).toBe(200);
  return Buffer.from(await res.arrayBuffer());
}
