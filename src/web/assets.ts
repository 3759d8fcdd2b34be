import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";

/** A static file served with a content-hashed URL and cached forever. */
export interface Asset {
  path: string;
  body: string;
  type: string;
  etag: string;
}

function load(name: string, type: string, file: URL = new URL(`./assets/${name}`, import.meta.url)): Asset {
  const body = readFileSync(file, "utf8");
  const hash = createHash("sha256").update(body).digest("hex").slice(0, 12);
  return { path: `/assets/${hash}/${name}`, body, type, etag: `"${hash}"` };
}

export const STYLE = load("style.css", "text/css; charset=utf-8");
export const SCRIPT = load("desk.js", "text/javascript; charset=utf-8");
/** SimpleWebAuthn's browser library (its self-contained bundle, which sets `window.SimpleWebAuthnBrowser`). */
export const WEBAUTHN = load(
  "webauthn.js",
  "text/javascript; charset=utf-8",
  // The package's exports name only its modules; the bundle sits beside them (…/script/index.js → …/dist/bundle/).
  new URL(
    "../dist/bundle/index.umd.min.js",
    pathToFileURL(createRequire(import.meta.url).resolve("@simplewebauthn/browser")),
  ),
);
export const PASSKEYS = load("passkeys.js", "text/javascript; charset=utf-8");
/** "Notify me" on the public pages. */
export const READERS = load("readers.js", "text/javascript; charset=utf-8");
/** The service worker: served at /sw.js (a worker's scope is its own path's), not under /assets. */
export const SERVICE_WORKER = load("sw.js", "text/javascript; charset=utf-8");
export const ASSETS = [STYLE, SCRIPT, WEBAUTHN, PASSKEYS, READERS];
