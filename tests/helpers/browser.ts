import { accessSync, constants, statSync } from "node:fs";
import { type Browser, chromium } from "playwright-core";

/** Debian's Chromium (`apt-get install chromium`) when it is installed and runs. */
const SYSTEM_CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

function runnable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

/**
 * Headless Chromium as this machine allows it: no sandbox (root), no
 * background networking. The system's Chromium when there is one; otherwise
 * the build in the `@sparticuz/chromium` npm package (unpacked into the
 * temporary directory on first use), so a fresh machine needs nothing else.
 */
export async function launchBrowser(): Promise<Browser> {
  let executablePath = SYSTEM_CHROMIUM;
  let extra: string[] = [];
  if (!runnable(SYSTEM_CHROMIUM)) {
    const { default: packaged } = await import("@sparticuz/chromium");
    executablePath = await packaged.executablePath();
    extra = packaged.args.filter((a) => !a.startsWith("--headless") && !a.startsWith("--single-process"));
  }
  return chromium.launch({
    executablePath,
    headless: true,
    args: [
      ...extra,
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--disable-dev-shm-usage",
    ],
  });
}
