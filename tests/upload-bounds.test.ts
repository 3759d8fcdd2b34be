import { execFileSync, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import http from "node:http";
import { hostname } from "node:os";
import path from "node:path";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { videoTools } from "../src/product/video-tools.ts";
import { DatabaseKvStore } from "../src/storage/kv.ts";
import { openDatabase } from "../src/storage/open.ts";
import { hugeMoovMp4, manyFrameGif, pngHeader } from "./fixtures/media.ts";
import { runCli } from "./helpers/cli.ts";
import { freePort, tempDir, testEnv, waitFor } from "./helpers/lectern.ts";
import { type StartedLectern, startLecternProcess } from "./helpers/started.ts";

type Json = Record<string, any>;
const tools = await videoTools();

// Uploads are bounded before they are decoded, on the server as `npm start` runs it: pictures by the pixels
// their headers claim (here 1 megapixel, configured), animations by frames and pixels in all, MP4s by what
// their boxes claim. Each is refused with a 4xx and leaves nothing; an upload cut off by a SIGKILL leaves no
// temporary file once the server has started again.
describe("uploads bounded before decoding", () => {
  let tmp: ReturnType<typeof tempDir>;
  let lectern: StartedLectern;
  let env: Record<string, string>;
  let port: number;
  let token = "";
  const dataDir = () => path.join(tmp.dir, "data");
  const filesIn = (dir: string) =>
    existsSync(dir) ? readdirSync(dir, { recursive: true, withFileTypes: true }).filter((d) => d.isFile()) : [];
  const upload = async (name: string, type: string, bytes: Buffer) => {
    const form = new FormData();
    form.set("file", new Blob([new Uint8Array(bytes)], { type }), name);
    const res = await fetch(`http://127.0.0.1:${port}/api/v2/media`, {
      method: "POST",
      headers: { Authorization: `Bearer ${token}` },
      body: form,
    });
    return { status: res.status, body: (await res.json()) as Json };
  };
  /** A video's upload is answered 202 and processed after: polled (as apps do) until it has ended. */
  const settled = async (name: string, type: string, bytes: Buffer) => {
    const first = await upload(name, type, bytes);
    if (first.status !== 202) return first;
    return await waitFor(
      async () => {
        const res = await fetch(`http://127.0.0.1:${port}/api/v1/media/${first.body.id}`, {
          headers: { Authorization: `Bearer ${token}` },
        });
        return res.status === 206 ? undefined : { status: res.status, body: (await res.json()) as Json };
      },
      30_000,
      `${name} processed`,
    );
  };

  beforeAll(async () => {
    tmp = tempDir();
    port = await freePort();
    env = testEnv(dataDir(), port, {
      LECTERN_WEB_PROCESSES: "2",
      LECTERN_DELIVERY_WORKERS: "1",
      LECTERN_MEDIA_MAX_IMAGE_MEGAPIXELS: "1",
    });
    lectern = await startLecternProcess(env);
    const made = await runCli(["staff", "token", "owner"], env);
    expect(made.code, made.stderr).toBe(0);
    token = made.stdout.trim();
  }, 60_000);
  afterAll(async () => {
    await lectern?.stop();
    tmp?.remove();
  });

  it("refuses a decompression bomb, a 1001-frame GIF, an animation too large in all and a 1 TB moov, storing nothing", async () => {
    // 100 frames of 300×300, each of another colour: each within the megapixel, 9 in all (at most 4).
    const colour = (i: number) => Buffer.from([(i * 53) % 256, (i * 101) % 256, (i * 197) % 256]);
    const frames = Array.from({ length: 100 }, (_, i) => Buffer.concat(Array(300 * 300).fill(colour(i))));
    const animation = await sharp(Buffer.concat(frames), {
      raw: { width: 300, height: 300 * 100, channels: 3, pageHeight: 300 },
    })
      .gif()
      .toBuffer();
    const cases: [string, string, Buffer, RegExp][] = [
      [
        "bomb.png",
        "image/png",
        pngHeader(20000, 20000),
        /too large \(20000×20000, 400 megapixels; at most 1 megapixels\)/,
      ],
      ["frames.gif", "image/gif", manyFrameGif(1001), /too many frames \(1001; at most 1000\)/],
      ["big.gif", "image/gif", animation, /the animation is too large \(\d+ frames of 300×300/],
    ];
    if (tools !== null) cases.push(["moov.mp4", "video/mp4", hugeMoovMp4(), /"moov" box claims 1099511627776 bytes/]);
    for (const [name, type, bytes, why] of cases) {
      const { status, body } = await settled(name, type, bytes);
      expect(status, `${name}: ${JSON.stringify(body).slice(0, 300)}`).toBe(422);
      expect(body.error, name).toMatch(why);
    }
    expect(filesIn(path.join(dataDir(), "media"))).toEqual([]);
    expect(filesIn(path.join(dataDir(), "tmp"))).toEqual([]);
    // A picture within the limits still goes in.
    const fine = await sharp({ create: { width: 800, height: 600, channels: 3, background: "#224488" } })
      .png()
      .toBuffer();
    expect((await upload("fine.png", "image/png", fine)).status).toBe(200);
  });

  it.runIf(tools !== null)(
    "a video from an app: 202 at once, 206 while it is processed (asked of any process), 200 with its URLs; posted by that id",
    async () => {
      const clip = path.join(tmp.dir, "clip.mp4");
      execFileSync(tools?.ffmpeg as string, [
        ...["-v", "error", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=25:duration=3"],
        ...["-c:v", "libx264", "-preset", "veryslow", "-pix_fmt", "yuv420p", "-y", clip],
      ]);
      const form = new FormData();
      form.set("file", new Blob([readFileSync(clip)], { type: "video/mp4" }), "clip.mp4");
      form.set("description", "A test pattern");
      const res = await fetch(`http://127.0.0.1:${port}/api/v2/media`, {
        method: "POST",
        headers: { Authorization: `Bearer ${token}` },
        body: form,
      });
      const accepted = (await res.json()) as Json;
      expect(res.status).toBe(202);
      expect(accepted).toMatchObject({ type: "video", url: null, description: "A test pattern" });
      // Posting with it before it is ready: refused, with the reason.
      const post = () =>
        fetch(`http://127.0.0.1:${port}/api/v1/statuses`, {
          method: "POST",
          headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
          body: JSON.stringify({ status: "A video from an app", media_ids: [accepted.id] }),
        });
      const seen: number[] = [];
      const done = await waitFor(
        async () => {
          const r = await fetch(`http://127.0.0.1:${port}/api/v1/media/${accepted.id}`, {
            headers: { Authorization: `Bearer ${token}` },
          });
          seen.push(r.status);
          if (r.status === 206 && seen.length === 1) {
            const early = await post();
            expect(early.status).toBe(422);
            expect(((await early.json()) as Json).error).toContain("still being processed");
          }
          return r.status === 206 ? undefined : { status: r.status, body: (await r.json()) as Json };
        },
        60_000,
        "the video processed",
      );
      expect(seen[0]).toBe(206);
      expect(done.status).toBe(200);
      expect(done.body).toMatchObject({ id: accepted.id, type: "video", description: "A test pattern" });
      expect(done.body.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/media\//);
      expect(done.body.preview_url).toMatch(/\.webp$/);
      const status = (await (await post()).json()) as Json;
      expect(status.media_attachments).toHaveLength(1);
      expect(status.media_attachments[0]).toMatchObject({ type: "video", description: "A test pattern" });
      expect(filesIn(path.join(dataDir(), "tmp"))).toEqual([]);
    },
    90_000,
  );

  it.runIf(tools !== null)(
    "a video whose processing was cut off (its process gone) is taken up again by the next poll",
    async () => {
      // What a web process killed mid-processing leaves: the file waiting, the job naming a process now gone.
      const clip = path.join(tmp.dir, "cut.mp4");
      execFileSync(tools?.ffmpeg as string, [
        ...["-v", "error", "-f", "lavfi", "-i", "testsrc=size=160x120:rate=10:duration=2"],
        ...["-c:v", "libx264", "-pix_fmt", "yuv420p", "-y", clip],
      ]);
      const waiting = path.join(dataDir(), "tmp", "processing");
      mkdirSync(waiting, { recursive: true });
      const id = "01a24d00-0000-7000-8000-00000000c0de";
      copyFileSync(clip, path.join(waiting, id));
      const dead = spawnSync(process.execPath, ["-e", "0"]).pid as number;
      const db = await openDatabase({ databasePath: path.join(dataDir(), "lectern.sqlite"), databaseUrl: null });
      const kv = new DatabaseKvStore(db);
      await kv.set(["lectern", "api-upload", id], {
        path: path.join(waiting, id),
        filename: "cut.mp4",
        startedAt: Date.now() - 1000,
        pid: dead,
        host: hostname(),
      });
      await db.close();
      const done = await waitFor(
        async () => {
          const r = await fetch(`http://127.0.0.1:${port}/api/v1/media/${id}`, {
            headers: { Authorization: `Bearer ${token}` },
          });
          return r.status === 206 ? undefined : { status: r.status, body: (await r.json()) as Json };
        },
        60_000,
        "the cut-off video processed",
      );
      expect(done.status, JSON.stringify(done.body)).toBe(200);
      expect(done.body).toMatchObject({ id, type: "video" });
      expect(filesIn(waiting)).toEqual([]);
    },
    90_000,
  );

  it("leaves no temporary file of an upload cut off by a SIGKILL, once started again", async () => {
    // An upload that has sent 2 MB of the 50 it announced: on disk, in the server's temporary folder.
    const boundary = "----cut-off";
    const req = http.request({
      host: "127.0.0.1",
      port,
      path: "/api/v2/media",
      method: "POST",
      headers: {
        Authorization: `Bearer ${token}`,
        "Content-Type": `multipart/form-data; boundary=${boundary}`,
        "Content-Length": 50 * 1024 * 1024,
      },
    });
    req.on("error", () => {});
    req.write(
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="long.mp4"\r\nContent-Type: video/mp4\r\n\r\n`,
    );
    req.write(Buffer.alloc(2 * 1024 * 1024, 7));
    const tmpDir = path.join(dataDir(), "tmp");
    await waitFor(() => filesIn(tmpDir).some((f) => f.name.startsWith("upload-")), 10_000, "the upload on disk");
    for (const pid of lectern.pids()) process.kill(pid, "SIGKILL");
    await new Promise((r) => lectern.process.once("exit", r));
    req.destroy();
    expect(filesIn(tmpDir).filter((f) => f.name.startsWith("upload-")).length).toBeGreaterThan(0);
    lectern = await startLecternProcess(env);
    expect(filesIn(tmpDir).filter((f) => f.name.startsWith("upload-"))).toEqual([]);
  }, 60_000);
});
