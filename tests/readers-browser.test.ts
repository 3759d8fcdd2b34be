import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { publishPost } from "../src/product/publish.ts";
import { pushJob } from "../src/readers/jobs.ts";
import { launchBrowser } from "./helpers/browser.ts";
import { startTestLectern, type TestLectern, tempDir, waitFor } from "./helpers/lectern.ts";

// "Notify me" in a real Chromium: the page registers the service worker and offers the manifest, and a push
// built as the worker builds it, delivered to that service worker (Chrome DevTools Protocol), is shown as a
// notification with the post's text, which opens the post.
describe("Web Push in a browser", () => {
  let tmp: ReturnType<typeof tempDir>;
  let lectern: TestLectern;
  let browser: Browser;

  beforeAll(async () => {
    tmp = tempDir();
    lectern = await startTestLectern(tmp.dir, { env: { LECTERN_NAME: "Harbour Office" } });
    browser = await launchBrowser();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await lectern?.stop();
    tmp?.remove();
  });

  it("registers the service worker, loads the manifest, and shows a pushed post as a notification", async () => {
    const origin = lectern.origin.origin;
    const context = await browser.newContext();
    await context.grantPermissions(["notifications"], { origin });
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    await cdp.send("ServiceWorker.enable");
    const registrations: { registrationId: string; scopeURL: string }[] = [];
    cdp.on("ServiceWorker.workerRegistrationUpdated", (e) => registrations.push(...e.registrations));
    await page.goto(`${origin}/`);
    // The button shows where the browser can do push.
    await page.locator("[data-notify] button").waitFor({ state: "visible" });
    const scope = await page.evaluate(async () => (await navigator.serviceWorker.ready).scope);
    expect(scope).toBe(`${origin}/`);
    const manifest = await page.evaluate(async () => {
      const link = document.querySelector('link[rel="manifest"]') as HTMLLinkElement;
      return (await fetch(link.href)).json();
    });
    expect(manifest).toMatchObject({ name: "Harbour Office", display: "standalone", scope: "/" });
    const registration = await waitFor(
      () => registrations.find((r) => r.scopeURL === `${origin}/`),
      10_000,
      "registration",
    );

    // A post, and the push the worker would send for it.
    const post = await publishPost(lectern.server.lectern.context(), { text: "The ferry runs again from Monday." });
    const job = await pushJob(
      lectern.server.lectern.data,
      {
        id: 1,
        partition: 0,
        host: "push",
        dueAt: 0,
        sentThrough: 0,
        attempts: 0,
        endpoint: "https://push.example/x",
        p256dh: "k",
        auth: "a",
      },
      async () => [{ ...post, queuedAt: Date.now() }],
    );
    // Headless Chromium keeps notifications denied whatever is granted (Notification.permission is "denied"), so
    // the worker's showNotification is watched from inside the worker: the push event, the worker's own code
    // and what it asks the browser to show are all real.
    const sw = context.serviceWorkers()[0] ?? (await context.waitForEvent("serviceworker"));
    await sw.evaluate(() => {
      const scope = self as unknown as {
        shown: unknown[];
        registration: { showNotification: (title: string, options: unknown) => Promise<void> };
      };
      scope.shown = [];
      scope.registration.showNotification = async (title, options) => {
        scope.shown.push({ title, ...(options as object) });
      };
    });
    await cdp.send("ServiceWorker.deliverPushMessage", {
      origin,
      registrationId: registration.registrationId,
      data: job.push?.payload as string,
    });
    const shown = await waitFor(
      async () => {
        const list = (await sw.evaluate(() => (self as unknown as { shown: unknown[] }).shown)) as Record<
          string,
          unknown
        >[];
        return list.length > 0 ? list : undefined;
      },
      10_000,
      "the notification",
    );
    expect(shown[0]).toMatchObject({
      title: "Harbour Office",
      body: "The ferry runs again from Monday.",
      data: { url: lectern.server.lectern.data.urls.post(post.id).href },
    });
    await context.close();
  }, 60_000);
});
