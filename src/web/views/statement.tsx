import { raw } from "hono/html";
import { statementSummary } from "../../product/post.ts";
import type { Post } from "../../product/posts.ts";
import type { ShownAttachment } from "../attachments.ts";
import type { Html } from "./layout.tsx";
import { MediaGrid, PostMeta } from "./media-grid.tsx";

/*
 * A statement (a post with a title, federated as an Article): in lists, its
 * title and first paragraph linking to its own page; on that page (`full`),
 * the title as the page's heading, a byline, the text with its pictures where
 * the author put them, and any attachment the text does not place below it.
 */
export function StatementArticle(p: {
  post: Post;
  title: string;
  url: URL;
  pinned?: boolean;
  media?: ShownAttachment[];
  full?: boolean;
}): Html {
  const { post, title } = p;
  const meta = <PostMeta post={post} url={p.url} />;
  if (!p.full) {
    return (
      <article class="post card statement" data-post={post.id} lang={post.language}>
        {p.pinned && <div class="pinned">Pinned</div>}
        <div class="kind">Statement</div>
        <h2 class="title">
          <a href={p.url.href}>{title}</a>
        </h2>
        <p class="standfirst">{statementSummary(post)}</p>
        <p>
          <a href={p.url.href} aria-label={`Read the statement: ${title}`}>
            Read the statement →
          </a>
        </p>
        {meta}
      </article>
    );
  }
  const below = (p.media ?? []).filter((m) => !post.contentHtml.includes(`src="${m.url}"`));
  return (
    <article class="post card statement full" data-post={post.id} lang={post.language}>
      <div class="kind">Statement</div>
      <h1 class="title">{title}</h1>
      {meta}
      <div class="content">{raw(post.contentHtml)}</div>
      <MediaGrid items={below} sensitive={post.sensitive} />
    </article>
  );
}
