import { MAX_FIELDS, type Profile } from "../../product/profile.ts";
import { Csrf } from "./desk.tsx";
import type { Html } from "./layout.tsx";

/** The author's name, bio, fields, pictures and account flags. */
export function ProfileForm({ csrf, profile: p }: { csrf: string; profile: Profile }): Html {
  const blank = { name: "", value: "" };
  const fields = [...p.fields, ...Array(Math.max(0, MAX_FIELDS - p.fields.length)).fill(blank)].slice(0, MAX_FIELDS);
  return (
    <form method="post" action="/admin/profile" class="card" enctype="multipart/form-data">
      <Csrf token={csrf} />
      <label for="name">Display name</label>
      <input id="name" name="name" value={p.name} maxlength={100} required />
      <label for="summary">
        Bio <span class="hint">(Markdown)</span>
      </label>
      <textarea id="summary" name="summary" maxlength={2000} data-count="bio-count">
        {p.summary}
      </textarea>
      <output id="bio-count" class="counter" for="summary" />
      <fieldset class="card">
        <legend>
          Profile fields{" "}
          <span class="hint">
            (up to {MAX_FIELDS}; a link to your site gets verified when it links back with rel="me")
          </span>
        </legend>
        {fields.map((f, i) => (
          <div class="row">
            <div>
              <label for={`field-name-${i}`}>Label {i + 1}</label>
              <input id={`field-name-${i}`} name="fieldName" value={f.name} maxlength={255} />
            </div>
            <div>
              <label for={`field-value-${i}`}>Content {i + 1}</label>
              <input id={`field-value-${i}`} name="fieldValue" value={f.value} maxlength={2047} />
            </div>
          </div>
        ))}
      </fieldset>
      <fieldset class="card">
        <legend>
          Pictures <span class="hint">(JPEG, PNG, WebP, GIF or AVIF)</span>
        </legend>
        <label for="avatar">
          Avatar <span class="hint">(square works best)</span>
        </label>
        <input id="avatar" type="file" name="avatar" accept="image/*" />
        {p.avatarMediaId && <Check name="removePicture" value="avatar" label="Remove the avatar" />}
        <label for="header">
          Header <span class="hint">(wide, about 3:1)</span>
        </label>
        <input id="header" type="file" name="header" accept="image/*" />
        {p.headerMediaId && <Check name="removePicture" value="header" label="Remove the header" />}
      </fieldset>
      <Check name="bot" value="1" checked={p.bot} label="This account is automated (shown as a bot)" />
      <Check name="approveFollowers" value="1" checked={p.approveFollowers} label="Approve new followers by hand" />
      <div class="actions">
        <button class="primary" type="submit">
          Save profile
        </button>
      </div>
    </form>
  );
}

function Check(p: { name: string; value: string; label: string; checked?: boolean }): Html {
  return (
    <label class="check">
      <input type="checkbox" name={p.name} value={p.value} checked={p.checked} /> {p.label}
    </label>
  );
}
