import { XMLParser } from "fast-xml-parser";
import { describe, expect, it } from "vitest";
import { fieldValueHtml } from "../src/product/profile.ts";
import { escapeText, h, htmlToText, join, trusted, x, xmlDocument } from "../src/shared/markup.ts";

const HOSTILE = `"><script>alert('x')</script>&amp;`;

describe("the one escaping module", () => {
  it("escapes text and attribute values, and lets only vouched-for markup through", () => {
    expect(escapeText(HOSTILE)).toBe("&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;amp;");
    const link = h(
      "a",
      { href: HOSTILE, title: null, rel: false },
      HOSTILE,
      h("b", null, "safe"),
      trusted("<i>kept</i>"),
    );
    expect(String(link)).toBe(`<a href="${escapeText(HOSTILE)}">${escapeText(HOSTILE)}<b>safe</b><i>kept</i></a>`);
    expect(String(link)).not.toContain("<script>");
  });

  it("writes HTML's void elements without a closing tag, and XML's empty ones as <name/>", () => {
    expect(String(h("img", { src: "/a.png", alt: "" }))).toBe('<img src="/a.png" alt="">');
    expect(String(h("p", null))).toBe("<p></p>");
    expect(String(x("atom:link", { href: "/feed", rel: "self" }))).toBe('<atom:link href="/feed" rel="self"/>');
    expect(String(x("title", null, "A & B"))).toBe("<title>A &amp; B</title>");
    expect(String(join([x("a", null, "1"), null, false, [x("b", null, 2)]], "\n"))).toBe("<a>1</a>\n\n\n<b>2</b>");
  });

  it("makes XML that a parser reads back to the same text, whatever the text holds", () => {
    const doc = xmlDocument(
      x("feed", { lang: HOSTILE }, x("title", null, HOSTILE), x("content", null, `<p>${HOSTILE}</p>`)),
    );
    expect(doc.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<feed ')).toBe(true);
    const parsed = new XMLParser({ ignoreAttributes: false, processEntities: true, htmlEntities: true }).parse(doc);
    expect(parsed.feed.title).toBe(HOSTILE);
    expect(parsed.feed.content).toBe(`<p>${HOSTILE}</p>`);
    expect(parsed.feed["@_lang"]).toBe(HOSTILE);
  });

  it("turns HTML back into text: tags dropped, every entity decoded, cut with an ellipsis", () => {
    expect(htmlToText("<p>Caf&eacute; &amp; bar&#x27;s <b>menu</b></p><p>&lt;today&gt;&nbsp;only</p>")).toBe(
      "Café & bar's menu <today> only",
    );
    expect(htmlToText("<p>one<br>two</p>")).toBe("one two");
    expect(htmlToText("<p>abcdefghij</p>", 5)).toBe("abcd…");
    expect(htmlToText("<p>😀😀😀😀😀😀</p>", 3)).toBe("😀😀…");
  });
});

describe("profile fields", () => {
  it("link a URL with rel=me and escape anything else", () => {
    expect(fieldValueHtml("https://example.com/about?a=1&b=2")).toBe(
      '<a href="https://example.com/about?a=1&amp;b=2" rel="me nofollow noopener noreferrer" target="_blank">example.com/about?a=1&amp;b=2</a>',
    );
    expect(fieldValueHtml(HOSTILE)).toBe(escapeText(HOSTILE));
    expect(fieldValueHtml(`https://e.example/"><script>`)).not.toContain("<script>");
  });
});
