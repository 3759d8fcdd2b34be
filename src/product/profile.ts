import { eq } from "drizzle-orm";
import type { AppData } from "../context.ts";
import { durably } from "../storage/db.ts";
import { profile } from "../storage/schema.ts";
import { escapeHtml, renderMarkdown } from "./markdown.ts";

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
  updatedAt: number | null;
}

export class InvalidProfileError extends Error {
  override name = "InvalidProfileError";
}

export function getProfile(data: AppData): Profile {
  const row = data.db.select().from(profile).where(eq(profile.id, 1)).get();
  const summary = row?.summary ?? data.config.profile.summary;
  return {
    name: row?.name ?? data.config.profile.name,
    summary,
    summaryHtml: summary ? renderMarkdown(summary, data.config.origin).html : "",
    bot: row?.bot ?? data.config.profile.type === "Service",
    fields: row?.fields ?? [],
    avatarMediaId: row?.avatarMediaId ?? null,
    headerMediaId: row?.headerMediaId ?? null,
    approveFollowers: row?.approveFollowers ?? false,
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
}

/** Validates and stores profile changes; returns the new profile. */
export function updateProfile(data: AppData, input: ProfileInput, now: number = Date.now()): Profile {
  const current = getProfile(data);
  const name = (input.name ?? current.name).trim();
  if (name === "" || [...name].length > MAX_NAME)
    throw new InvalidProfileError(`display name: 1 to ${MAX_NAME} characters`);
  const summary = (input.summary ?? current.summary).replace(/\r\n?/g, "\n").trim();
  if ([...summary].length > MAX_BIO) throw new InvalidProfileError(`bio: at most ${MAX_BIO} characters`);
  const fields = (input.fields ?? current.fields)
    .map((f) => ({ name: f.name.trim(), value: f.value.trim() }))
    .filter((f) => f.name !== "" || f.value !== "");
  if (fields.length > MAX_FIELDS) throw new InvalidProfileError(`fields: at most ${MAX_FIELDS}`);
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
    bot: input.bot ?? current.bot,
    fields,
    avatarMediaId: input.avatarMediaId === undefined ? current.avatarMediaId : input.avatarMediaId,
    headerMediaId: input.headerMediaId === undefined ? current.headerMediaId : input.headerMediaId,
    approveFollowers: input.approveFollowers ?? current.approveFollowers,
    updatedAt: now,
  };
  durably(data.db, () =>
    data.db.insert(profile).values(row).onConflictDoUpdate({ target: profile.id, set: row }).run(),
  );
  return getProfile(data);
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
      return `<a href="${escapeHtml(url.href)}" rel="me nofollow noopener noreferrer" target="_blank">${escapeHtml(shown)}</a>`;
    } catch {
      // Not a URL after all: shown as text.
    }
  }
  return escapeHtml(value);
}
