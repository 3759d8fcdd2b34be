import type { AppData } from "../product/context.ts";
import { getMedia } from "../product/media.ts";
import type { Attachment } from "../product/posts.ts";

/** An attachment as a page shows it. */
export interface ShownAttachment {
  mediaId: string;
  kind: "image" | "video";
  url: string;
  previewUrl: string | null;
  mediaType: string;
  alt: string;
  width: number | null;
  height: number | null;
  /** Bytes (feeds' enclosures say it). */
  size: number;
}

export async function showAttachments(data: AppData, attachments: Attachment[]): Promise<ShownAttachment[]> {
  const found = await getMedia(
    data,
    attachments.map((a) => a.mediaId),
  );
  return attachments.flatMap((a) => {
    const m = found.get(a.mediaId);
    if (m === undefined) return [];
    return [
      {
        mediaId: m.id,
        kind: m.kind,
        url: data.urls.media(m.file).href,
        previewUrl: m.previewFile ? data.urls.media(m.previewFile).href : null,
        mediaType: m.mediaType,
        alt: a.alt,
        width: m.width,
        height: m.height,
        size: m.size,
      },
    ];
  });
}
