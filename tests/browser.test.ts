import { mkdirSync } from "node:fs";
import AxeBuilder from "@axe-core/playwright";
import type { Browser, Page } from "playwright-core";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { publishDelete, publishPost } from "../src/product/publish.ts";
import { launchBrowser } from "./helpers/browser.ts";
import { startTestLectern, type TestLectern, tempDir } from "./helpers/lectern.ts";

const SHOTS = "test-output/screenshots";

// The desk as the author and readers use it, in a real Chromium.
describe("the desk in a browser", () => {
  let tmp: ReturnType<typeof tempDir>;
  let lectern: TestLectern;
  let browser: Browser;
  let page: Page;
  const at = (path: string) => new URL(path, lectern.origin).href;

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    tmp = tempDir();
    lectern = await startTestLectern(tmp.dir, {
      env: { LECTERN_NAME: "Harbour Office", LECTERN_SUMMARY: "Notices from the **harbour master**." },
    });
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
  });

  afterAll(async () => {
    await browser?.close();
    await lectern?.stop();
    tmp?.remove();
  });

  it("refuses a wrong password", async () => {
    await page.goto(at("/admin"));
    expect(page.url()).toBe(at("/admin/login"));
    await page.fill("#username", "owner");
    await page.fill("#password", "not the password");
    const response = await Promise.all([page.waitForNavigation(), page.click("button[type=submit]")]).then(([r]) => r);
    expect(response?.status()).toBe(401);
    await expect(page.locator(".error").textContent()).resolves.toContain("not right");
  });

  it("signs in, publishes a post with a content warning, and shows it on the desk and at its URL", async () => {
    await page.fill("#username", "owner");
    await page.fill("#password", lectern.server.initialPassword as string);
    await Promise.all([page.waitForURL(at("/admin?notice=signed-in")), page.click("button[type=submit]")]);
    const cookie = (await page.context().cookies()).find((c) => c.name === "lectern_session");
    expect(cookie?.httpOnly).toBe(true);
    expect(cookie?.sameSite).toBe("Lax");

    await page.fill("#text", "The **north pier** is closed for repairs until Friday. #harbour");
    await expect(page.locator("#text-count").textContent()).resolves.toBe("63 / 10000");
    // Warning, sensitive and language are folded away until asked for.
    await expect(page.locator("#summary").isVisible()).resolves.toBe(false);
    await page.locator("details.options:has(#summary) > summary").click();
    await page.fill("#summary", "Closures");
    await page.click("button[value=preview]");
    await expect(page.locator("article.post summary").textContent()).resolves.toBe("Closures");
    await page.screenshot({ path: `${SHOTS}/compose.png`, fullPage: true });

    await Promise.all([
      page.waitForURL(/\/admin\/posts\/[0-9a-f-]{36}\?notice=published$/),
      page.click("button[value=publish]"),
    ]);
    const postUrl = await page.locator("main a[href*='/posts/']").first().getAttribute("href");
    expect(postUrl).toMatch(/\/posts\/[0-9a-f-]{36}$/);

    await page.goto(at("/"));
    const article = page.locator("article.post").first();
    await expect(article.locator("summary").textContent()).resolves.toBe("Closures");
    // The warning hides the text until the reader opens it.
    expect(await article.locator(".content").isVisible()).toBe(false);
    await article.locator("summary").click();
    await expect(article.locator(".content").textContent()).resolves.toContain("north pier is closed");
    await page.screenshot({ path: `${SHOTS}/desk.png`, fullPage: true });

    await page.goto(postUrl as string);
    await expect(page.locator("article.post .content").textContent()).resolves.toContain("north pier");
    await expect(page.locator("meta[property='og:title']").getAttribute("content")).resolves.toContain(
      "Harbour Office",
    );
    expect(await page.locator("textarea, form[action*='reply']").count()).toBe(0);
    await page.screenshot({ path: `${SHOTS}/post.png`, fullPage: true });
  });

  it("edits the post, then deletes it: its URL answers 410", async () => {
    await page.goto(at("/admin/posts"));
    await page.click("text=Edit");
    await page.fill("#text", "The **north pier** is open again. #harbour");
    await page.fill("#summary", "");
    await Promise.all([page.waitForURL(/notice=edited$/), page.click("button[value=publish]")]);
    await expect(page.locator("article.post .content").textContent()).resolves.toContain("open again");
    await expect(page.locator("article.post .meta").textContent()).resolves.toContain("edited");
    const postUrl = (await page.locator("main a[href*='/posts/']").first().getAttribute("href")) as string;

    await page.goto(at("/admin/posts"));
    page.once("dialog", (dialog) => void dialog.accept());
    await Promise.all([page.waitForURL(/notice=deleted$/), page.click("button.danger")]);
    const gone = await page.goto(postUrl);
    expect(gone?.status()).toBe(410);
    await page.goto(at("/"));
    await expect(page.locator("main").textContent()).resolves.toContain("Nothing posted yet");
  });

  it("uploads a picture with its description and shows it on the post page", async () => {
    const picture = `${tmp.dir}/harbour.png`;
    await sharp({ create: { width: 800, height: 500, channels: 3, background: "#1f6fb2" } })
      .png()
      .toFile(picture);
    await page.goto(at("/admin"));
    await page.fill("#text", "Today's view of the harbour.");
    // Through the one "Add pictures or video" control, as a person does: the file lands in the first slot,
    // which shows up with its description box (the spare slots stay hidden).
    await page.setInputFiles("#add-media", picture);
    await page.fill("#newalt-0", "Calm blue water under a clear sky");
    // Preview keeps the upload: it comes back as an attached slot with its description.
    await page.click("button[value=preview]");
    await expect(page.locator("#alt-0").inputValue()).resolves.toBe("Calm blue water under a clear sky");
    await Promise.all([page.waitForURL(/notice=published$/), page.click("button[value=publish]")]);
    const postUrl = (await page.locator("main a[href*='/posts/']").first().getAttribute("href")) as string;
    await page.goto(postUrl);
    const img = page.locator("article.post .media img");
    await expect(img.getAttribute("alt")).resolves.toBe("Calm blue water under a clear sky");
    await expect(img.getAttribute("loading")).resolves.toBe("lazy");
    expect(await img.evaluate((el: HTMLImageElement) => el.complete && el.naturalWidth)).toBe(800);
    await expect(page.locator("meta[property='og:image']").getAttribute("content")).resolves.toMatch(
      /\/media\/[0-9a-f]{64}\.png$/,
    );
    await page.screenshot({ path: `${SHOTS}/post-with-picture.png`, fullPage: true });
  });

  it("refuses a form posted without the CSRF token", async () => {
    await page.goto(at("/admin"));
    const status = await page.evaluate(async () => {
      const body = new URLSearchParams({ text: "forged", action: "publish" });
      const res = await fetch("/admin/posts", { method: "POST", body });
      return res.status;
    });
    expect(status).toBe(403);
    const withToken = await page.evaluate(async () => {
      const token = (document.querySelector("input[name=_csrf]") as HTMLInputElement).value;
      const res = await fetch("/admin/posts", {
        method: "POST",
        body: new URLSearchParams({ _csrf: token, text: "real", action: "preview" }),
      });
      return res.status;
    });
    expect(withToken).toBe(200);
  });

  it("reads well on a phone", async () => {
    const phone = await browser.newPage({ viewport: { width: 390, height: 844 }, isMobile: true });
    await phone.goto(at("/"));
    const overflow = await phone.evaluate(
      () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
    );
    expect(overflow).toBeLessThanOrEqual(0);
    await phone.screenshot({ path: `${SHOTS}/desk-phone.png`, fullPage: true });
    await phone.close();
  });

  it("composes like a modern app: focus, paste and drop with thumbnails, a draft, a question about descriptions, Ctrl+Enter, progress", async () => {
    await page.goto(at("/admin"));
    // The text box takes the focus as the page's script starts (on a busy machine, a moment after load).
    await page.waitForFunction(() => document.activeElement?.id === "text", undefined, { timeout: 5000 });
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("text");
    // A draft is kept on the server as it is typed: another browser signed in as the same account finds it.
    await Promise.all([
      page.waitForResponse((r) => r.url().endsWith("/admin/draft") && r.status() === 204),
      page.fill("#text", "Two pictures of the harbour, added the quick way."),
    ]);
    const elsewhere = await browser.newContext();
    await elsewhere.addCookies(await page.context().cookies());
    const other = await elsewhere.newPage();
    await other.goto(at("/admin"));
    await expect(other.inputValue("#text")).resolves.toBe("Two pictures of the harbour, added the quick way.");
    await elsewhere.close();
    await page.reload();
    await expect(page.inputValue("#text")).resolves.toBe("Two pictures of the harbour, added the quick way.");
    const png = async (color: string) =>
      (
        await sharp({ create: { width: 120, height: 80, channels: 3, background: color } })
          .png()
          .toBuffer()
      ).toString("base64");
    const [one, two] = [await png("#aa3311"), await png("#1133aa")];
    // Pasted, then dropped: each gets a thumbnail and its description box.
    await page.evaluate(
      ([a, b]) => {
        const file = (b64: string, name: string) =>
          new File([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))], name, { type: "image/png" });
        const form = document.getElementById("compose") as HTMLFormElement;
        const pasted = new DataTransfer();
        pasted.items.add(file(a, "red.png"));
        form
          .querySelector("#text")
          ?.dispatchEvent(new ClipboardEvent("paste", { clipboardData: pasted, bubbles: true }));
        const dropped = new DataTransfer();
        dropped.items.add(file(b, "blue.png"));
        form.dispatchEvent(new DragEvent("drop", { dataTransfer: dropped, bubbles: true, cancelable: true }));
      },
      [one, two],
    );
    await expect(page.locator("#compose .slot img.thumb").count()).resolves.toBe(2);
    // The thumbnails show the pictures (the page's CSP lets blob: images in), and the spare slots stay hidden.
    await page.waitForFunction(() =>
      [...document.querySelectorAll<HTMLImageElement>("#compose .slot img.thumb")].every(
        (img) => img.complete && img.naturalWidth > 0,
      ),
    );
    await expect(page.locator("#compose .slot:visible").count()).resolves.toBe(2);
    // Publishing with a picture undescribed asks first; saying no keeps everything.
    let asked = "";
    page.once("dialog", (d) => {
      asked = d.message();
      void d.dismiss();
    });
    await page.locator("#text").press("Control+Enter");
    expect(asked).toContain("without a description");
    expect(page.url()).toBe(at("/admin"));
    // The focal point, by a click on the thumbnail: its top-left quarter.
    const thumb = page.locator("#compose .slot img.thumb").first();
    const box = (await thumb.boundingBox()) as { x: number; y: number; width: number; height: number };
    await page.mouse.click(box.x + box.width * 0.25, box.y + box.height * 0.25);
    const [fx, fy] = (await page.inputValue("#newfocus-0")).split(",").map(Number);
    expect(Math.abs(fx + 0.5)).toBeLessThan(0.05);
    expect(Math.abs(fy - 0.5)).toBeLessThan(0.05);
    await page.fill("#newalt-0", "Red boats at the quay");
    await page.fill("#newalt-1", "The blue harbour office");
    // The upload goes with a progress bar (the answer held back a moment to see it).
    await page.route("**/admin/posts", async (route) => {
      await new Promise((r) => setTimeout(r, 400));
      await route.continue();
    });
    await page.locator("#text").press("Control+Enter");
    await expect(page.locator("#upload-progress").isVisible()).resolves.toBe(true);
    await page.waitForURL(/notice=published$/);
    await page.unroute("**/admin/posts");
    await expect(page.locator("main article img").count()).resolves.toBe(2);
    await expect(page.locator("main article img").first().getAttribute("alt")).resolves.toBe("Red boats at the quay");
    // Published: the draft is gone.
    await page.goto(at("/admin"));
    await expect(page.inputValue("#text")).resolves.toBe("");
  });

  it("has no accessibility violations axe-core can find, light and dark", async () => {
    await page.goto(at("/admin/posts"));
    const post = (await page.locator("main a[href*='/posts/']").first().getAttribute("href")) as string;
    // A deleted post's page (410) too.
    const ctx = lectern.server.lectern.context();
    const doomed = await publishPost(ctx, { text: "Here and gone" });
    await publishDelete(ctx, doomed.id);
    const pages = [
      "/",
      `/posts/${doomed.id}`,
      post,
      "/tags/harbour",
      "/no/such/page",
      "/admin",
      "/admin/posts",
      "/admin/security",
      "/admin/staff",
      "/admin/followers",
      "/admin/blocks",
      "/admin/audit",
      "/admin/profile",
    ];
    // axe-core wants pages of a context of their own: one signed in (the same cookie), one not.
    const signedIn = await browser.newContext();
    await signedIn.addCookies(await page.context().cookies());
    const author = await signedIn.newPage();
    const strangers = await browser.newContext();
    const anonymous = await strangers.newPage();
    const found: string[] = [];
    for (const scheme of ["light", "dark"] as const) {
      // Dark mode changes only colours: checked on a public, a post, a desk and the sign-in page.
      const shown = scheme === "light" ? pages : ["/", post, "/admin"];
      for (const [p, path] of [...shown.map((x) => [author, x] as const), [anonymous, "/admin/login"] as const]) {
        await p.emulateMedia({ colorScheme: scheme });
        await p.goto(at(path));
        const { violations } = await new AxeBuilder({ page: p }).analyze();
        for (const v of violations)
          found.push(
            `${scheme} ${path}: ${v.id} (${v.nodes.length}) ${v.nodes[0]?.target.join(" ")} ${v.nodes[0]?.failureSummary?.split("\n")[1] ?? ""}`,
          );
      }
    }
    await signedIn.close();
    await strangers.close();
    expect(found).toEqual([]);
  });

  it("fits a phone (390 px) and a laptop (1366 px): no public or desk page is wider than the window", async () => {
    const pages = [
      "/",
      "/tags/harbour",
      "/no/such/page",
      "/follow?server=not%20a%20server",
      "/admin",
      "/admin/posts",
      "/admin/profile",
      "/admin/followers",
      "/admin/blocks",
      "/admin/audience",
      "/admin/security",
      "/admin/staff",
      "/admin/audit",
    ];
    await page.goto(at("/admin/posts"));
    const post = await page.locator("main a[href*='/posts/']").first().getAttribute("href");
    if (post) pages.push(post, `${post}/edit`);
    for (const width of [390, 1366]) {
      await page.setViewportSize({ width, height: 800 });
      for (const path of pages) {
        await page.goto(at(path));
        const wide = await page.evaluate(() => document.documentElement.scrollWidth);
        expect(wide, `${path} at ${width} px`).toBeLessThanOrEqual(width);
      }
    }
    await page.setViewportSize({ width: 1100, height: 900 });
  });
});
