import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";

/** A static file served with a content-hashed URL and cached forever. */
export interface Asset {
  path: string;
  body: string;
  type: string;
  etag: string;
}

function load(name: string, type: string): Asset {
  const body = readFileSync(new URL(`./assets/${name}`, import.meta.url), "utf8");
  const hash = createHash("sha256").update(body).digest("hex").slice(0, 12);
  return { path: `/assets/${hash}/${name}`, body, type, etag: `"${hash}"` };
}

export const STYLE = load("style.css", "text/css; charset=utf-8");
export const SCRIPT = load("desk.js", "text/javascript; charset=utf-8");
export const ASSETS = [STYLE, SCRIPT];
