import { execFile, execFileSync } from "node:child_process";
import { createReadStream, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import https from "node:https";
import path from "node:path";
import { promisify } from "node:util";
import { createRestAPIClient } from "masto";
import generator from "megalodon";
import sharp from "sharp";
import { Agent, setGlobalDispatcher } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { videoTools } from "../src/product/video-tools.ts";
import { launchBrowser } from "./helpers/browser.ts";
import { runCli } from "./helpers/cli.ts";
import { freePort, tempDir, testEnv } from "./helpers/lectern.ts";
import { type StartedLectern, startLecternProcess } from "./helpers/started.ts";
import { startTlsProxy, type TlsProxy } from "./helpers/tls-proxy.ts";

type Json = Record<string, any>;
const run = promisify(execFile);
const tools = await videoTools();

// Uploads on the server as `npm start` runs it (two web processes and a delivery worker), reached through a
// TLS-terminating proxy as the README's nginx example sets one up (an https origin, plain HTTP behind), and
// straight on its port with a Host that is not the origin's. Each client sends its uploads as it really does.
describe("uploads behind a TLS proxy, on the started server", () => {
  let tmp: ReturnType<typeof tempDir>;
  let proxy: TlsProxy;
  let lectern: StartedLectern;
  let env: Record<string, string>;
  let appPort: number;
  let cookie = "";
  let token = "";
  const at = (p: string) => new URL(p, proxy.origin).href;
  const file = (name: string) => path.join(tmp.dir, name);

  /** The desk's CSRF token, read from a page as a browser would. */
  const csrfOf = async (page: string) => {
    const html = await (await fetch(at(page), { headers: { Cookie: cookie } })).text();
    return /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? "";
  };
  const picture = async (name: string, width: number, height: number, noise = false) => {
    const raw = Buffer.alloc(width * height * 3);
    for (let i = 0; i < raw.length; i++) raw[i] = noise ? (i * 2654435761) >>> 24 : (i % 251) & 0xff;
    await sharp(raw, { raw: { width, height, channels: 3 } })
      .png({ compressionLevel: 0 })
      .toFile(file(name));
    return file(name);
  };

  beforeAll(async () => {
    tmp = tempDir();
    appPort = await freePort();
    proxy = await startTlsProxy(appPort);
    // Every client in this file trusts the proxy's certificate: fetch (undici), masto (fetch), megalodon (axios).
    setGlobalDispatcher(new Agent({ connect: { ca: proxy.cert } }));
    https.globalAgent.options.ca = proxy.cert;
    writeFileSync(file("ca.pem"), proxy.cert);
    env = testEnv(path.join(tmp.dir, "data"), appPort, {
      LECTERN_ORIGIN: proxy.origin.origin,
      LECTERN_TRUSTED_PROXIES: "127.0.0.1",
      LECTERN_WEB_PROCESSES: "2",
      LECTERN_DELIVERY_WORKERS: "1",
    });
    lectern = await startLecternProcess(env);
    expect(lectern.initialPassword).not.toBe("");
    const res = await fetch(at("/admin/login"), {
      method: "POST",
      redirect: "manual",
      headers: { Origin: proxy.origin.origin, "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ username: "owner", password: lectern.initialPassword }),
    });
    cookie = (res.headers.get("set-cookie") ?? "").split(";")[0];
    expect(cookie).toMatch(/^__Host-lectern_session=/);
    const made = await runCli(["staff", "token", "owner"], env);
    expect(made.code, made.stderr).toBe(0);
    token = made.stdout.trim();
  }, 90_000);

  afterAll(async () => {
    await lectern?.stop();
    await proxy?.close();
    tmp?.remove();
  });

  it("sets the avatar from the desk's profile form (fetch with FormData)", async () => {
    const form = new FormData();
    form.set("_csrf", await csrfOf("/admin/profile"));
    form.set("name", "Harbour Office");
    form.set("avatar", new Blob([readFileSync(await picture("avatar.png", 300, 300))]), "avatar.png");
    const res = await fetch(at("/admin/profile"), {
      method: "POST",
      redirect: "manual",
      headers: { Cookie: cookie, Origin: proxy.origin.origin },
      body: form,
    });
    expect(res.status, await res.clone().text()).toBe(303);
    expect(res.headers.get("location")).toBe("/admin/profile?notice=profile");
    const actor = (await (
      await fetch(at("/users/desk"), { headers: { Accept: "application/activity+json" } })
    ).json()) as Json;
    expect(actor.name).toBe("Harbour Office");
    expect(actor.icon?.url).toMatch(/^https:\/\/localhost:\d+\/media\//);
  });

  it("publishes a 5 MB picture from the desk's compose form", async () => {
    const big = await picture("five.png", 1300, 1300, true);
    expect(statSync(big).size).toBeGreaterThan(5_000_000);
    const form = new FormData();
    form.set("_csrf", await csrfOf("/admin"));
    form.set("text", "A large picture, through the proxy");
    form.set("action", "publish");
    form.set("file0", new Blob([readFileSync(big)]), "five.png");
    form.set("newalt0", "Grey noise");
    const res = await fetch(at("/admin/posts"), {
      method: "POST",
      redirect: "manual",
      headers: { Cookie: cookie, Origin: proxy.origin.origin },
      body: form,
    });
    expect(res.status, await res.clone().text()).toBe(303);
    expect(res.headers.get("location")).toMatch(/notice=published$/);
    const outbox = await (await fetch(at("/@desk"))).text();
    expect(outbox).toContain("A large picture, through the proxy");
    expect(outbox).toContain('alt="Grey noise"');
  });

  it("takes curl -F uploads through the proxy, with and without Expect: 100-continue", async () => {
    const img = await picture("curl.png", 1300, 1300, true);
    for (const expectHeader of ["Expect: 100-continue", "Expect:"]) {
      const { stdout } = await run("curl", [
        "-sS",
        "--cacert",
        file("ca.pem"),
        "-H",
        `Authorization: Bearer ${token}`,
        "-H",
        expectHeader,
        "-F",
        `file=@${img}`,
        "-F",
        `description=curl ${expectHeader}`,
        "-w",
        "\n%{http_code}",
        at("/api/v2/media"),
      ]);
      const [body, status] = [stdout.slice(0, stdout.lastIndexOf("\n")), stdout.slice(stdout.lastIndexOf("\n") + 1)];
      expect(status, body).toBe("200");
      expect((JSON.parse(body) as Json).description).toBe(`curl ${expectHeader}`);
    }
  });

  it("takes uploads on the app's own port with a Host that is not the origin's (curl with 100-continue)", async () => {
    const img = await picture("direct.png", 400, 400);
    const { stdout } = await run("curl", [
      "-sS",
      "-H",
      `Authorization: Bearer ${token}`,
      "-H",
      "Expect: 100-continue",
      "-H",
      `Host: 127.0.0.1:${appPort}`,
      "-F",
      `file=@${img}`,
      "-w",
      "\n%{http_code}",
      `http://127.0.0.1:${appPort}/api/v2/media`,
    ]);
    expect(stdout.slice(stdout.lastIndexOf("\n") + 1), stdout).toBe("200");
  });

  it("takes media from masto.js and megalodon, as apps upload them", async () => {
    const masto = createRestAPIClient({ url: proxy.origin.origin, accessToken: token });
    const img = await picture("masto.png", 500, 300);
    const media = await masto.v2.media.create({
      file: new Blob([readFileSync(img)], { type: "image/png" }),
      description: "From masto",
    });
    expect(media.type).toBe("image");
    expect(media.url).toMatch(/^https:\/\/localhost:\d+\/media\//);
    const status = await masto.v1.statuses.create({ status: "Posted by masto with a picture", mediaIds: [media.id] });
    expect(status.mediaAttachments[0].description).toBe("From masto");

    const client = generator("mastodon", proxy.origin.origin, token);
    const uploaded = await client.uploadMedia(createReadStream(await picture("megalodon.png", 320, 200)), {
      description: "From megalodon",
    });
    expect(uploaded.status).toBe(200);
    expect((uploaded.data as Json).description).toBe("From megalodon");
  });

  it("publishes a picture from a real browser's compose form", async () => {
    const browser = await launchBrowser();
    try {
      const context = await browser.newContext({ ignoreHTTPSErrors: true });
      const page = await context.newPage();
      await page.goto(at("/admin/login"));
      await page.fill("#username", "owner");
      await page.fill("#password", lectern.initialPassword);
      await Promise.all([page.waitForURL(/notice=signed-in/), page.click("button[type=submit]")]);
      await page.fill("#text", "From a browser behind the proxy");
      // Through the one "Add pictures or video" control, as a person does.
      await page.setInputFiles("#add-media", await picture("browser.png", 640, 480));
      await page.fill("#newalt-0", "A browser's picture");
      await Promise.all([page.waitForURL(/notice=published$/), page.click("button[value=publish]")]);
      const html = await (await fetch(at("/@desk"))).text();
      expect(html).toContain('alt="A browser&#39;s picture"');
    } finally {
      await browser.close();
    }
  });

  it("a statement with two pictures from the browser; reordered by keyboard, saved as a draft, then published", async () => {
    const browser = await launchBrowser();
    try {
      const context = await browser.newContext({ ignoreHTTPSErrors: true });
      const page = await context.newPage();
      await page.goto(at("/admin/login"));
      await page.fill("#username", "owner");
      await page.fill("#password", lectern.initialPassword);
      await Promise.all([page.waitForURL(/notice=signed-in/), page.click("button[type=submit]")]);
      await page.click("summary:has-text('Statement')");
      await page.fill("#title", "A statement through the proxy");
      await page.fill("#text", "Its first paragraph.\n\n## Pictures\n\n![The first, in place](attachment:1)");
      await page.setInputFiles("#add-media", [await picture("one.png", 320, 200), await picture("two.png", 200, 320)]);
      await page.fill("#newalt-0", "first");
      await page.fill("#newalt-1", "second");
      await Promise.all([page.waitForURL(/notice=published$/), page.click("button[value=publish]")]);
      const id = new URL(page.url()).pathname.split("/")[3];
      const article = async () =>
        (await (await fetch(at(`/posts/${id}`), { headers: { Accept: "application/activity+json" } })).json()) as Json;
      const first = await article();
      expect([first.type, first.name]).toEqual(["Article", "A statement through the proxy"]);
      expect(first.attachment.map((a: Json) => a.name)).toEqual(["first", "second"]);
      expect(first.content).toContain(`<img src="${first.attachment[0].url}" alt="The first, in place"`);

      // Edited by keyboard and kept as a draft (a multipart form through the proxy): nothing changes outside.
      await page.goto(at(`/admin/posts/${id}/edit`));
      await page.locator("button[aria-label^='Move picture 2 (second) earlier']").focus();
      await page.keyboard.press("Enter");
      await Promise.all([page.waitForURL(/notice=edit-draft$/), page.click("button[value=draft]")]);
      expect((await article()).attachment.map((a: Json) => a.name)).toEqual(["first", "second"]);
      // The edit page comes back with the draft; saving it publishes the new order.
      await Promise.all([page.waitForURL(/notice=edited$/), page.click("button[value=publish]")]);
      const edited = await article();
      expect(edited.attachment.map((a: Json) => a.name)).toEqual(["second", "first"]);
      // `attachment:1` is the first in the new order.
      expect(edited.content).toContain(`<img src="${edited.attachment[0].url}" alt="The first, in place"`);
    } finally {
      await browser.close();
    }
  });

  it.runIf(tools !== null)(
    "streams a 90 MB video in through the proxy while every process's memory stays flat",
    async () => {
      const video = file("big.mp4");
      execFileSync(tools?.ffmpeg as string, [
        "-v",
        "error",
        "-f",
        "lavfi",
        "-i",
        "nullsrc=s=640x480:d=8:r=25,geq=random(1)*255:128:128",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-qp",
        "0",
        "-pix_fmt",
        "yuv420p",
        "-y",
        video,
      ]);
      const size = statSync(video).size;
      expect(size).toBeGreaterThan(90_000_000);
      const boundary = "----lectern-test-boundary";
      const head = Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="description"\r\n\r\nForty megabytes\r\n` +
          `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.mp4"\r\nContent-Type: video/mp4\r\n\r\n`,
      );
      const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
      // Compared process by process: the server's own (a tool it starts for the video has no "before").
      const before = lectern.rss();
      let peakGrowth = 0;
      // How much of the upload the server has written to its temporary file so far.
      const uploadOnDisk = () => {
        const dir = path.join(tmp.dir, "data", "tmp");
        return readdirSync(dir)
          .filter((n) => n.startsWith("upload-"))
          .reduce((sum, n) => sum + statSync(path.join(dir, n)).size, 0);
      };
      let onDisk: number | undefined;
      const sample = setInterval(() => {
        for (const [pid, rss] of lectern.rss()) {
          const was = before.get(pid);
          if (was !== undefined) peakGrowth = Math.max(peakGrowth, rss - was);
        }
      }, 20);
      // Sent in 256 KB pieces, as a slow client would: memory is sampled until the last byte has left.
      const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = https.request(
          at("/api/v2/media"),
          {
            method: "POST",
            ca: proxy.cert,
            // A connection of its own: a kept-alive one may be closed by the proxy as the upload begins.
            agent: false,
            headers: {
              Authorization: `Bearer ${token}`,
              "Content-Type": `multipart/form-data; boundary=${boundary}`,
              "Content-Length": head.length + size + tail.length,
            },
          },
          (res) => {
            let body = "";
            res.on("data", (d: Buffer) => {
              body += d;
            });
            res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
          },
        );
        req.on("error", (e) =>
          reject(
            new Error(
              `${e.message}; the proxy saw: ${proxy.errors.join("; ")}; the server said:\n${lectern.output().slice(-3000)}`,
            ),
          ),
        );
        req.write(head);
        const stream = createReadStream(video, { highWaterMark: 256 * 1024 });
        let sent = 0;
        stream.on("data", (chunk) => {
          sent += chunk.length;
          if (onDisk === undefined && sent >= size * 0.75) onDisk = uploadOnDisk();
          if (!req.write(chunk)) stream.pause();
        });
        req.on("drain", () => stream.resume());
        stream.on("end", () => {
          req.end(tail);
          clearInterval(sample);
        });
      });
      clearInterval(sample);
      // Taken in: processed after the answer (202), as Mastodon does for video.
      expect(answer.status, answer.body).toBe(202);
      expect((JSON.parse(answer.body) as Json).type).toBe("video");
      // The body went to a temporary file as it came: with three quarters sent, half was on disk already
      // (the rest in flight: the client's, the proxy's and the kernel's buffers) ...
      expect(onDisk).toBeGreaterThan(size / 2);
      // ... and no process held it: none grew by the upload's size. (What one grows by is the socket's spent
      // buffers, which V8 frees when it next collects: up to its 64 MB external-memory step, whatever the size.)
      expect(peakGrowth).toBeLessThan(size);
    },
    120_000,
  );
});
