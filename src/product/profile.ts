import { InvalidInputError } from "../shared/errors.ts";
import { escapeText, h } from "../shared/markup.ts";
import { bool, json } from "../storage/database.ts";
import { sql } from "../storage/sql.ts";
import type { AppData } from "./context.ts";
import { renderMarkdown } from "./markdown.ts";

export const MAX_FIELDS = 4;
export const MAX_NAME = 100;
export const MAX_BIO = 2000;
export const MAX_FIELD_NAME = 255;
export const MAX_FIELD_VALUE = 2047;

export interface ProfileField {
  name: string;
  value: string;
}

/** The author's profile: what they edited in the desk, else the configuration. */
export interface Profile {
  name: string;
  /** Markdown. */
  summary: string;
  summaryHtml: string;
  bot: boolean;
  fields: ProfileField[];
  avatarMediaId: string | null;
  headerMediaId: string | null;
  approveFollowers: boolean;
  /** Other accounts of the author (`alsoKnownAs`), actor ids: where followers may move from. */
  aliases: string[];
  /** The account this one moved to; set once, by moveAccount. */
  movedTo: string | null;
  updatedAt: number | null;
}

export const MAX_ALIASES = 10;

export class InvalidProfileError extends InvalidInputError {
  override name = "InvalidProfileError";
}

interface ProfileRow {
  name: string | null;
  summary: string | null;
  summaryHtml: string | null;
  bot: unknown;
  fields: unknown;
  avatarMediaId: string | null;
  headerMediaId: string | null;
  approveFollowers: unknown;
  alsoKnownAs: unknown;
  movedTo: string | null;
  updatedAt: number;
}

/** The HTML of a bio not stored rendered (the configuration's), rendered once per text and site. */
const rendered = new Map<string, string>();
function renderedOnce(summary: string, data: AppData): string {
  if (summary === "") return "";
  const key = `${data.urls.origin.href}\n${summary}`;
  let html = rendered.get(key);
  if (html === undefined) {
    html = renderMarkdown(summary, data.urls).html;
    if (rendered.size > 16) rendered.clear();
    rendered.set(key, html);
  }
  return html;
}

export async function getProfile(data: AppData): Promise<Profile> {
  const row = await data.db.get<ProfileRow>(
    sql`SELECT name, summary, summary_html AS "summaryHtml", bot, fields, avatar_media_id AS "avatarMediaId", header_media_id AS "headerMediaId",
          approve_followers AS "approveFollowers", also_known_as AS "alsoKnownAs", moved_to AS "movedTo",
          updated_at AS "updatedAt"
        FROM profile WHERE id = 1`,
  );
  const summary = row?.summary ?? data.config.profile.summary;
  return {
    name: row?.name ?? data.config.profile.name,
    summary,
    // Rendered when saved; a bio from the configuration (or saved by an older version) is rendered once here.
    summaryHtml: row?.summaryHtml ?? renderedOnce(summary, data),
    bot: row?.bot == null ? data.config.profile.type === "Service" : bool(row.bot),
    fields: json<ProfileField[]>(row?.fields, []),
    avatarMediaId: row?.avatarMediaId ?? null,
    headerMediaId: row?.headerMediaId ?? null,
    approveFollowers: row?.approveFollowers == null ? false : bool(row.approveFollowers),
    aliases: json<string[]>(row?.alsoKnownAs, []),
    movedTo: row?.movedTo ?? null,
    updatedAt: row?.updatedAt ?? null,
  };
}

export interface ProfileInput {
  name?: string;
  summary?: string;
  bot?: boolean;
  fields?: ProfileField[];
  avatarMediaId?: string | null;
  headerMediaId?: string | null;
  approveFollowers?: boolean;
  /** Actor ids (resolve handles first: see accounts.ts). */
  aliases?: string[];
}

/** Validates and stores profile changes; returns the new profile. */
export async function updateProfile(data: AppData, input: ProfileInput, now: number = Date.now()): Promise<Profile> {
  const current = await getProfile(data);
  const name = (input.name ?? current.name).trim();
  if (name === "" || [...name].length > MAX_NAME)
    throw new InvalidProfileError(`display name: 1 to ${MAX_NAME} characters`);
  const summary = (input.summary ?? current.summary).replace(/\r\n?/g, "\n").trim();
  if ([...summary].length > MAX_BIO) throw new InvalidProfileError(`bio: at most ${MAX_BIO} characters`);
  const fields = (input.fields ?? current.fields)
    .map((f) => ({ name: f.name.trim(), value: f.value.trim() }))
    .filter((f) => f.name !== "" || f.value !== "");
  if (fields.length > MAX_FIELDS) throw new InvalidProfileError(`fields: at most ${MAX_FIELDS}`);
  if ((input.aliases ?? []).length > MAX_ALIASES)
    throw new InvalidProfileError(`also known as: at most ${MAX_ALIASES} accounts`);
  for (const [i, f] of fields.entries()) {
    if (f.name === "") throw new InvalidProfileError(`field ${i + 1}: a label is needed`);
    if ([...f.name].length > MAX_FIELD_NAME || [...f.value].length > MAX_FIELD_VALUE) {
      throw new InvalidProfileError(`field ${i + 1}: too long`);
    }
  }
  const row = {
    id: 1,
    name,
    summary,
    summaryHtml: summary ? renderMarkdown(summary, data.urls).html : "",
    bot: input.bot ?? current.bot,
    fields,
    avatarMediaId: input.avatarMediaId === undefined ? current.avatarMediaId : input.avatarMediaId,
    headerMediaId: input.headerMediaId === undefined ? current.headerMediaId : input.headerMediaId,
    approveFollowers: input.approveFollowers ?? current.approveFollowers,
    aliases: input.aliases ?? current.aliases,
    updatedAt: now,
  };
  await data.db.transaction(
    (tx) =>
      tx.run(
        sql`INSERT INTO profile (id, name, summary, summary_html, bot, fields, avatar_media_id, header_media_id,
              approve_followers, also_known_as, updated_at)
            VALUES (1, ${row.name}, ${row.summary}, ${row.summaryHtml}, ${row.bot}, ${JSON.stringify(row.fields)},
                    ${row.avatarMediaId}, ${row.headerMediaId}, ${row.approveFollowers}, ${JSON.stringify(row.aliases)},
                    ${row.updatedAt})
            ON CONFLICT (id) DO UPDATE SET name = excluded.name, summary = excluded.summary,
              summary_html = excluded.summary_html, bot = excluded.bot,
              fields = excluded.fields, avatar_media_id = excluded.avatar_media_id, header_media_id = excluded.header_media_id,
              approve_followers = excluded.approve_followers, also_known_as = excluded.also_known_as,
              updated_at = excluded.updated_at`,
      ),
    { durable: true },
  );
  return await getProfile(data);
}

/**
 * A field's value as HTML: a URL becomes a `rel="me"` link (which lets
 * Mastodon verify the site links back), anything else is plain text.
 */
export function fieldValueHtml(value: string): string {
  if (/^https?:\/\/\S+$/.test(value)) {
    try {
      const url = new URL(value);
      const shown = `${url.host}${url.pathname === "/" ? "" : url.pathname}${url.search}`;
      return h("a", { href: url.href, rel: "me nofollow noopener noreferrer", target: "_blank" }, shown).toString();
    } catch {
      // Not a URL after all: shown as text.
    }
  }
  return escapeText(value);
}

/** Records that the account moved to `target` (an actor id). */
export async function setMovedTo(data: AppData, target: string, now: number = Date.now()): Promise<void> {
  await data.db.run(
    sql`INSERT INTO profile (id, moved_to, updated_at) VALUES (1, ${target}, ${now})
        ON CONFLICT (id) DO UPDATE SET moved_to = excluded.moved_to, updated_at = excluded.updated_at`,
  );
}
