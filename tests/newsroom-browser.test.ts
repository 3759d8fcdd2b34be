import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import AxeBuilder from "@axe-core/playwright";
import type { Browser, BrowserContext, Page } from "playwright-core";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createStaff } from "../src/product/access/staff.ts";
import { requireApproval } from "../src/product/approval.ts";
import { ingestMedia } from "../src/product/media.ts";
import { getPost } from "../src/product/posts.ts";
import { publishPost } from "../src/product/publish.ts";
import { launchBrowser } from "./helpers/browser.ts";
import { signIn } from "./helpers/desk.ts";
import { startTestLectern, type TestLectern, tempDir, waitFor } from "./helpers/lectern.ts";

const SHOTS = "test-output/screenshots";

// The newsroom's desk in a real Chromium: statements, the undo countdown, approval, attachments in order.
describe("the newsroom desk in a browser", () => {
  let tmp: ReturnType<typeof tempDir>;
  let lectern: TestLectern;
  let browser: Browser;
  let owner: BrowserContext;
  let page: Page;
  const at = (p: string) => new URL(p, lectern.origin).href;
  const feed = async () => await (await fetch(at("/feed.atom"))).text();

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    tmp = tempDir();
    lectern = await startTestLectern(tmp.dir, { env: { LECTERN_UNDO_SECONDS: "30" } });
    browser = await launchBrowser();
    owner = await browser.newContext({ viewport: { width: 1366, height: 900 } });
    const [name, value] = (await signIn(lectern)).split("=");
    await owner.addCookies([{ name, value, url: lectern.origin.origin }]);
    page = await owner.newPage();
  });
  afterAll(async () => {
    await browser?.close();
    await lectern?.stop();
    tmp?.remove();
  });

  it("writes a statement: Enter in the title goes to the text, the countdown runs, Send now publishes it", async () => {
    await page.goto(at("/admin"));
    await page.click("summary:has-text('Statement')");
    await page.fill("#title", "On the harbour's future");
    await page.locator("#title").press("Enter");
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("text");
    expect(page.url()).toBe(at("/admin"));
    await page.fill(
      "#text",
      "We will keep the harbour open to everyone.\n\n## What we decided\n\nThree things.\n\n## What comes next\n\nA vote in spring.",
    );
    await expect(page.locator("#text-count").textContent()).resolves.toMatch(/ \/ 100000$/);
    await Promise.all([page.waitForURL(/notice=held$/), page.click("button[value=publish]")]);
    // Held: "sending in 0:2x", counting down, and nothing public yet.
    const countdown = page.locator("#held-posts [data-send-at]").first();
    await expect(page.locator("#held-posts").textContent()).resolves.toContain("Statement: On the harbour's future");
    const seconds = async () => {
      const m = /sending in (\d+):(\d{2})/.exec((await countdown.textContent()) ?? "");
      return m === null ? Number.NaN : Number(m[1]) * 60 + Number(m[2]);
    };
    const first = await seconds();
    expect(first).toBeGreaterThan(15);
    await page.waitForTimeout(2200);
    expect(await seconds()).toBeLessThan(first);
    expect(await feed()).not.toContain("On the harbour");
    await Promise.all([page.waitForLoadState("load"), page.click("#held-posts form[action$='/send-now'] button")]);
    await waitFor(
      async () => (await feed()).includes("On the harbour&#39;s future"),
      10_000,
      "the statement in the feed",
    );
  });

  it("a statement's page reads well and passes axe at 390 and 1366 px, light and dark", async () => {
    const ctx = lectern.server.lectern.context();
    const statement = await publishPost(ctx, {
      title: "A statement on the new ferry timetable, which starts on Monday",
      text: `${"The new timetable puts a ferry every twenty minutes on the main line. ".repeat(8)}\n\n## Why\n\n- More boats\n- Fewer delays\n\n> Quoted from the council.\n\n### Details\n\nSee the [timetable](https://example.org/timetable).`,
    });
    const found: string[] = [];
    for (const width of [390, 1366]) {
      for (const scheme of ["light", "dark"] as const) {
        const reader = await browser.newContext({ viewport: { width, height: 900 }, colorScheme: scheme });
        const p = await reader.newPage();
        await p.goto(at(`/posts/${statement.id}`));
        await expect(p.locator("h1.title").textContent()).resolves.toBe(
          "A statement on the new ferry timetable, which starts on Monday",
        );
        const wide = await p.evaluate(() => document.documentElement.scrollWidth);
        expect(wide, `statement at ${width} px`).toBeLessThanOrEqual(width);
        const { violations } = await new AxeBuilder({ page: p }).analyze();
        for (const v of violations)
          found.push(`${width} ${scheme}: ${v.id} (${v.impact}) ${v.nodes[0]?.target.join(" ")}`);
        if (scheme === "light") await p.screenshot({ path: `${SHOTS}/statement-${width}.png`, fullPage: true });
        // The home page lists it by its title.
        await p.goto(at("/"));
        await expect(p.locator(`article.statement h2.title a`).first().textContent()).resolves.toContain("ferry");
        await reader.close();
      }
    }
    expect(found).toEqual([]);
  });

  it("moves attachments by keyboard when editing (and without JavaScript); the post keeps the new order", async () => {
    const data = lectern.server.lectern.data;
    const media = [];
    for (const [i, color] of ["#cc2222", "#2222cc", "#22aa22"].entries()) {
      const file = path.join(tmp.dir, `m${i}.png`);
      writeFileSync(
        file,
        await sharp({ create: { width: 90, height: 60, channels: 3, background: color } })
          .png()
          .toBuffer(),
      );
      media.push(await ingestMedia(data, lectern.server.lectern.media, { path: file, filename: `m${i}.png` }));
    }
    const post = await publishPost(lectern.server.lectern.context(), {
      text: "Three pictures in order",
      attachments: media.map((m, i) => ({ mediaId: m.id, alt: ["red", "blue", "green"][i] })),
    });
    const order = () =>
      page.locator("#compose input[name=media]").evaluateAll((els) => els.map((e) => (e as HTMLInputElement).value));
    await page.goto(at(`/admin/posts/${post.id}/edit`));
    // Keyboard only: Tab to the third picture's "earlier" arrow, Enter twice; the focus stays on the arrow.
    const earlier = page.locator("button[aria-label^='Move picture 3 (green) earlier']");
    await earlier.focus();
    await page.keyboard.press("Enter");
    expect(await order()).toEqual([media[0].id, media[2].id, media[1].id]);
    await page.keyboard.press("Enter");
    expect(await order()).toEqual([media[2].id, media[0].id, media[1].id]);
    expect(await page.evaluate(() => document.activeElement?.getAttribute("data-move"))).toBe("down");
    await expect(page.locator("[data-order-status]").textContent()).resolves.toBe("Moved to position 1 of 3.");
    await expect(page.locator(".slot[data-kept] [data-position]").allTextContents()).resolves.toEqual(["1", "2", "3"]);
    // Dragged: the last onto the first.
    // Dragged: the last onto the top half of the first (the browser's drag events, dispatched to the page:
    // headless Chromium here ends a mouse drag at once).
    await page.evaluate(() => {
      const slots = [...document.querySelectorAll<HTMLElement>(".slot[data-kept]")];
      const [target, source] = [slots[0], slots[2]];
      const data = new DataTransfer();
      const box = target.getBoundingClientRect();
      const at = { clientX: box.left + 20, clientY: box.top + 4, dataTransfer: data, bubbles: true, cancelable: true };
      source.dispatchEvent(new DragEvent("dragstart", { dataTransfer: data, bubbles: true }));
      target.dispatchEvent(new DragEvent("dragover", at));
      target.dispatchEvent(new DragEvent("drop", at));
      source.dispatchEvent(new DragEvent("dragend", { dataTransfer: data, bubbles: true }));
    });
    const dragged = await order();
    expect(dragged).toEqual([media[1].id, media[2].id, media[0].id]);
    await Promise.all([page.waitForURL(/notice=edited$/), page.click("button[value=publish]")]);
    const stored = (await getPost(data.db, post.id))?.attachments.map((a) => a.mediaId);
    expect(stored).toEqual(dragged);
    expect(new Set(stored)).toEqual(new Set(media.map((m) => m.id)));

    // Without JavaScript the arrows are buttons of the form: it comes back rearranged, with a preview.
    const plain = await browser.newContext({ javaScriptEnabled: false });
    await plain.addCookies(await owner.cookies());
    const p = await plain.newPage();
    await p.goto(at(`/admin/posts/${post.id}/edit`));
    const before = await p
      .locator("#compose input[name=media]")
      .evaluateAll((els) => els.map((e) => (e as HTMLInputElement).value));
    await Promise.all([p.waitForLoadState("load"), p.click("button[data-move=down] >> nth=0")]);
    const after = await p
      .locator("#compose input[name=media]")
      .evaluateAll((els) => els.map((e) => (e as HTMLInputElement).value));
    expect(after).toEqual([before[1], before[0], before[2]]);
    await expect(p.locator("section.preview").count()).resolves.toBe(1);
    await plain.close();
  });

  it("an editor's post waits for the owner, who approves it in the desk; it then waits out the undo window", async () => {
    const db = lectern.server.lectern.db;
    await createStaff(db, { username: "reporter", role: "editor", password: "the reporter's password" });
    await requireApproval(db, true);
    const desk = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true });
    const editor = await desk.newPage();
    await editor.goto(at("/admin/login"));
    await editor.fill("#username", "reporter");
    await editor.fill("#password", "the reporter's password");
    await Promise.all([editor.waitForURL(/notice=signed-in$/), editor.click("button[type=submit]")]);
    await editor.fill("#text", "The reporter's dispatch from the quay");
    await Promise.all([editor.waitForURL(/notice=awaiting$/), editor.click("button[value=publish]")]);
    await expect(editor.locator("#review").textContent()).resolves.toContain("Waiting for the owner");
    const wide = await editor.evaluate(() => document.documentElement.scrollWidth);
    expect(wide).toBeLessThanOrEqual(390);
    await desk.close();

    await page.goto(at("/admin"));
    const item = page.locator("#review li", { hasText: "dispatch from the quay" });
    await expect(item.textContent()).resolves.toContain("Approve");
    await Promise.all([page.waitForLoadState("load"), item.locator("form[action$='/approve'] button").click()]);
    await expect(page.locator("#held-posts").textContent()).resolves.toContain("dispatch from the quay");
    expect(await feed()).not.toContain("dispatch from the quay");
    await Promise.all([
      page.waitForLoadState("load"),
      page
        .locator("#held-posts li", { hasText: "dispatch from the quay" })
        .locator("form[action$='/undo'] button")
        .click(),
    ]);
    await page.waitForTimeout(500);
    expect(await feed()).not.toContain("dispatch from the quay");
    await requireApproval(db, false);
  });
});
