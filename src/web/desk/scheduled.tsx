import type { Context } from "hono";
import { audit } from "../../product/access/audit.ts";
import { InvalidPostError } from "../../product/posts.ts";
import { cancelScheduled, editScheduled, getScheduled } from "../../product/schedule.ts";
import { Temporal } from "../../shared/temporal.ts";
import { ComposeForm, type ComposeValues } from "../views/compose.tsx";
import { Messages } from "../views/desk.tsx";
import { composer, type PageExtra, TIME_ZONES } from "./compose.tsx";
import type { Desk, DeskEnv } from "./desk.tsx";
import { needsApproval } from "./review.tsx";

/** Posts waiting for their time: edit (with preview) and cancel. */
export function scheduledRoutes(desk: Desk): void {
  const { admin, render } = desk;
  const { lectern, now } = desk.deps;
  const { data, db } = lectern;
  const { valuesOf, readCompose, scheduledNotice, toInput, preview } = composer(desk);

  const scheduledPage = (c: Context<DeskEnv>, id: string, values: ComposeValues, extra: PageExtra = {}) => {
    const session = c.get("session");
    return render(
      c,
      "Edit scheduled post",
      <>
        <h1>Edit scheduled post</h1>
        <Messages error={extra.error} />
        <ComposeForm
          csrf={session.csrfToken}
          values={values}
          action={`/admin/scheduled/${id}`}
          schedule={true}
          guessZone={false}
          preview={extra.preview}
          submitLabel="Save"
          timeZones={TIME_ZONES}
        />
      </>,
      session,
      extra.status,
    );
  };

  admin.get("/scheduled/:id/edit", async (c) => {
    const s = await getScheduled(data, c.req.param("id"));
    if (s === undefined) return c.notFound();
    const local = Temporal.Instant.fromEpochMilliseconds(s.publishAt).toZonedDateTimeISO(s.timeZone);
    return scheduledPage(
      c,
      s.id,
      await valuesOf(s, {
        date: local.toPlainDate().toString(),
        time: local.toPlainTime().toString({ smallestUnit: "minute" }),
        timeZone: s.timeZone,
      }),
    );
  });

  admin.post("/scheduled/:id", async (c) => {
    const id = c.req.param("id");
    if ((await getScheduled(data, id)) === undefined) return c.notFound();
    const values = await readCompose(c);
    try {
      if (values.mediaError) throw new InvalidPostError(values.mediaError);
      if (values.action === "preview") return scheduledPage(c, id, values, { preview: await preview(values) });
      // Under the approval rule an editor's change sends the post back to the owner, approved before or not.
      const back = (await needsApproval(desk, c)) ? { authorId: c.get("session").staffId } : undefined;
      const scheduled = await editScheduled(
        data,
        id,
        { ...toInput(values), date: values.date, time: values.time, timeZone: values.timeZone },
        now(),
        back,
      );
      await audit(db, desk.actor(c), "edit-scheduled", `for ${values.date} ${values.time} ${values.timeZone}`, now());
      return c.redirect(back === undefined ? scheduledNotice(scheduled) : "/admin?notice=awaiting", 303);
    } catch (e) {
      if (e instanceof InvalidPostError) return scheduledPage(c, id, values, { error: e.message, status: 422 });
      throw e;
    }
  });

  admin.post("/scheduled/:id/cancel", async (c) => {
    if (!(await cancelScheduled(data, c.req.param("id")))) return c.notFound();
    await audit(db, desk.actor(c), "cancel-scheduled", null, now());
    return c.redirect("/admin?notice=cancelled", 303);
  });
}
