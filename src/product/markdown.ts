import { Marked, type TokenizerAndRendererExtension, type Tokens } from "marked";
import sanitizeHtml from "sanitize-html";
import { h } from "../shared/markup.ts";
import type { Urls } from "../shared/urls.ts";

export interface RenderedText {
  /** Sanitized HTML, safe to embed and to federate. */
  readonly html: string;
  /** Hashtags in order of appearance, without '#', first spelling kept. */
  readonly hashtags: string[];
}

const HASHTAG = /^#([\p{L}\p{N}_]*\p{L}[\p{L}\p{N}_]*)/u;
const HASHTAG_START = /(^|[^\p{L}\p{N}_&/#])#[\p{L}\p{N}_]*\p{L}/u;

interface HashtagToken extends Tokens.Generic {
  type: "hashtag";
  tag: string;
}

/** Where hashtags link: their page (`Urls.tag`, the same URL as the Note's `Hashtag.href`). */
type TagLinks = Pick<Urls, "tag">;

function hashtagExtension(urls: TagLinks): TokenizerAndRendererExtension {
  return {
    name: "hashtag",
    level: "inline",
    start(src: string) {
      const m = HASHTAG_START.exec(src);
      return m === null ? undefined : m.index + m[1].length;
    },
    tokenizer(src: string) {
      const m = HASHTAG.exec(src);
      if (m === null) return undefined;
      return { type: "hashtag", raw: m[0], tag: m[1] } satisfies HashtagToken;
    },
    renderer(token) {
      const tag = (token as HashtagToken).tag;
      return h(
        "a",
        { href: urls.tag(tag).href, class: "mention hashtag", rel: "tag" },
        "#",
        h("span", null, tag),
      ).toString();
    },
  };
}

const SANITIZE: sanitizeHtml.IOptions = {
  // What Mastodon keeps of remote HTML; headings become bold paragraphs so they look the same everywhere.
  allowedTags: [
    "p",
    "br",
    "a",
    "span",
    "strong",
    "em",
    "b",
    "i",
    "u",
    "del",
    "s",
    "code",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "li",
  ],
  allowedAttributes: { a: ["href", "rel", "class", "target"], span: ["class"], ol: ["start"] },
  allowedSchemes: ["http", "https", "mailto"],
  allowedClasses: { a: ["mention", "hashtag"], span: ["invisible", "ellipsis"] },
  transformTags: {
    h1: "p",
    h2: "p",
    h3: "p",
    h4: "p",
    h5: "p",
    h6: "p",
    hr: "br",
    a: (tagName, attribs) => {
      if (attribs.rel === "tag") return { tagName, attribs };
      return { tagName, attribs: { ...attribs, rel: "nofollow noopener noreferrer", target: "_blank" } };
    },
  },
};

/** A picture a statement shows in its text: `![description](attachment:N)` is its N-th attachment. */
export interface InlineImage {
  url: string;
  alt: string;
  width: number | null;
  height: number | null;
}

/** How deep lists and quotes may nest: deeper is no writing anyone reads, and the parser's recursion has a floor. */
export const MAX_NESTING = 16;

/** Markdown too deeply nested to render; the message says so (an InvalidPostError to the author). */
export class NestingError extends Error {
  override name = "NestingError";
}

/**
 * Renders the author's Markdown into sanitized HTML and collects its hashtags.
 * A post keeps to what every fediverse server shows (headings as bold
 * paragraphs, no pictures inline); a statement (`images` given) keeps its
 * headings, rules and its own pictures where the author placed them.
 */
export function renderMarkdown(source: string, urls: TagLinks, images?: InlineImage[]): RenderedText {
  const marked = new Marked({ gfm: true, breaks: images === undefined, async: false });
  marked.use({
    extensions: [hashtagExtension(urls)],
    // Raw HTML is shown as text, not parsed: it would otherwise swallow the Markdown around it.
    tokenizer: { html: () => undefined, tag: () => undefined },
    // Pictures come as attachments; an inline image becomes a link to it, unless a statement places its own.
    renderer: {
      image: ({ href, text }) => {
        const n = /^attachment:([1-9]\d*)$/.exec(href);
        const placed = n === null ? undefined : images?.[Number(n[1]) - 1];
        if (placed === undefined) return h("a", { href }, text || href).toString();
        return h("img", {
          src: placed.url,
          alt: text || placed.alt,
          width: placed.width ?? undefined,
          height: placed.height ?? undefined,
          loading: "lazy",
        }).toString();
      },
    },
  });
  let tokens: ReturnType<typeof marked.lexer>;
  let rendered: string;
  try {
    tokens = marked.lexer(source);
    if (depth(tokens) > MAX_NESTING) throw new RangeError();
    rendered = marked.parser(tokens);
  } catch (e) {
    // The parser recurses once per level of nesting (lists, quotes, emphasis): thousands overflow the stack.
    if (e instanceof RangeError) throw new NestingError(`nested more than ${MAX_NESTING} levels deep`);
    throw e;
  }
  const seen = new Map<string, string>();
  marked.walkTokens(tokens, (token) => {
    if (token.type === "hashtag") {
      const tag = (token as HashtagToken).tag;
      if (!seen.has(tag.toLowerCase())) seen.set(tag.toLowerCase(), tag);
    }
  });
  const mediaPrefixes = (images ?? []).map((i) => i.url);
  const html = sanitizeHtml(rendered, images === undefined ? SANITIZE : statementRules(mediaPrefixes)).trim();
  return { html, hashtags: [...seen.values()] };
}

/** How deeply block tokens nest (lists, their items, quotes). */
function depth(tokens: readonly Tokens.Generic[] | undefined, level = 0): number {
  if (tokens === undefined || level > MAX_NESTING) return level;
  let deepest = level;
  for (const t of tokens) {
    const nested = t.type === "list" ? (t as Tokens.List).items : t.type === "blockquote" ? t.tokens : undefined;
    if (nested !== undefined) deepest = Math.max(deepest, depth(nested, level + 1));
    else if (t.type === "list_item") deepest = Math.max(deepest, depth(t.tokens, level));
  }
  return deepest;
}

/** A statement's rules: headings (its title is the page's h1), rules, and only its own pictures. */
function statementRules(ownPictures: string[]): sanitizeHtml.IOptions {
  return {
    ...SANITIZE,
    allowedTags: [...(SANITIZE.allowedTags as string[]), "h2", "h3", "h4", "hr", "img"],
    allowedAttributes: { ...SANITIZE.allowedAttributes, img: ["src", "alt", "width", "height", "loading"] },
    allowedSchemesByTag: { img: ["https", "http"] },
    transformTags: { ...SANITIZE.transformTags, h1: "h2", h2: "h2", h3: "h3", h4: "h4", h5: "h4", h6: "h4", hr: "hr" },
    exclusiveFilter: (frame) => frame.tag === "img" && !ownPictures.includes(frame.attribs.src ?? ""),
  };
}
