import { describe, expect, it } from "vitest";
import { renderMarkdown } from "../src/product/markdown.ts";
import { Urls } from "../src/shared/urls.ts";

const origin = new Urls(new URL("https://desk.example"), "desk");

describe("Markdown rendering", () => {
  it("links hashtags to their page and collects them once each", () => {
    const r = renderMarkdown("Today #News, more #news and #Über; not a#tag nor #123", origin);
    expect(r.hashtags).toEqual(["News", "Über"]);
    expect(r.html).toContain(
      '<a href="https://desk.example/tags/news" class="mention hashtag" rel="tag">#<span>News</span></a>',
    );
    expect(r.html).toContain("a#tag");
    expect(r.html).toContain("#123");
  });

  it("keeps emphasis, lists, code and links; links open safely", () => {
    const r = renderMarkdown("**bold** _it_ `code`\n\n- one\n- two\n\nhttps://example.com/page", origin);
    expect(r.html).toContain("<strong>bold</strong>");
    expect(r.html).toContain("<em>it</em>");
    expect(r.html).toContain("<code>code</code>");
    expect(r.html).toContain("<li>one</li>");
    expect(r.html).toContain('<a href="https://example.com/page" rel="nofollow noopener noreferrer" target="_blank">');
  });

  it("never lets HTML or script URLs through", () => {
    const r = renderMarkdown(
      '<script>alert(1)</script> <img src=x onerror=alert(1)> [x](javascript:alert(1)) <a href="https://e.x" onclick="y">z</a>',
      origin,
    );
    // What is left of it is escaped text: no tag, no handler attribute, no script link.
    expect(r.html).not.toMatch(/<script|<img|<a [^>]*onclick|<[^>]* onerror=|href="javascript:/);
    expect(r.html).toContain("&lt;script&gt;");
  });

  it("turns headings into plain paragraphs, which Mastodon keeps", () => {
    expect(renderMarkdown("# Big news", origin).html).toBe("<p>Big news</p>");
  });
});
