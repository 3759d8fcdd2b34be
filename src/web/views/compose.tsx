import type { Child } from "hono/jsx";
import { MAX_ALT_LENGTH, MAX_ATTACHMENTS } from "../../product/media.ts";
import { MAX_POST_LENGTH, MAX_STATEMENT_LENGTH, MAX_SUMMARY_LENGTH, MAX_TITLE_LENGTH } from "../../product/posts.ts";
import { Csrf } from "./desk.tsx";
import type { Html } from "./layout.tsx";
import { formatDate } from "./media-grid.tsx";

export interface SlotValue {
  mediaId: string;
  alt: string;
  /** "x,y" as typed. */
  focus: string;
  previewUrl: string | null;
  kind: "image" | "video";
}

export interface ComposeValues {
  attachments: SlotValue[];
  /** A title makes the post a statement; empty for a post. */
  title: string;
  text: string;
  summary: string;
  sensitive: boolean;
  language: string;
  date: string;
  time: string;
  timeZone: string;
  /** Continues this post of the author's (a thread); empty for a new post. */
  inReplyTo: string;
}

export interface ComposeOptions {
  csrf: string;
  values: ComposeValues;
  /** Where the form posts (new post, an edit, a scheduled post). */
  action: string;
  /** Offer scheduling (new and scheduled posts, not edits of published ones). */
  schedule: boolean;
  /** The local zone should be preselected by the browser (a new post). */
  guessZone: boolean;
  /** The post as it will look (a `PostArticle` of the unsaved post), after "Preview". */
  preview?: Child;
  submitLabel: string;
  /** Offer "Save as draft" (an edit of a published post: kept, sent nowhere, until published). */
  draftable?: boolean;
  timeZones: string[];
  /** The text box takes the focus (the Write page). */
  autofocus?: boolean;
  /** Where unfinished text is kept as it is typed (a new post, not an edit): the account's draft. */
  draftKey?: string;
}

/** The compose box: the text first, then the folded options, the files and the schedule. */
export function ComposeForm(o: ComposeOptions): Html {
  const v = o.values;
  return (
    <form method="post" action={o.action} class="card" id="compose" enctype="multipart/form-data">
      <input type="hidden" name="_csrf" value={o.csrf} />
      {v.inReplyTo && (
        <>
          <input type="hidden" name="in_reply_to" value={v.inReplyTo} />
          <p class="hint">Continuing the thread: this post will follow the one above it.</p>
        </>
      )}
      <details class="options" open={Boolean(v.title)}>
        <summary>Statement: a title and long text</summary>
        <label for="title">
          Title{" "}
          <span class="hint">
            (optional: a title makes this a statement, up to {MAX_STATEMENT_LENGTH.toLocaleString("en")} characters with
            ## headings and its pictures placed with ![description](attachment:1); Mastodon shows its title, first
            paragraph and link)
          </span>
        </label>
        <input id="title" name="title" maxlength={MAX_TITLE_LENGTH} value={v.title} data-statement-title="text" />
      </details>
      <label for="text">
        Post <span class="hint">(Markdown: **bold**, _italic_, [links](https://…), #hashtags)</span>
      </label>
      <textarea
        id="text"
        name="text"
        maxlength={v.title ? MAX_STATEMENT_LENGTH : MAX_POST_LENGTH}
        data-max-post={MAX_POST_LENGTH}
        data-max-statement={MAX_STATEMENT_LENGTH}
        data-count="text-count"
        required
        autofocus={o.autofocus}
        data-draft={o.draftKey}
      >
        {v.text}
      </textarea>
      <output id="text-count" class="counter" for="text" aria-live="polite">
        {[...v.text].length} / {v.title ? MAX_STATEMENT_LENGTH : MAX_POST_LENGTH}
      </output>
      <div class="actions">
        <button class="primary" type="submit" name="action" value="publish" title="Ctrl+Enter">
          {o.submitLabel}
        </button>
        <button type="submit" name="action" value="preview">
          Preview
        </button>
        {o.draftable && (
          <button type="submit" name="action" value="draft">
            Save as draft
          </button>
        )}
        <progress id="upload-progress" max="100" value="0" hidden />
      </div>
      {o.preview !== undefined && (
        <section class="preview" aria-label="Preview">
          <h2>Preview</h2>
          {o.preview}
        </section>
      )}
      <details class="options" open={Boolean(v.summary || v.sensitive)}>
        <summary>
          Content warning, sensitive, language
          {v.summary && (
            <>
              {" "}
              <span class="badge">CW</span>
            </>
          )}
        </summary>
        <div class="row">
          <div>
            <label for="summary">
              Content warning <span class="hint">(optional)</span>
            </label>
            <input
              id="summary"
              name="summary"
              maxlength={MAX_SUMMARY_LENGTH}
              value={v.summary}
              placeholder="Shown before the text"
            />
          </div>
          <div>
            <label for="language">Language</label>
            <input
              id="language"
              name="language"
              value={v.language}
              size={8}
              pattern="[a-z]{2,3}(-[A-Za-z0-9]{2,8})*"
              required
            />
          </div>
        </div>
        <label class="check">
          <input type="checkbox" name="sensitive" value="1" checked={v.sensitive} /> Mark as sensitive
        </label>
      </details>
      <AttachmentSlots current={v.attachments} />
      {o.schedule && <ScheduleFields {...o} />}
    </form>
  );
}

function ScheduleFields({ values: v, guessZone, timeZones }: ComposeOptions): Html {
  return (
    <details class="options" open={Boolean(v.date || v.time)}>
      <summary>Schedule for later</summary>
      <fieldset class="card">
        <legend>
          Schedule <span class="hint">(optional: leave empty to publish now)</span>
        </legend>
        <div class="row">
          <div>
            <label for="date">Date</label>
            <input id="date" name="date" type="date" value={v.date} />
          </div>
          <div>
            <label for="time">Time</label>
            <input id="time" name="time" type="time" value={v.time} />
          </div>
          <div>
            <label for="timeZone">Time zone</label>
            <select id="timeZone" name="timeZone" data-local-zone={guessZone ? "" : undefined}>
              {timeZones.map((z) => (
                <option selected={z === v.timeZone}>{z}</option>
              ))}
            </select>
          </div>
        </div>
      </fieldset>
    </details>
  );
}

/** Up to four pictures or videos: the ones already uploaded (kept across previews), then empty slots. */
function AttachmentSlots({ current }: { current: SlotValue[] }): Html {
  const empty = Math.max(0, MAX_ATTACHMENTS - current.length);
  return (
    <fieldset class="card" id="media">
      <legend>
        Pictures and video <span class="hint">(up to {MAX_ATTACHMENTS}: JPEG, PNG, WebP, GIF, AVIF, MP4, WebM)</span>
      </legend>
      {current.length > 1 && (
        <p class="hint" id="order-hint">
          In this order on the post: move one with its arrows (or drag it).
        </p>
      )}
      <p class="sr" role="status" aria-live="polite" data-order-status />
      {current.map((a, i) => (
        <div class="slot" data-slot={i} data-kept>
          <div class="kept">
            {a.previewUrl ? <img src={a.previewUrl} alt="" /> : <span class="hint">{a.kind}</span>}
            {current.length > 1 && <MoveButtons i={i} count={current.length} slot={a} />}
          </div>
          <div>
            <input type="hidden" name="media" value={a.mediaId} />
            <label for={`alt-${i}`}>
              Description <span class="hint">(for people who cannot see it; up to {MAX_ALT_LENGTH} characters)</span>
            </label>
            <textarea id={`alt-${i}`} name="alt" maxlength={MAX_ALT_LENGTH} data-alt>
              {a.alt}
            </textarea>
            <div class="row">
              <div>
                <label for={`focus-${i}`}>
                  Focal point <span class="hint">(x,y from -1 to 1; optional)</span>
                </label>
                <input id={`focus-${i}`} name="focus" value={a.focus} placeholder="0,0" />
              </div>
              <label class="check">
                <input type="checkbox" name="remove" value={a.mediaId} /> Remove
              </label>
            </div>
          </div>
        </div>
      ))}
      {Array.from({ length: empty }, (_, j) => (
        <EmptySlot i={current.length + j} />
      ))}
    </fieldset>
  );
}

/**
 * Earlier and later: submit buttons, so the order changes without JavaScript too (the form comes back
 * rearranged, with a preview); desk.js moves the slot in place instead, and drag and drop moves it too.
 */
function MoveButtons({ i, count, slot }: { i: number; count: number; slot: SlotValue }): Html {
  const what = `${slot.kind === "video" ? "video" : "picture"} ${i + 1}${slot.alt ? ` (${slot.alt.slice(0, 40)})` : ""}`;
  return (
    <fieldset class="order">
      <legend class="sr">Position of {what}</legend>
      <button
        type="submit"
        name="action"
        value={`move-up:${slot.mediaId}`}
        data-move="up"
        aria-label={`Move ${what} earlier`}
        disabled={i === 0}
      >
        ↑
      </button>
      <span data-position>{i + 1}</span>
      <button
        type="submit"
        name="action"
        value={`move-down:${slot.mediaId}`}
        data-move="down"
        aria-label={`Move ${what} later`}
        disabled={i === count - 1}
      >
        ↓
      </button>
    </fieldset>
  );
}

function EmptySlot({ i }: { i: number }): Html {
  return (
    <div class="slot" data-slot={i}>
      <span />
      <div>
        <label for={`file-${i}`}>File {i + 1}</label>
        <input
          id={`file-${i}`}
          type="file"
          name={`file${i}`}
          accept="image/jpeg,image/png,image/webp,image/gif,image/avif,video/mp4,video/webm"
        />
        <label for={`newalt-${i}`}>
          Description <span class="hint">(alt text: please describe what it shows)</span>
        </label>
        <textarea id={`newalt-${i}`} name={`newalt${i}`} maxlength={MAX_ALT_LENGTH} data-alt />
        <label for={`newfocus-${i}`}>
          Focal point <span class="hint">(click the picture, or x,y from -1 to 1; optional)</span>
        </label>
        <input id={`newfocus-${i}`} name={`newfocus${i}`} placeholder="0,0" data-focus />
      </div>
    </div>
  );
}

/** An edit page showing saved, unpublished changes: what they are, and a way to drop them. */
export function DraftNotice(p: { csrf: string; postId: string; savedAt: number; by: string | null }): Html {
  const whose = p.by === null ? "your changes" : `changes by ${p.by || "someone no longer on the staff"}`;
  return (
    <div class="notice" role="status">
      <p>
        These are {whose}, saved as a draft ({formatDate(new Date(p.savedAt))}): not published, sent nowhere. The post
        reads as before until they are saved as the edit.
      </p>
      <form method="post" action={`/admin/posts/${p.postId}/draft/discard`}>
        <Csrf token={p.csrf} />
        <button type="submit">Discard the draft</button>
      </form>
    </div>
  );
}
