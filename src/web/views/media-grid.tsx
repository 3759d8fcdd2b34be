import type { ShownAttachment } from "../attachments.ts";
import type { Html } from "./layout.tsx";

/* A post's pictures and videos, its date line, and how times read on every page: shared by posts and statements. */

function MediaItem({ m }: { m: ShownAttachment }): Html {
  const size = m.width ? { width: m.width, height: m.height ?? undefined } : {};
  if (m.kind === "image") {
    return (
      <a href={m.url} aria-label={m.alt ? undefined : "Picture (no description), full size"}>
        <img src={m.url} alt={m.alt} {...size} loading="lazy" decoding="async" />
      </a>
    );
  }
  return (
    <video controls preload="none" poster={m.previewUrl ?? undefined} {...size} aria-label={m.alt || "Video"}>
      <source src={m.url} type={m.mediaType} />
      <a href={m.url}>Download the video</a>
    </video>
  );
}

export function MediaGrid({ items, sensitive }: { items: ShownAttachment[]; sensitive: boolean }): Html | null {
  if (items.length === 0) return null;
  const grid = (
    <div class={`media media-${Math.min(items.length, 4)}`}>
      {items.map((m) => (
        <MediaItem m={m} />
      ))}
    </div>
  );
  if (!sensitive) return grid;
  return (
    <details class="sensitive">
      <summary>Sensitive media · show</summary>
      {grid}
    </details>
  );
}

export function formatDate(d: Date): string {
  return `${new Intl.DateTimeFormat("en", { dateStyle: "medium", timeStyle: "short", timeZone: "UTC" }).format(d)} UTC`;
}

/** When it was published (a link to it) and whether it was edited. */
export function PostMeta({ post, url }: { post: { publishedAt: number; updatedAt: number | null }; url: URL }): Html {
  const published = new Date(post.publishedAt);
  return (
    <div class="meta">
      <a href={url.href}>
        <time datetime={published.toISOString()}>{formatDate(published)}</time>
      </a>
      {post.updatedAt && <span title={new Date(post.updatedAt).toISOString()}>· edited</span>}
    </div>
  );
}
