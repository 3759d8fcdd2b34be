import type { DeliveryProgress } from "../../delivery/progress.ts";
import type { FailingServer } from "../../delivery/status.ts";
import type { Block } from "../../product/blocks.ts";
import type { Follower } from "../../product/followers.ts";
import { MAX_ALT_LENGTH, MAX_ATTACHMENTS } from "../../product/media.ts";
import { MAX_POST_LENGTH, MAX_SUMMARY_LENGTH, type Post } from "../../product/posts.ts";
import { MAX_FIELDS, type Profile } from "../../product/profile.ts";
import type { ScheduledPost } from "../../product/schedule.ts";
import { Temporal } from "../../temporal.ts";
import { type Html, html, raw } from "./layout.ts";
import { formatDate } from "./public.ts";

export function messages(notice?: string, error?: string): Html {
  return html`${notice ? html`<div class="notice" role="status">${notice}</div>` : ""}${error ? html`<div class="error" role="alert">${error}</div>` : ""}`;
}

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
  previewHtml?: string;
  submitLabel: string;
  timeZones: string[];
  /** The text box takes the focus (the Write page). */
  autofocus?: boolean;
  /** Where unfinished text is kept as it is typed (a new post, not an edit): the account's draft. */
  draftKey?: string;
}

export function composeForm(o: ComposeOptions): Html {
  const v = o.values;
  return html`<form method="post" action="${o.action}" class="card" id="compose" enctype="multipart/form-data">
<input type="hidden" name="_csrf" value="${o.csrf}">
${v.inReplyTo ? html`<input type="hidden" name="in_reply_to" value="${v.inReplyTo}"><p class="hint">Continuing the thread: this post will follow the one above it.</p>` : ""}
<label for="text">Post <span class="hint">(Markdown: **bold**, _italic_, [links](https://…), #hashtags)</span></label>
<textarea id="text" name="text" maxlength="${MAX_POST_LENGTH}" data-count="text-count" required${o.autofocus ? raw(" autofocus") : ""}${o.draftKey ? html` data-draft="${o.draftKey}"` : ""}>${v.text}</textarea>
<output id="text-count" class="counter" for="text" aria-live="polite">${[...v.text].length} / ${MAX_POST_LENGTH}</output>
<div class="actions">
<button class="primary" type="submit" name="action" value="publish" title="Ctrl+Enter">${o.submitLabel}</button>
<button type="submit" name="action" value="preview">Preview</button>
<progress id="upload-progress" max="100" value="0" hidden></progress>
</div>
${o.previewHtml !== undefined ? html`<section class="preview" aria-label="Preview"><h2>Preview</h2>${raw(o.previewHtml)}</section>` : ""}
<details class="options"${v.summary || v.sensitive ? raw(" open") : ""}><summary>Content warning, sensitive, language${v.summary ? html` <span class="badge">CW</span>` : ""}</summary>
<div class="row">
<div><label for="summary">Content warning <span class="hint">(optional)</span></label>
<input id="summary" name="summary" maxlength="${MAX_SUMMARY_LENGTH}" value="${v.summary}" placeholder="Shown before the text"></div>
<div><label for="language">Language</label>
<input id="language" name="language" value="${v.language}" size="8" pattern="[a-z]{2,3}(-[A-Za-z0-9]{2,8})*" required></div>
</div>
<label class="check"><input type="checkbox" name="sensitive" value="1"${v.sensitive ? raw(" checked") : ""}> Mark as sensitive</label>
</details>
${attachmentSlots(v.attachments)}
${
  o.schedule
    ? html`<details class="options"${v.date || v.time ? raw(" open") : ""}><summary>Schedule for later</summary><fieldset class="card"><legend>Schedule <span class="hint">(optional: leave empty to publish now)</span></legend>
<div class="row">
<div><label for="date">Date</label><input id="date" name="date" type="date" value="${v.date}"></div>
<div><label for="time">Time</label><input id="time" name="time" type="time" value="${v.time}"></div>
<div><label for="timeZone">Time zone</label><select id="timeZone" name="timeZone"${o.guessZone ? raw(" data-local-zone") : ""}>
${o.timeZones.map((z) => html`<option${z === v.timeZone ? raw(" selected") : ""}>${z}</option>`)}
</select></div>
</div></fieldset></details>`
    : ""
}
</form>`;
}

export interface PostRow {
  post: Post;
  url: URL;
  /** Servers reached out of those due (when known). */
  reach?: { delivered: number; due: number };
}

export function postsTable(csrf: string, rows: PostRow[], next: string | null): Html {
  if (rows.length === 0) return html`<p>Nothing published yet. <a href="/admin">Write the first post.</a></p>`;
  return html`<table>
<thead><tr><th scope="col">Post</th><th scope="col">Published</th><th scope="col">Reach</th><th scope="col">Actions</th></tr></thead>
<tbody>${rows.map(
    ({ post, url, reach }) => html`<tr data-post="${post.id}">
<td><a href="${url.href}">${post.summary ? `CW: ${post.summary}` : excerptText(post)}</a>${post.pinnedAt ? html` <span class="badge">Pinned</span>` : ""}${post.updatedAt ? html` <span class="badge">Edited</span>` : ""}</td>
<td>${formatDate(new Date(post.publishedAt))}</td>
<td class="reach">${reach ? html`<a href="/admin/posts/${post.id}">${reach.delivered}/${reach.due} servers</a>` : "—"}<br>${post.boosts} ${post.boosts === 1 ? "boost" : "boosts"}</td>
<td><div class="actions">
<a class="button" href="/admin/posts/${post.id}/edit">Edit</a>
<form method="post" action="/admin/posts/${post.id}/pin" class="inline"><input type="hidden" name="_csrf" value="${csrf}"><input type="hidden" name="pinned" value="${post.pinnedAt ? "0" : "1"}"><button type="submit">${post.pinnedAt ? "Unpin" : "Pin"}</button></form>
<form method="post" action="/admin/posts/${post.id}/delete" class="inline" data-confirm="Delete this post everywhere? This cannot be undone."><input type="hidden" name="_csrf" value="${csrf}"><button class="danger" type="submit">Delete</button></form>
</div></td></tr>`,
  )}</tbody></table>
${next ? html`<nav class="pages"><span></span><a rel="next" href="${next}">Older posts →</a></nav>` : ""}`;
}

export function scheduledTable(csrf: string, rows: ScheduledPost[]): Html {
  if (rows.length === 0) return html``;
  return html`<h2>Scheduled</h2><table>
<thead><tr><th scope="col">Post</th><th scope="col">Goes out</th><th scope="col">Actions</th></tr></thead>
<tbody>${rows.map(
    (s) => html`<tr data-scheduled="${s.id}"><td>${s.summary ? `CW: ${s.summary}` : s.source.slice(0, 80)}</td>
<td>${localTime(s.publishAt, s.timeZone)}</td>
<td><div class="actions"><a class="button" href="/admin/scheduled/${s.id}/edit">Edit</a>
<form method="post" action="/admin/scheduled/${s.id}/cancel" class="inline"><input type="hidden" name="_csrf" value="${csrf}"><button class="danger" type="submit">Cancel</button></form></div></td></tr>`,
  )}</tbody></table>`;
}

/** "24 Dec 2026, 18:30 Europe/Paris" */
export function localTime(epochMs: number, zone: string): string {
  const z = Temporal.Instant.fromEpochMilliseconds(epochMs).toZonedDateTimeISO(zone);
  return `${z.toPlainDate().toLocaleString("en", { dateStyle: "medium" })}, ${z.toPlainTime().toString({ smallestUnit: "minute" })} ${zone}`;
}

function excerptText(post: Post): string {
  const chars = [...post.source];
  return chars.length > 80 ? `${chars.slice(0, 79).join("")}…` : post.source;
}

export function profileForm(csrf: string, p: Profile): Html {
  const fields = [...p.fields, ...Array(Math.max(0, MAX_FIELDS - p.fields.length)).fill({ name: "", value: "" })].slice(
    0,
    MAX_FIELDS,
  );
  return html`<form method="post" action="/admin/profile" class="card" enctype="multipart/form-data">
<input type="hidden" name="_csrf" value="${csrf}">
<label for="name">Display name</label>
<input id="name" name="name" value="${p.name}" maxlength="100" required>
<label for="summary">Bio <span class="hint">(Markdown)</span></label>
<textarea id="summary" name="summary" maxlength="2000" data-count="bio-count">${p.summary}</textarea>
<output id="bio-count" class="counter" for="summary"></output>
<fieldset class="card"><legend>Profile fields <span class="hint">(up to ${MAX_FIELDS}; a link to your site gets verified when it links back with rel="me")</span></legend>
${fields.map(
  (
    f,
    i,
  ) => html`<div class="row"><div><label for="field-name-${i}">Label ${i + 1}</label><input id="field-name-${i}" name="fieldName" value="${f.name}" maxlength="255"></div>
<div><label for="field-value-${i}">Content ${i + 1}</label><input id="field-value-${i}" name="fieldValue" value="${f.value}" maxlength="2047"></div></div>`,
)}
</fieldset>
<fieldset class="card"><legend>Pictures <span class="hint">(JPEG, PNG, WebP, GIF or AVIF)</span></legend>
<label for="avatar">Avatar <span class="hint">(square works best)</span></label><input id="avatar" type="file" name="avatar" accept="image/*">
${p.avatarMediaId ? html`<label class="check"><input type="checkbox" name="removePicture" value="avatar"> Remove the avatar</label>` : ""}
<label for="header">Header <span class="hint">(wide, about 3:1)</span></label><input id="header" type="file" name="header" accept="image/*">
${p.headerMediaId ? html`<label class="check"><input type="checkbox" name="removePicture" value="header"> Remove the header</label>` : ""}
</fieldset>
<label class="check"><input type="checkbox" name="bot" value="1"${p.bot ? raw(" checked") : ""}> This account is automated (shown as a bot)</label>
<label class="check"><input type="checkbox" name="approveFollowers" value="1"${p.approveFollowers ? raw(" checked") : ""}> Approve new followers by hand</label>
<div class="actions"><button class="primary" type="submit">Save profile</button></div>
</form>`;
}

export function followersTable(csrf: string, total: number, rows: Follower[], next: string | null): Html {
  return html`<p class="stats"><strong>${total}</strong> ${total === 1 ? "follower" : "followers"}</p>
${
  rows.length === 0
    ? html`<p>No followers yet.</p>`
    : html`<table><thead><tr><th scope="col">Follower</th><th scope="col">Server</th><th scope="col">Since</th><th scope="col"><span class="sr">Actions</span></th></tr></thead>
<tbody>${rows.map(
        (
          f,
        ) => html`<tr><td><a href="${f.actorIri}" rel="noopener nofollow" target="_blank">${f.handle ?? f.actorIri}</a></td><td>${f.host}</td><td>${formatDate(new Date(f.createdAt))}</td>
<td><form method="post" action="/admin/followers/remove" data-confirm="Remove this follower? Their server is told."><input type="hidden" name="_csrf" value="${csrf}"><input type="hidden" name="actor" value="${f.actorIri}"><button class="danger" type="submit">Remove</button></form></td></tr>`,
      )}</tbody></table>`
}
${next ? html`<nav class="pages"><span></span><a rel="next" href="${next}">More →</a></nav>` : ""}`;
}

/** Followers over time as a small line chart (SVG drawn here: no chart library), with its numbers in words. */
export function followersChart(points: { day: number; followers: number }[]): Html {
  if (points.length < 2) return html``;
  const w = 600;
  const h = 120;
  const max = Math.max(1, ...points.map((p) => p.followers));
  const x = (i: number) => Math.round((i / (points.length - 1)) * w);
  const y = (n: number) => Math.round(h - (n / max) * (h - 10));
  const line = points.map((p, i) => `${x(i)},${y(p.followers)}`).join(" ");
  const first = points[0];
  const last = points[points.length - 1];
  const day = new Intl.DateTimeFormat("en-GB", { day: "numeric", month: "short", timeZone: "UTC" });
  const words = `Followers over ${points.length} days: ${first.followers} on ${day.format(new Date(first.day))}, ${last.followers} today.`;
  return html`<figure class="card chart"><figcaption>${words}</figcaption>
<svg viewBox="0 0 ${w} ${h}" width="100%" height="${h}" role="img" aria-label="${words}" preserveAspectRatio="none">
<polyline points="${line}" fill="none" stroke="currentColor" stroke-width="2" vector-effect="non-scaling-stroke"/>
</svg></figure>`;
}

/** Servers not taking deliveries: their followers are kept, and get the posts when the server answers again. */
export function failingServersTable(rows: FailingServer[]): Html {
  if (rows.length === 0) return html``;
  return html`<section class="card" id="failing-servers"><h2>Servers not answering</h2>
<p class="hint">Their followers are kept: a server that fails is retried, then paused and probed twice a day, and gets what it missed once it answers. Only a follower whose own account is gone is removed.</p>
<table><thead><tr><th scope="col">Server</th><th scope="col">Followers there</th><th scope="col">Failing since</th><th scope="col">Last success</th><th scope="col">State</th></tr></thead>
<tbody>${rows.map(
    (r) =>
      html`<tr><td>${r.host}</td><td>${r.followers}</td><td>${formatDate(new Date(r.failingSince))} (${r.failureDays} ${r.failureDays === 1 ? "day" : "days"})</td><td>${r.lastSuccessAt === null ? "—" : formatDate(new Date(r.lastSuccessAt))}</td><td>${r.paused ? "paused" : "retrying"}</td></tr>`,
  )}</tbody></table></section>`;
}

/** Up to four pictures or videos: the ones already uploaded (kept across previews), then empty slots. */
function attachmentSlots(current: SlotValue[]): Html {
  const empty = Math.max(0, MAX_ATTACHMENTS - current.length);
  return html`<fieldset class="card" id="media"><legend>Pictures and video <span class="hint">(up to ${MAX_ATTACHMENTS}: JPEG, PNG, WebP, GIF, AVIF, MP4, WebM)</span></legend>
${current.map(
  (a, i) => html`<div class="slot" data-slot="${i}">
${a.previewUrl ? html`<img src="${a.previewUrl}" alt="">` : html`<span class="hint">${a.kind}</span>`}
<div><input type="hidden" name="media" value="${a.mediaId}">
<label for="alt-${i}">Description <span class="hint">(for people who cannot see it; up to ${MAX_ALT_LENGTH} characters)</span></label>
<textarea id="alt-${i}" name="alt" maxlength="${MAX_ALT_LENGTH}" data-alt>${a.alt}</textarea>
<div class="row"><div><label for="focus-${i}">Focal point <span class="hint">(x,y from -1 to 1; optional)</span></label><input id="focus-${i}" name="focus" value="${a.focus}" placeholder="0,0"></div>
<label class="check"><input type="checkbox" name="remove" value="${a.mediaId}"> Remove</label></div></div></div>`,
)}
${Array.from({ length: empty }, (_, j) => {
  const i = current.length + j;
  return html`<div class="slot" data-slot="${i}"><span></span><div>
<label for="file-${i}">File ${i + 1}</label><input id="file-${i}" type="file" name="file${i}" accept="image/jpeg,image/png,image/webp,image/gif,image/avif,video/mp4,video/webm">
<label for="newalt-${i}">Description <span class="hint">(alt text: please describe what it shows)</span></label>
<textarea id="newalt-${i}" name="newalt${i}" maxlength="${MAX_ALT_LENGTH}" data-alt></textarea>
<label for="newfocus-${i}">Focal point <span class="hint">(click the picture, or x,y from -1 to 1; optional)</span></label><input id="newfocus-${i}" name="newfocus${i}" placeholder="0,0" data-focus>
</div></div>`;
})}
</fieldset>`;
}

export function pendingTable(csrf: string, rows: Follower[]): Html {
  if (rows.length === 0) return html``;
  return html`<h2>Waiting for approval</h2><table><thead><tr><th scope="col">Account</th><th scope="col">Asked</th><th scope="col"><span class="sr">Actions</span></th></tr></thead>
<tbody>${rows.map(
    (
      f,
    ) => html`<tr><td><a href="${f.actorIri}" rel="noopener nofollow" target="_blank">${f.handle ?? f.actorIri}</a></td><td>${formatDate(new Date(f.createdAt))}</td>
<td><div class="actions"><form method="post" action="/admin/followers/approve" class="inline"><input type="hidden" name="_csrf" value="${csrf}"><input type="hidden" name="actor" value="${f.actorIri}"><button class="primary" type="submit">Approve</button></form>
<form method="post" action="/admin/followers/remove" class="inline"><input type="hidden" name="_csrf" value="${csrf}"><input type="hidden" name="actor" value="${f.actorIri}"><button class="danger" type="submit">Decline</button></form></div></td></tr>`,
  )}</tbody></table>`;
}

export function blocksPage(csrf: string, rows: Block[], error?: string, notice?: string): Html {
  return html`<h1>Blocks</h1>${messages(notice, error)}
<p class="hint">A blocked account stops following (its server is told) and cannot follow again. A blocked server loses all its followers here, its follows and messages are refused, and nothing is delivered to it.</p>
<form method="post" action="/admin/blocks" class="card">
<input type="hidden" name="_csrf" value="${csrf}">
<div class="row"><div><label for="block-value">An account (@user@server or its URL), or a whole server (spam.example)</label><input id="block-value" name="value" required autocapitalize="none" spellcheck="false" placeholder="@spammer@spam.example or spam.example"></div>
<button class="danger" type="submit">Block</button></div>
</form>
<form method="post" action="/admin/blocks/import" enctype="multipart/form-data" class="card">
<input type="hidden" name="_csrf" value="${csrf}">
<label for="blocklist">Import a server blocklist <span class="hint">(Mastodon's CSV export, or one server name per line; suspensions are blocked, silences skipped)</span></label>
<input id="blocklist" type="file" name="file0" accept=".csv,.txt,text/csv,text/plain">
<div class="actions"><button class="danger" type="submit">Import</button></div>
</form>
${
  rows.length === 0
    ? html`<p>Nothing is blocked.</p>`
    : html`<table><thead><tr><th scope="col">Blocked</th><th scope="col">Kind</th><th scope="col">Since</th><th scope="col"><span class="sr">Actions</span></th></tr></thead>
<tbody>${rows.map(
        (
          b,
        ) => html`<tr><td>${b.value}</td><td>${b.kind === "domain" ? "server" : "account"}</td><td>${formatDate(new Date(b.createdAt))}</td>
<td><form method="post" action="/admin/blocks/remove"><input type="hidden" name="_csrf" value="${csrf}"><input type="hidden" name="kind" value="${b.kind}"><input type="hidden" name="value" value="${b.value}"><button type="submit">Unblock</button></form></td></tr>`,
      )}</tbody></table>`
}`;
}

/** Where the post has got: servers reached out of those due, and what failed. */
export function deliveryBox(p: DeliveryProgress): Html {
  const pct = p.due === 0 ? 100 : Math.floor((p.delivered / p.due) * 100);
  return html`<section class="card" aria-labelledby="delivery-title" data-delivery>
<h2 id="delivery-title">Delivery</h2>
${
  p.due === 0
    ? html`<p>No follower servers to reach yet.</p>`
    : html`<div class="progress" role="progressbar" aria-valuemin="0" aria-valuemax="${p.due}" aria-valuenow="${p.delivered}" aria-label="Servers reached"><span class="w${Math.round(pct / 5) * 5}"></span></div>
<p><strong data-reached>${p.delivered}</strong> of <strong data-due>${p.due}</strong> servers reached (${pct}%)${p.waiting ? html` · ${p.waiting} on the way` : ""}${p.failing ? html` · ${p.failing} retrying` : ""}${p.givenUp ? html` · ${p.givenUp} given up` : ""}${p.refused ? html` · ${p.refused} refused` : ""}${p.gone ? html` · ${p.gone} gone (followers removed)` : ""}</p>
${
  p.failures.length
    ? html`<table><thead><tr><th scope="col">Server</th><th scope="col">State</th><th scope="col">Tries</th><th scope="col">Last answer</th></tr></thead>
<tbody>${p.failures.map((f) => html`<tr><td>${f.host}</td><td>${f.status === "pending" ? "retrying" : f.status.replace("_", " ")}</td><td class="num">${f.attempts}</td><td>${f.lastError ?? ""}</td></tr>`)}</tbody></table>`
    : ""
}`
}
<p class="hint">Reload to update.</p>
</section>`;
}

export interface AudienceView {
  csrf: string;
  aliases: string[];
  movedTo: string | null;
  movesIn: { from: string; at: number; followersSince: number }[];
  bridgy: { account: string; status: "off" | "pending" | "accepted" };
  hasAvatar: boolean;
  error?: string;
  notice?: string;
}

/** Bringing the audience here, taking it elsewhere, and reaching Bluesky. */
export function audiencePage(v: AudienceView): Html {
  return html`<h1>Audience</h1>${messages(v.notice, v.error)}
${
  v.movedTo
    ? html`<p class="notice">This account has moved to <a href="${v.movedTo}">${v.movedTo}</a>. Nothing more is published here.</p>`
    : ""
}
<section class="card"><h2>Also known as</h2>
<p>Your other accounts, one per line (<code>@you@mastodon.example</code> or a URL). Listing an account here lets it move its followers to this one: on Mastodon, <em>Move to a different account</em>.</p>
<form method="post" action="/admin/audience/aliases"><input type="hidden" name="_csrf" value="${v.csrf}">
<label for="aliases">Accounts</label>
<textarea id="aliases" name="aliases" rows="3">${v.aliases.join("\n")}</textarea>
<div class="actions"><button type="submit">Save</button></div></form>
${
  v.movesIn.length > 0
    ? html`<ul>${v.movesIn.map((m) => html`<li>${m.from} moved here on ${formatDate(new Date(m.at))}: ${m.followersSince} followers since</li>`)}</ul>`
    : ""
}
</section>
<section class="card"><h2>Bluesky</h2>
<p>Bridgy Fed shows your posts on Bluesky while this account follows <code>${v.bridgy.account}</code>; people on Bluesky then see and follow a bridged profile. Turning it off ends the bridging.</p>
${v.hasAvatar ? "" : html`<p class="hint">Bridgy Fed wants a profile picture: add an avatar first.</p>`}
<form method="post" action="/admin/audience/bridgy"><input type="hidden" name="_csrf" value="${v.csrf}">
<input type="hidden" name="on" value="${v.bridgy.status === "off" ? "1" : "0"}">
<p>Status: <strong>${v.bridgy.status === "off" ? "off" : v.bridgy.status === "pending" ? "waiting for Bridgy Fed to accept" : "on"}</strong></p>
<div class="actions"><button type="submit">${v.bridgy.status === "off" ? "Also publish to Bluesky (through Bridgy Fed)" : "Stop publishing to Bluesky"}</button></div></form>
</section>
<section class="card"><h2>Take your audience with you</h2>
<p><a class="button" href="/admin/followers.csv" download>Export followers (CSV)</a></p>
${
  v.movedTo
    ? ""
    : html`<form method="post" action="/admin/audience/move" data-confirm="Move this account for good? Every follower's server is told to follow the new account, and nothing more can be published here.">
<input type="hidden" name="_csrf" value="${v.csrf}">
<label for="move-to">Move to</label><input id="move-to" name="target" placeholder="@you@new.example" required>
<p class="hint">The new account must first list this one (${""}the "also known as" of its profile). Followers' servers follow the new account; this one keeps its posts and says where it went.</p>
<label class="check"><input type="checkbox" name="confirm" value="1" required> I understand this cannot be undone</label>
<div class="actions"><button class="danger" type="submit">Move this account</button></div></form>`
}
</section>`;
}
