import type { AppData } from "../context.ts";
import { mediaUrl } from "../federation/note.ts";
import { getMedia } from "../product/media.ts";
import type { Attachment } from "../storage/schema.ts";

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
}

export function showAttachments(data: AppData, attachments: Attachment[]): ShownAttachment[] {
  const found = getMedia(
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
        url: mediaUrl(data.config.origin, m.file).href,
        previewUrl: m.previewFile ? mediaUrl(data.config.origin, m.previewFile).href : null,
        mediaType: m.mediaType,
        alt: a.alt,
        width: m.width,
        height: m.height,
      },
    ];
  });
}
