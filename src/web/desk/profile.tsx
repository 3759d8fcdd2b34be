import { audit } from "../../product/access/audit.ts";
import { InvalidMediaError, ingestMedia } from "../../product/media.ts";
import { getProfile, InvalidProfileError } from "../../product/profile.ts";
import { publishProfile } from "../../product/publish.ts";
import { UnavailableError } from "../../shared/errors.ts";
import { Messages } from "../views/desk.tsx";
import { ProfileForm } from "../views/profile.tsx";
import { type Desk, isMultipart } from "./desk.tsx";

/** The author's profile: name, bio, fields, pictures, bot flag, follower approval. */
export function profileRoutes(desk: Desk): void {
  const { admin, render, notice, readUpload } = desk;
  const { lectern, now } = desk.deps;
  const { data, db } = lectern;
  admin.get("/profile", async (c) => {
    const session = c.get("session");
    return render(
      c,
      "Profile",
      <>
        <h1>Profile</h1>
        <Messages notice={notice(c)} />
        <ProfileForm csrf={session.csrfToken} profile={await getProfile(data)} />
      </>,
      session,
    );
  });

  admin.post("/profile", async (c) => {
    const session = c.get("session");
    let all: (k: string) => string[];
    const pictures: { avatarMediaId?: string | null; headerMediaId?: string | null } = {};
    let pictureError: string | undefined;
    if (isMultipart(c)) {
      const upload = await readUpload(c, 2);
      try {
        all = (k) => upload.fields.get(k) ?? [];
        for (const file of upload.files) {
          if (file.field !== "avatar" && file.field !== "header") continue;
          try {
            const m = await ingestMedia(data, lectern.media, { path: file.path, filename: file.filename }, now());
            if (m.kind !== "image") throw new InvalidMediaError(`${file.field}: must be a picture`);
            pictures[file.field === "avatar" ? "avatarMediaId" : "headerMediaId"] = m.id;
          } catch (e) {
            if (!(e instanceof InvalidMediaError || e instanceof UnavailableError)) throw e;
            pictureError = e.message;
          }
        }
      } finally {
        await upload.cleanup();
      }
    } else {
      const f = await c.req.parseBody({ all: true });
      all = (k) => [f[k]].flat().filter((x): x is string => typeof x === "string");
    }
    for (const which of all("removePicture")) {
      if (which === "avatar") pictures.avatarMediaId = null;
      if (which === "header") pictures.headerMediaId = null;
    }
    const names = all("fieldName");
    const values = all("fieldValue");
    const input = {
      name: all("name")[0] ?? "",
      summary: all("summary")[0] ?? "",
      bot: all("bot")[0] === "1",
      approveFollowers: all("approveFollowers")[0] === "1",
      fields: names.map((name, i) => ({ name, value: values[i] ?? "" })),
      ...pictures,
    };
    try {
      if (pictureError) throw new InvalidProfileError(pictureError);
      await publishProfile(lectern.context(), input, now());
      await audit(db, desk.actor(c), "profile", null, now());
      return c.redirect("/admin/profile?notice=profile", 303);
    } catch (e) {
      if (!(e instanceof InvalidProfileError)) throw e;
      const shown = { ...(await getProfile(data)), ...input, fields: input.fields.filter((x) => x.name || x.value) };
      return render(
        c,
        "Profile",
        <>
          <h1>Profile</h1>
          <Messages error={e.message} />
          <ProfileForm csrf={session.csrfToken} profile={shown} />
        </>,
        session,
        422,
      );
    }
  });
}
