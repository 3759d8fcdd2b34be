/**
 * The one place text becomes markup outside the JSX views (which escape by
 * construction with hono/jsx): the HTML fragments stored with posts and the
 * profile (hashtag links, profile-field links), the HTML inside feed items,
 * and the feeds' XML. Text and attribute values are always escaped; only
 * `Markup` — built here, or HTML already sanitized and wrapped with
 * `trusted` — goes in as it is. Its inverse, `htmlToText`, is here too.
 */
import { decodeHTML } from "entities";

/** Markup that is safe to embed: built by `h`/`x`, or sanitized HTML vouched for with `trusted`. */
export class Markup {
  readonly #text: string;
  constructor(text: string) {
    this.#text = text;
  }
  toString(): string {
    return this.#text;
  }
}

/** HTML that is already safe (sanitized post content, a profile's rendered bio). */
export function trusted(html: string): Markup {
  return new Markup(html);
}

export type Child = Markup | string | number | null | undefined | false | readonly Child[];
/** Attribute values; null, undefined and false leave the attribute out. */
export type Attributes = Record<string, string | number | null | undefined | false>;

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/** Text made safe for HTML or XML content and quoted attribute values. */
export function escapeText(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c] as string);
}

function children(list: readonly Child[]): string {
  let out = "";
  for (const child of list) {
    if (child === null || child === undefined || child === false) continue;
    if (child instanceof Markup) out += child.toString();
    else if (Array.isArray(child)) out += children(child);
    else out += escapeText(String(child));
  }
  return out;
}

function element(name: string, attributes: Attributes | null, content: readonly Child[], empty: string): Markup {
  let open = `<${name}`;
  for (const [key, value] of Object.entries(attributes ?? {})) {
    if (value === null || value === undefined || value === false) continue;
    open += ` ${key}="${escapeText(String(value))}"`;
  }
  const inner = children(content);
  return new Markup(inner === "" && empty !== "" ? `${open}${empty}` : `${open}>${inner}</${name}>`);
}

/** HTML's void elements: written without a closing tag. */
const VOID = new Set([
  "area",
  "base",
  "br",
  "col",
  "embed",
  "hr",
  "img",
  "input",
  "link",
  "meta",
  "source",
  "track",
  "wbr",
]);

/** An HTML element, e.g. `h("a", { href }, text)`. */
export function h(name: string, attributes: Attributes | null, ...content: Child[]): Markup {
  return element(name, attributes, VOID.has(name) ? [] : content, VOID.has(name) ? ">" : "");
}

/** An XML element; one without content is written `<name/>`. */
export function x(name: string, attributes: Attributes | null, ...content: Child[]): Markup {
  return element(name, attributes, content, "/>");
}

/** Several pieces side by side, e.g. a feed's entries one per line. */
export function join(pieces: readonly Child[], separator = ""): Markup {
  return new Markup(pieces.map((p) => children([p])).join(separator));
}

/** A whole XML document: the declaration, then the root element. */
export function xmlDocument(root: Markup): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n${root}\n`;
}

/** Text for previews, titles and feeds: tags dropped, entities decoded, whitespace folded, cut at `max` characters. */
export function htmlToText(html: string, max = 200): string {
  const text = decodeHTML(html.replace(/<br\s*\/?>|<\/p>/gi, " ").replace(/<[^>]*>/g, ""))
    .replace(/\s+/g, " ")
    .trim();
  const chars = [...text];
  return chars.length > max
    ? `${chars
        .slice(0, max - 1)
        .join("")
        .trimEnd()}…`
    : text;
}
