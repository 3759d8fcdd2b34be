/**
 * Lets Node load the views, which are `.tsx` (Hono JSX components): Node strips
 * TypeScript types by itself but does not compile JSX, so esbuild does that for
 * `.tsx` files only, the way tsconfig.json says (automatic runtime, hono/jsx).
 * The entry points (main.ts, cli.ts) import this first and load the rest with
 * `import()`, since a static import graph is loaded before any of it runs.
 * Vitest compiles `.tsx` itself from the same tsconfig.json.
 */
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { createRequire, enableCompileCache, registerHooks } from "node:module";
import path from "node:path";
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

// V8's compiled code (and Node's type-stripped sources) kept on disk between starts: a CLI command or a
// server process starts in half the time. In the OS's temporary folder; safe to delete.
enableCompileCache();

/** Where compiled views are kept (beside the dependencies; deleting it is safe). */
const CACHE = fileURLToPath(new URL("../node_modules/.cache/lectern-tsx/", import.meta.url));

const REGISTERED = Symbol.for("lectern.tsx-hooks");
const state = globalThis as { [REGISTERED]?: true };

if (!state[REGISTERED]) {
  state[REGISTERED] = true;
  registerHooks({
    load(url, context, nextLoad) {
      if (!url.startsWith("file:") || !url.endsWith(".tsx")) return nextLoad(url, context);
      const file = fileURLToPath(url);
      const source = readFileSync(file, "utf8");
      // Compiled once per content: later starts read the result instead of running esbuild again.
      const cached = path.join(
        CACHE,
        `${createHash("sha256").update(file).update("\0").update(source).digest("hex")}.js`,
      );
      try {
        return { format: "module", source: readFileSync(cached, "utf8"), shortCircuit: true };
      } catch {}
      const { code } = esbuild()(source, {
        loader: "tsx",
        format: "esm",
        jsx: "automatic",
        jsxImportSource: "hono/jsx",
        sourcefile: file,
        sourcemap: "inline",
        target: "es2024",
      });
      try {
        mkdirSync(CACHE, { recursive: true });
        const temporary = `${cached}.${process.pid}`;
        writeFileSync(temporary, code);
        renameSync(temporary, cached);
      } catch {
        // A read-only installation: compiled each time, as before.
      }
      return { format: "module", source: code, shortCircuit: true };
    },
  });
}
