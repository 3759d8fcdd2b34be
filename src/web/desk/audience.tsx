import type { Context } from "hono";
import { audit } from "../../product/access/audit.ts";
import { followersCsv } from "../../product/followers.ts";
import { followAccount, getFollowing, unfollowAccount } from "../../product/following.ts";
import { getSetting, setSetting } from "../../product/instance.ts";
import { moveAccount, movesIn, setAliases } from "../../product/moves.ts";
import { getProfile, InvalidProfileError } from "../../product/profile.ts";
import { addRelay, listRelays, removeRelay } from "../../product/relays.ts";
import { AudiencePage } from "../views/audience.tsx";
import type { Html } from "../views/layout.tsx";
import type { Desk } from "./desk.tsx";

const NOTICES: Record<string, string> = {
  aliases: "Saved. Your other accounts can now move their followers here.",
  "bridgy-on": "Bridgy Fed was asked to bridge this account; it shows as on once it accepts.",
  "bridgy-off": "Bridgy Fed was told to stop bridging this account.",
  moved: "Moved. Every follower's server was told to follow the new account.",
  "relay-added": "The relay was asked to relay this account's posts; it shows as relaying once it accepts.",
  "relay-removed": "Left the relay.",
};

/**
 * The desk's audience page: aliases (followers moving in), the Bluesky
 * bridge, moving out, and the followers' export. Mounted under the desk's
 * session and CSRF checks.
 */
export function audienceRoutes(desk: Desk): void {
  const { admin } = desk;
  const { lectern } = desk.deps;
  const render = (c: Context, title: string, body: Html | Promise<Html>, status?: number) =>
    desk.render(c, title, body, c.get("session"), status);
  const { data, config } = lectern;
  const bridgyId = async () => {
    // The bridge's actor id, remembered once resolved (the handle is resolved on the first switch).
    return await getSetting(data.db, "bridgy_fed_actor");
  };
  const page = async (c: Context, extra: { error?: string; status?: number } = {}) => {
    const profile = await getProfile(data);
    const id = await bridgyId();
    const f = id === undefined ? undefined : await getFollowing(data.db, id);
    const session = c.get("session") as { csrfToken: string };
    return render(
      c,
      "Audience",
      <AudiencePage
        csrf={session.csrfToken}
        aliases={profile.aliases}
        movedTo={profile.movedTo}
        movesIn={await movesIn(data)}
        bridgy={{ account: config.bridgyFedAccount, status: f === undefined ? "off" : f.status }}
        relays={await listRelays(data.db)}
        hasAvatar={profile.avatarMediaId !== null}
        error={extra.error}
        notice={NOTICES[c.req.query("notice") ?? ""]}
      />,
      extra.status,
    );
  };
  const form = async (c: Context) => {
    const f = await c.req.parseBody();
    return (k: string) => (typeof f[k] === "string" ? (f[k] as string) : "");
  };
  const refused = (c: Context, e: unknown) => {
    if (e instanceof InvalidProfileError) return page(c, { error: e.message, status: 422 });
    throw e;
  };

  admin.get("/audience", (c) => page(c));

  admin.post("/audience/aliases", async (c) => {
    const get = await form(c);
    try {
      const ids = await setAliases(lectern.context(), get("aliases").split(/\r?\n/));
      await audit(data.db, desk.actor(c), "aliases", ids.join(" ") || "none");
    } catch (e) {
      return refused(c, e);
    }
    return c.redirect("/admin/audience?notice=aliases", 303);
  });

  admin.post("/audience/bridgy", async (c) => {
    const get = await form(c);
    const ctx = lectern.context();
    try {
      if (get("on") === "1") {
        const f = await followAccount(ctx, config.bridgyFedAccount);
        await setSetting(data.db, "bridgy_fed_actor", f.actorIri);
        await audit(data.db, desk.actor(c), "bridge", "on");
        return c.redirect("/admin/audience?notice=bridgy-on", 303);
      }
      const id = await bridgyId();
      if (id !== undefined) await unfollowAccount(ctx, id);
      await audit(data.db, desk.actor(c), "bridge", "off");
    } catch (e) {
      return refused(c, e);
    }
    return c.redirect("/admin/audience?notice=bridgy-off", 303);
  });

  admin.post("/audience/relays", async (c) => {
    const get = await form(c);
    try {
      const relay = await addRelay(lectern.context(), get("url"));
      await audit(data.db, desk.actor(c), "relay-add", relay.url);
    } catch (e) {
      return refused(c, e);
    }
    return c.redirect("/admin/audience?notice=relay-added", 303);
  });

  admin.post("/audience/relays/remove", async (c) => {
    const get = await form(c);
    if (await removeRelay(lectern.context(), get("url")))
      await audit(data.db, desk.actor(c), "relay-remove", get("url"));
    return c.redirect("/admin/audience?notice=relay-removed", 303);
  });

  admin.post("/audience/move", async (c) => {
    const get = await form(c);
    if (get("confirm") !== "1") return page(c, { error: "Tick the box to confirm the move.", status: 422 });
    try {
      const to = await moveAccount(lectern.context(), get("target"));
      await audit(data.db, desk.actor(c), "move", to.href);
    } catch (e) {
      return refused(c, e);
    }
    return c.redirect("/admin/audience?notice=moved", 303);
  });

  admin.get("/followers.csv", async (c) =>
    c.body(await followersCsv(data.db), 200, {
      "Content-Type": "text/csv; charset=utf-8",
      "Content-Disposition": `attachment; filename="followers-${new Date().toISOString().slice(0, 10)}.csv"`,
    }),
  );
}
