import type { Queryable } from "../storage/database.ts";
import { sql } from "../storage/sql.ts";
import { MAX_POST_LENGTH, MAX_SUMMARY_LENGTH } from "./posts.ts";

export interface Draft {
  text: string;
  summary: string;
  updatedAt: number;
}

/** Keeps a staff account's unfinished post (one per account); an empty one is forgotten. */
export async function saveDraft(
  db: Queryable,
  staffId: number,
  draft: { text: string; summary: string },
  now: number = Date.now(),
): Promise<void> {
  const text = draft.text.slice(0, MAX_POST_LENGTH * 2);
  const summary = draft.summary.slice(0, MAX_SUMMARY_LENGTH * 2);
  if (text.trim() === "" && summary.trim() === "") {
    await clearDraft(db, staffId);
    return;
  }
  await db.run(
    sql`INSERT INTO drafts (staff_id, text, summary, updated_at) VALUES (${staffId}, ${text}, ${summary}, ${now})
        ON CONFLICT (staff_id) DO UPDATE SET text = excluded.text, summary = excluded.summary, updated_at = excluded.updated_at`,
  );
}

export async function getDraft(db: Queryable, staffId: number): Promise<Draft | undefined> {
  const row = await db.get<Draft>(
    sql`SELECT text, summary, updated_at AS "updatedAt" FROM drafts WHERE staff_id = ${staffId}`,
  );
  return row === undefined ? undefined : { ...row, updatedAt: Number(row.updatedAt) };
}

export async function clearDraft(db: Queryable, staffId: number): Promise<void> {
  await db.run(sql`DELETE FROM drafts WHERE staff_id = ${staffId}`);
}
