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

/** Renders the author's Markdown into sanitized HTML and collects its hashtags. */
export function renderMarkdown(source: string, urls: TagLinks): RenderedText {
  const marked = new Marked({ gfm: true, breaks: true, async: false });
  marked.use({
    extensions: [hashtagExtension(urls)],
    // Raw HTML is shown as text, not parsed: it would otherwise swallow the Markdown around it.
    tokenizer: { html: () => undefined, tag: () => undefined },
    // Pictures come as attachments; an inline image becomes a link to it.
    renderer: { image: ({ href, text }) => h("a", { href }, text || href).toString() },
  });
  const tokens = marked.lexer(source);
  const seen = new Map<string, string>();
  marked.walkTokens(tokens, (token) => {
    if (token.type === "hashtag") {
      const tag = (token as HashtagToken).tag;
      if (!seen.has(tag.toLowerCase())) seen.set(tag.toLowerCase(), tag);
    }
  });
  const html = sanitizeHtml(marked.parser(tokens), SANITIZE).trim();
  return { html, hashtags: [...seen.values()] };
}
