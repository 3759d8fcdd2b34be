import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { ingestMedia } from "../product/media.ts";
import { getLivePost, PostNotFoundError } from "../product/posts.ts";
import { publishDelete, publishEdit } from "../product/publish.ts";
import { submitPost } from "../product/undo.ts";
import type { Config } from "../shared/config.ts";
import { UUID_PATTERN } from "../shared/ids.ts";
import { Urls } from "../shared/urls.ts";
import { UsageError, withLectern } from "./common.ts";

/* The CLI's commands that write: `post` (a post, or with --title a statement), `edit`, `delete`. */

/** A post's URL (or bare id) → its id; it must be one of ours. */
export function postIdFrom(arg: string | undefined, origin: URL): string {
  if (arg === undefined) throw new UsageError("give the post's URL");
  if (UUID_PATTERN.test(arg)) return arg;
  const urls = new Urls(origin, "_");
  const id = urls.parsePost(arg);
  if (id === null) throw new UsageError(`not a post of this server (${origin.origin}/posts/…): ${arg}`);
  return id;
}

/** What `post` and `edit` both take: the text and what goes with it. */
const WRITING = {
  text: { type: "string" },
  title: { type: "string" },
  summary: { type: "string" },
  sensitive: { type: "boolean" },
  language: { type: "string" },
} as const;

/** `post` */
export async function post(config: Config, rest: string[], _command: string): Promise<number> {
  const { values } = parseArgs({
    args: rest,
    options: {
      ...WRITING,
      media: { type: "string", multiple: true },
      alt: { type: "string", multiple: true },
      "reply-to": { type: "string" },
    },
  });
  const files = values.media ?? [];
  if (values.text === undefined && files.length === 0) {
    throw new UsageError("post: --text is required (use --text - to read standard input), or at least one --media");
  }
  if ((values.alt ?? []).length > files.length) throw new UsageError("post: more --alt than --media");
  if ((values.alt ?? []).filter((a) => a.trim() !== "").length < files.length)
    console.error("Warning: a picture or video without --alt has no description for people who cannot see it.");
  const text = values.text === "-" ? readFileSync(0, "utf8") : (values.text ?? "");
  await withLectern(config, async (lectern) => {
    const ctx = lectern.context();
    const attachments = [];
    for (const [i, file] of files.entries()) {
      if (!existsSync(file)) throw new UsageError(`post: no such file: ${file}`);
      const m = await ingestMedia(lectern.data, lectern.media, { path: file, filename: path.basename(file) });
      attachments.push({ mediaId: m.id, alt: values.alt?.[i] ?? "" });
    }
    const { post, sendAt } = await submitPost(ctx, {
      inReplyTo: values["reply-to"] === undefined ? null : postIdFrom(values["reply-to"], config.origin),
      text,
      title: values.title,
      summary: values.summary,
      sensitive: values.sensitive,
      language: values.language,
      attachments,
    });
    // The URL (for people and scripts) ends with the post's id; `undo`, `send-now`, `edit` take either.
    console.log(ctx.data.urls.post(post.id).href);
    if (sendAt !== null)
      console.error(
        `Held until ${new Date(sendAt).toISOString()} (publish.undo_seconds); to take it back: npm run -s lectern -- undo ${post.id}`,
      );
  });
  return 0;
}

/** `edit` */
export async function edit(config: Config, rest: string[], _command: string): Promise<number> {
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    allowNegative: true,
    options: WRITING,
  });
  const id = postIdFrom(positionals[0], config.origin);
  const given = (["text", "title", "summary", "sensitive", "language"] as const).filter((k) => values[k] !== undefined);
  if (given.length === 0)
    throw new UsageError("edit: nothing to change (give --text, --title, --summary, --[no-]sensitive or --language)");
  const text = values.text === "-" ? readFileSync(0, "utf8") : values.text;
  await withLectern(config, async (lectern) => {
    const ctx = lectern.context();
    // Only what is given changes: an edit of the text keeps the content warning, the flag, the language.
    const post = await getLivePost(lectern.db, id);
    if (post === undefined) throw new PostNotFoundError(id);
    await publishEdit(ctx, id, {
      text: text ?? post.source,
      title: values.title === undefined ? post.title : values.title,
      summary: values.summary === undefined ? post.summary : values.summary,
      sensitive: values.sensitive ?? post.sensitive,
      language: values.language ?? post.language,
    });
    const names = {
      text: "text",
      title: "title",
      summary: "content warning",
      sensitive: "sensitive flag",
      language: "language",
    };
    console.log(`Changed the ${given.map((k) => names[k]).join(", ")} of ${ctx.data.urls.post(id).href}`);
  });
  return 0;
}

/** `delete` */
export async function remove(config: Config, rest: string[], _command: string): Promise<number> {
  const { positionals } = parseArgs({ args: rest, allowPositionals: true, options: {} });
  const id = postIdFrom(positionals[0], config.origin);
  await withLectern(config, async (lectern) => {
    if (!(await publishDelete(lectern.context(), id))) throw new PostNotFoundError(id);
    console.log(`Deleted ${lectern.data.urls.post(id).href}`);
  });
  return 0;
}
