// Which compression the origin can afford: brotli (qualities 4, 5, 11) and gzip (6) on pages
// Lectern serves (a desk page, an outbox page, a Note), time per compression and size, in this
// process. Lectern compresses each public response once per version and keeps the result, so the
// cost is paid per change, not per request.   npm run bench:compression
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";
import { publishPost } from "../src/product/publish.ts";
import { loadConfig } from "../src/shared/config.ts";
import { startServer } from "../src/start/server.ts";
import { freePort } from "../tests/helpers/net.ts";

const dir = mkdtempSync(path.join(tmpdir(), "lectern-compression-"));
const config = loadConfig({
  env: {
    LECTERN_DATA_DIR: dir,
    PORT: String(await freePort()),
    LECTERN_LOG_LEVEL: "error",
    LECTERN_WEB_PROCESSES: "1",
    LECTERN_DELIVERY_WORKERS: "1",
  },
  cwd: dir,
});
const server = await startServer(config);
let last = "";
for (let i = 0; i < 25; i++)
  last = (
    await publishPost(server.lectern.context(), {
      text: `Post ${i}: **news** of the day, with a few more words to read. #bench`,
    })
  ).id;
const base = server.url;
const pages: [string, string, string][] = [
  ["desk page", "/", "text/html"],
  ["outbox page", "/users/desk/outbox?cursor=newest", "application/activity+json"],
  ["Note", `/posts/${last}`, "application/activity+json"],
];
const time = (f: () => Buffer, n: number) => {
  const start = process.hrtime.bigint();
  let out: Buffer = Buffer.alloc(0);
  for (let i = 0; i < n; i++) out = f();
  return { us: Number(process.hrtime.bigint() - start) / 1000 / n, size: out.length };
};
console.log("page          bytes | br q4 µs/size | br q5 µs/size | br q11 µs/size | gzip 6 µs/size");
for (const [name, p, accept] of pages) {
  const body = Buffer.from(await (await fetch(new URL(p, base), { headers: { accept } })).arrayBuffer());
  const br = (q: number) => () =>
    brotliCompressSync(body, {
      params: { [constants.BROTLI_PARAM_QUALITY]: q, [constants.BROTLI_PARAM_SIZE_HINT]: body.length },
    });
  const cells = [time(br(4), 200), time(br(5), 200), time(br(11), 20), time(() => gzipSync(body, { level: 6 }), 200)];
  console.log(
    `${name.padEnd(12)} ${String(body.length).padStart(6)} | ${cells.map((c) => `${Math.round(c.us)}/${c.size}`.padStart(13)).join(" | ")}`,
  );
}
await server.close();
rmSync(dir, { recursive: true, force: true });
