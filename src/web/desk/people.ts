import { failingServers } from "../../delivery/status.ts";
import { audit } from "../../product/audit.ts";
import { InvalidBlockError, listBlocks } from "../../product/blocks.ts";
import { countFollowers, listFollowers } from "../../product/followers.ts";
import { approveFollowRequest, blockAccount, blockServer, rejectFollower, unblock } from "../../product/publish.ts";
import { blocksPage, failingServersTable, followersTable, messages, pendingTable } from "../views/admin.ts";
import { html } from "../views/layout.ts";
import type { Desk } from "./desk.ts";

/** Who follows (approve, remove) and who may not (blocks of accounts and servers). */
export function peopleRoutes(desk: Desk): void {
  const { admin, render, notice } = desk;
  const { lectern, now } = desk.deps;
  const { db } = lectern;
  admin.get("/followers", async (c) => {
    const session = c.get("session");
    const after = Number(c.req.query("after") ?? 0);
    const list = await listFollowers(db, 100, Number.isSafeInteger(after) && after >= 0 ? after : 0);
    return render(
      c,
      "Followers",
      html`<h1>Followers</h1>${messages(notice(c))}${pendingTable(session.csrfToken, (await listFollowers(db, 200, 0, "pending")).items)}${followersTable(session.csrfToken, await countFollowers(db), list.items, list.next ? `/admin/followers?after=${list.next}` : null)}${failingServersTable(await failingServers(db))}`,
      session,
    );
  });

  admin.post("/followers/approve", async (c) => {
    const actor = (await c.req.parseBody()).actor;
    if (typeof actor !== "string" || !(await approveFollowRequest(lectern.context(), actor))) return c.notFound();
    await audit(db, desk.actor(c), "approve-follower", actor, now());
    return c.redirect("/admin/followers?notice=approved", 303);
  });

  admin.get("/blocks", async (c) =>
    render(
      c,
      "Blocks",
      blocksPage(c.get("session").csrfToken, await listBlocks(db), undefined, notice(c)),
      c.get("session"),
    ),
  );

  admin.post("/blocks", async (c) => {
    const f = await c.req.parseBody();
    const value = typeof f.value === "string" ? f.value : "";
    try {
      if (f.kind === "domain") await blockServer(lectern.context(), value);
      else await blockAccount(lectern.context(), value);
    } catch (e) {
      if (!(e instanceof InvalidBlockError)) throw e;
      return render(
        c,
        "Blocks",
        blocksPage(c.get("session").csrfToken, await listBlocks(db), e.message),
        c.get("session"),
        422,
      );
    }
    await audit(db, desk.actor(c), "block", f.kind === "domain" ? `server ${value}` : value, now());
    return c.redirect("/admin/blocks?notice=blocked", 303);
  });

  admin.post("/blocks/remove", async (c) => {
    const f = await c.req.parseBody();
    if ((f.kind !== "actor" && f.kind !== "domain") || typeof f.value !== "string") return c.notFound();
    if (await unblock(lectern.context(), f.kind, f.value))
      await audit(db, desk.actor(c), "unblock", f.kind === "domain" ? `server ${f.value}` : f.value, now());
    return c.redirect("/admin/blocks?notice=unblocked", 303);
  });

  admin.post("/followers/remove", async (c) => {
    const actor = (await c.req.parseBody()).actor;
    if (typeof actor !== "string" || !(await rejectFollower(lectern.context(), actor))) return c.notFound();
    await audit(db, desk.actor(c), "remove-follower", actor, now());
    return c.redirect("/admin/followers?notice=removed", 303);
  });
}
