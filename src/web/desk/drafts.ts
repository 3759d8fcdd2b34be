import { saveDraft } from "../../product/drafts.ts";
import type { Desk } from "./desk.tsx";

/** The compose box keeps what is being typed (JSON, the CSRF token in a header; see desk.js). */
export function draftRoutes(desk: Desk): void {
  const { db } = desk.deps.lectern;
  desk.admin.post("/draft", async (c) => {
    const body = (await c.req.json().catch(() => null)) as { text?: unknown; summary?: unknown } | null;
    if (body === null || typeof body.text !== "string") return c.text("Expected {text, summary}", 400);
    await saveDraft(db, c.get("session").staffId, {
      text: body.text,
      summary: typeof body.summary === "string" ? body.summary : "",
    });
    return c.body(null, 204);
  });
}
