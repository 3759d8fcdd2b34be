import { col, columns } from "../storage/columns.ts";
import type { Queryable } from "../storage/database.ts";
import { sql } from "../storage/sql.ts";
import type { Attachment } from "./post.ts";
import { MAX_STATEMENT_LENGTH, MAX_SUMMARY_LENGTH, MAX_TITLE_LENGTH, type PostInput } from "./posts.ts";

/*
 * Changes to a published post kept as a draft (the desk's "Save as draft" on
 * the edit page): stored, shown only on that page, sent nowhere. Publishing
 * the edit (or deleting the post) ends the draft. The text is not checked
 * here beyond its size: a draft may be unfinished; the edit is checked when
 * it is published. Its pictures count as in use, so none is swept away.
 */

export interface EditDraft {
  postId: string;
  staffId: number | null;
  title: string;
  text: string;
  summary: string;
  sensitive: boolean;
  language: string;
  attachments: Attachment[];
  updatedAt: number;
}

const DRAFT = columns<EditDraft>({
  postId: col.text("post_id"),
  staffId: col.numberOrNull("staff_id"),
  title: { column: "title", decode: (v) => (typeof v === "string" ? v : "") },
  text: col.text("source"),
  summary: { column: "summary", decode: (v) => (typeof v === "string" ? v : "") },
  sensitive: col.bool("sensitive"),
  language: col.text("language"),
  attachments: col.json<Attachment[]>([])("attachments"),
  updatedAt: col.number("updated_at"),
});

/** Keeps the changes (one draft per post, the last saved wins). */
export async function saveEditDraft(
  db: Queryable,
  postId: string,
  staffId: number | null,
  input: PostInput,
  now: number = Date.now(),
): Promise<void> {
  const text = input.text.slice(0, MAX_STATEMENT_LENGTH);
  const title = input.title?.slice(0, MAX_TITLE_LENGTH) || null;
  const summary = input.summary?.slice(0, MAX_SUMMARY_LENGTH) || null;
  const attachments = JSON.stringify(input.attachments ?? []);
  const language = input.language?.slice(0, 40) ?? "";
  await db.run(
    sql`INSERT INTO edit_drafts (post_id, staff_id, title, source, summary, sensitive, language, attachments, updated_at)
        VALUES (${postId}, ${staffId}, ${title}, ${text}, ${summary}, ${input.sensitive ?? false}, ${language},
                ${attachments}, ${now})
        ON CONFLICT (post_id) DO UPDATE SET staff_id = excluded.staff_id, title = excluded.title,
          source = excluded.source, summary = excluded.summary, sensitive = excluded.sensitive,
          language = excluded.language, attachments = excluded.attachments, updated_at = excluded.updated_at`,
  );
}

export async function getEditDraft(db: Queryable, postId: string): Promise<EditDraft | undefined> {
  const row = await db.get(sql`SELECT ${DRAFT.select} FROM edit_drafts WHERE post_id = ${postId}`);
  return row === undefined ? undefined : DRAFT.decode(row);
}

/** Drafts of changes, the latest first, with who saved each (one person's, or everyone's). */
export async function listEditDrafts(
  db: Queryable,
  staffId?: number,
): Promise<(EditDraft & { username: string | null })[]> {
  const mine = staffId === undefined ? sql.empty : sql` WHERE d.staff_id = ${staffId}`;
  const rows = await db.all(
    sql`SELECT ${DRAFT.select}, (SELECT username FROM staff s WHERE s.id = d.staff_id) AS username
        FROM edit_drafts d${mine} ORDER BY d.updated_at DESC LIMIT 50`,
  );
  return rows.map((r) => ({ ...DRAFT.decode(r), username: typeof r.username === "string" ? r.username : null }));
}

/** Forgets a post's draft of changes; true when there was one. */
export async function discardEditDraft(db: Queryable, postId: string): Promise<boolean> {
  return (await db.run(sql`DELETE FROM edit_drafts WHERE post_id = ${postId}`)) > 0;
}
