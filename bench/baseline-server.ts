// The baseline of bench/read: a bare Hono handler returning the same bytes from memory.
import { readFileSync } from "node:fs";
import { serve } from "@hono/node-server";
import { Hono } from "hono";

const captured = JSON.parse(readFileSync(process.argv[2], "utf8")) as Record<string, { type: string; body: string }>;
const app = new Hono();
app.get("*", (c) => {
  // Keyed as bench/read captured them: the Accept header and the path with its query.
  const hit = captured[`${c.req.header("accept")}\n${c.req.path}${new URL(c.req.url).search}`];
  if (hit === undefined) return c.notFound();
  return c.body(hit.body, 200, { "Content-Type": hit.type });
});
serve({ fetch: app.fetch, port: Number(process.argv[3]), hostname: "127.0.0.1" }, () => process.send?.("ready"));
