import type { Context } from "hono";
import { audit } from "../../product/access/audit.ts";
import { subscribersCsv } from "../../readers/csv.ts";
import { readerKeys } from "../../readers/keys.ts";
import { erase, parseAddress, type ReaderCounts, readerCounts, suppress } from "../../readers/subscribers.ts";
import { Csrf, Messages } from "../views/desk.tsx";
import type { Html } from "../views/layout.tsx";
import type { Desk } from "./desk.tsx";

const NOTICES: Record<string, string> = {
  erased: "Done: nothing of that address is kept.",
  suppressed: "Done: that address gets no more email, and cannot be subscribed again.",
};

/**
 * Readers without an account, in the desk: how many by channel, the
 * subscribers' export, and the two things the owner does for one address
 * (erase it on its owner's request; suppress one the mail provider reported).
 * Subscribers are personal data: the owner's alone (the `audience` permission),
 * never listed on a page, every export and change in the audit log.
 */
export function readerDeskRoutes(desk: Desk): void {
  const { admin } = desk;
  const { data, config } = desk.deps.lectern;
  const page = async (c: Context, extra: { error?: string; status?: number } = {}) =>
    desk.render(
      c,
      "Readers",
      <ReadersPage
        csrf={(c.get("session") as { csrfToken: string }).csrfToken}
        counts={await readerCounts(data.db)}
        email={config.email !== null}
        push={config.push.enabled}
        notice={NOTICES[c.req.query("notice") ?? ""]}
        error={extra.error}
      />,
      c.get("session"),
      extra.status,
    );
  admin.get("/readers", (c) => page(c));
  admin.get("/readers.csv", async (c) => {
    await audit(data.db, desk.actor(c), "readers-export");
    return c.body(await subscribersCsv(data.db), 200, {
      "Content-Type": "text/csv; charset=utf-8",
      "Content-Disposition": `attachment; filename="email-subscribers-${new Date().toISOString().slice(0, 10)}.csv"`,
      "Cache-Control": "no-store",
    });
  });
  for (const action of ["erase", "suppress"] as const)
    admin.post(`/readers/${action}`, async (c) => {
      const form = await c.req.parseBody();
      const a = parseAddress(form.email);
      if (a === null) return page(c, { error: "Enter the email address, like reader@example.com.", status: 422 });
      const keys = await readerKeys(data);
      if (action === "erase") await erase(data.db, keys, a.address);
      else await suppress(data.db, keys, a.address, Date.now());
      await audit(data.db, desk.actor(c), action === "erase" ? "readers-erase" : "readers-suppress");
      return c.redirect(`/admin/readers?notice=${action === "erase" ? "erased" : "suppressed"}`, 303);
    });
}

function ReadersPage(v: {
  csrf: string;
  counts: ReaderCounts;
  email: boolean;
  push: boolean;
  notice?: string;
  error?: string;
}): Html {
  const e = v.counts.email;
  return (
    <>
      <h1>Readers without an account</h1>
      <Messages notice={v.notice} error={v.error} />
      <section class="card">
        <h2>By channel</h2>
        <ul>
          <li>
            Email: <strong data-email-confirmed>{e.confirmed}</strong> subscribers ({e.digest} by daily or weekly
            digest), {e.pending} waiting for confirmation, {e.unsubscribed} unsubscribed, {e.suppressed} suppressed
            {!v.email && " — email is off: set email.smtp_url to turn it on"}
          </li>
          <li>
            Web Push: <strong data-push>{v.counts.push}</strong> browsers{!v.push && " — push is off (push.enabled)"}
          </li>
        </ul>
        <p>
          <a class="button" href="/admin/readers.csv" download>
            Export email subscribers (CSV)
          </a>
        </p>
        <p class="hint">
          To import from Substack or Mailchimp: <code>npm run -s lectern -- readers import subscribers.csv</code> (only
          rows the file says are subscribed count as confirmed).
        </p>
      </section>
      <section class="card">
        <h2>One address</h2>
        <form method="post" action="/admin/readers/erase">
          <Csrf token={v.csrf} />
          <label for="erase-email">Erase an address (its owner asked)</label>
          <input id="erase-email" type="email" name="email" required maxlength={254} />
          <div class="actions">
            <button type="submit">Erase</button>
          </div>
        </form>
        <form method="post" action="/admin/readers/suppress">
          <Csrf token={v.csrf} />
          <label for="suppress-email">Suppress an address (a bounce or complaint your provider reported)</label>
          <input id="suppress-email" type="email" name="email" required maxlength={254} />
          <div class="actions">
            <button type="submit">Suppress</button>
          </div>
        </form>
      </section>
    </>
  );
}
