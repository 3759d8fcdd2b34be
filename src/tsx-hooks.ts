/**
 * Lets Node load the views, which are `.tsx` (Hono JSX components): Node strips
 * TypeScript types by itself but does not compile JSX, so esbuild does that for
 * `.tsx` files only, the way tsconfig.json says (automatic runtime, hono/jsx).
 * The entry points (main.ts, cli.ts) import this first and load the rest with
 * `import()`, since a static import graph is loaded before any of it runs.
 * Vitest compiles `.tsx` itself from the same tsconfig.json.
 */
import { readFileSync } from "node:fs";
import { createRequire, registerHooks } from "node:module";
import { fileURLToPath } from "node:url";

type Transform = typeof import("esbuild").transformSync;
let transformSync: Transform | undefined;

/**
 * esbuild, loaded on the first `.tsx` file. Its synchronous API would keep a
 * worker thread and an esbuild process alive for the life of the server;
 * without worker threads it runs one short esbuild process per file instead,
 * and nothing stays behind once the views are loaded.
 */
function esbuild(): Transform {
  if (transformSync === undefined) {
    const before = process.env.ESBUILD_WORKER_THREADS;
    process.env.ESBUILD_WORKER_THREADS = "0";
    try {
      transformSync = (createRequire(import.meta.url)("esbuild") as typeof import("esbuild")).transformSync;
    } finally {
      if (before === undefined) delete process.env.ESBUILD_WORKER_THREADS;
      else process.env.ESBUILD_WORKER_THREADS = before;
    }
  }
  return transformSync;
}

const REGISTERED = Symbol.for("lectern.tsx-hooks");
const state = globalThis as { [REGISTERED]?: true };

if (!state[REGISTERED]) {
  state[REGISTERED] = true;
  registerHooks({
    load(url, context, nextLoad) {
      if (!url.startsWith("file:") || !url.endsWith(".tsx")) return nextLoad(url, context);
      const file = fileURLToPath(url);
      const { code } = esbuild()(readFileSync(file, "utf8"), {
        loader: "tsx",
        format: "esm",
        jsx: "automatic",
        jsxImportSource: "hono/jsx",
        sourcefile: file,
        sourcemap: "inline",
        target: "es2024",
      });
      return { format: "module", source: code, shortCircuit: true };
    },
  });
}
