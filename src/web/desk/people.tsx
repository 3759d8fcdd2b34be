import { readFile, stat } from "node:fs/promises";
import type { Context } from "hono";
import { failingServers } from "../../delivery/status.ts";
import { audit } from "../../product/access/audit.ts";
import { InvalidBlockError, listBlocks } from "../../product/blocks.ts";
import { countFollowers, followersOverTime, listFollowers } from "../../product/followers.ts";
import { identify, importDomainBlocks } from "../../product/identify.ts";
import { approveFollowRequest, blockAccount, blockServer, dismissFollower, unblock } from "../../product/publish.ts";
import { Messages } from "../views/desk.tsx";
import { BlocksPage, FailingServersTable, FollowersChart, FollowersTable, PendingTable } from "../views/people.tsx";
import type { Desk, DeskEnv } from "./desk.tsx";

/** Who follows (approve, remove) and who may not (blocks of accounts and servers). */
export function peopleRoutes(desk: Desk): void {
  const { admin, render, notice, readUpload } = desk;
  const { lectern, now } = desk.deps;
  const { db } = lectern;
  admin.get("/followers", async (c) => {
    const session = c.get("session");
    const after = Number(c.req.query("after") ?? 0);
    const list = await listFollowers(db, 100, Number.isSafeInteger(after) && after >= 0 ? after : 0);
    return render(
      c,
      "Followers",
      <>
        <h1>Followers</h1>
        <Messages notice={notice(c)} />
        <FollowersChart points={await followersOverTime(db, 30, now())} />
        <PendingTable csrf={session.csrfToken} rows={(await listFollowers(db, 200, 0, "pending")).items} />
        <FollowersTable
          csrf={session.csrfToken}
          total={await countFollowers(db)}
          rows={list.items}
          next={list.next ? `/admin/followers?after=${list.next}` : null}
        />
        <FailingServersTable rows={await failingServers(db)} />
      </>,
      session,
    );
  });

  /** The follower a form names: its actor URL from the table, or a handle the author typed. */
  const follower = async (c: Context<DeskEnv>): Promise<string | undefined> => {
    const actor = (await c.req.parseBody()).actor;
    if (typeof actor !== "string") return undefined;
    try {
      const named = await identify(lectern.context(), actor);
      return named.kind === "actor" ? named.iri : undefined;
    } catch (e) {
      if (e instanceof InvalidBlockError) return undefined;
      throw e;
    }
  };

  admin.post("/followers/approve", async (c) => {
    const actor = await follower(c);
    if (actor === undefined || !(await approveFollowRequest(lectern.context(), actor))) return c.notFound();
    await audit(db, desk.actor(c), "approve-follower", actor, now());
    return c.redirect("/admin/followers?notice=approved", 303);
  });

  const blocksView = async (c: Context<DeskEnv>, error?: string, done?: string, status = 200) =>
    render(
      c,
      "Blocks",
      <BlocksPage
        csrf={c.get("session").csrfToken}
        rows={await listBlocks(db)}
        error={error}
        notice={done ?? notice(c)}
      />,
      c.get("session"),
      status,
    );
  admin.get("/blocks", (c) => blocksView(c));

  // An account as @user@server or its URL, or a bare server name: which one is read from what was typed.
  admin.post("/blocks", async (c) => {
    const f = await c.req.parseBody();
    const value = typeof f.value === "string" ? f.value : "";
    let what: string;
    try {
      const named = await identify(lectern.context(), value);
      if (named.kind === "domain") {
        const { domain, removed } = await blockServer(lectern.context(), named.domain);
        what = `server ${domain} (${removed} followers removed)`;
      } else what = await blockAccount(lectern.context(), named.iri);
    } catch (e) {
      if (!(e instanceof InvalidBlockError)) throw e;
      return blocksView(c, e.message, undefined, 422);
    }
    await audit(db, desk.actor(c), "block", what, now());
    return c.redirect("/admin/blocks?notice=blocked", 303);
  });

  // A domain blocklist (Mastodon's CSV export, or one server per line).
  admin.post("/blocks/import", async (c) => {
    const upload = await readUpload(c, 1);
    let csv = "";
    try {
      const file = upload.files[0];
      if (file === undefined) return blocksView(c, "Choose a blocklist file (CSV) first.", undefined, 422);
      if ((await stat(file.path)).size > 2 * 1024 * 1024)
        return blocksView(c, "A blocklist of at most 2 MB, please.", undefined, 413);
      csv = await readFile(file.path, "utf8");
    } finally {
      await upload.cleanup();
    }
    let report: Awaited<ReturnType<typeof importDomainBlocks>>;
    try {
      report = await importDomainBlocks(lectern.context(), csv);
    } catch (e) {
      if (!(e instanceof InvalidBlockError)) throw e;
      return blocksView(c, e.message, undefined, 422);
    }
    await audit(db, desk.actor(c), "block", `${report.blocked.length} servers from a blocklist`, now());
    const skipped = report.skipped.length
      ? ` Skipped ${report.skipped.length}: ${report.skipped
          .slice(0, 10)
          .map((s) => `${s.line} (${s.why})`)
          .join(", ")}${report.skipped.length > 10 ? "…" : ""}.`
      : "";
    return blocksView(
      c,
      undefined,
      `Blocked ${report.blocked.length} servers; ${report.followersRemoved} followers on them removed.${skipped}`,
    );
  });

  admin.post("/blocks/remove", async (c) => {
    const f = await c.req.parseBody();
    if ((f.kind !== "actor" && f.kind !== "domain") || typeof f.value !== "string") return c.notFound();
    if (await unblock(lectern.context(), f.kind, f.value))
      await audit(db, desk.actor(c), "unblock", f.kind === "domain" ? `server ${f.value}` : f.value, now());
    return c.redirect("/admin/blocks?notice=unblocked", 303);
  });

  admin.post("/followers/remove", async (c) => {
    const actor = await follower(c);
    if (actor === undefined || !(await dismissFollower(lectern.context(), actor))) return c.notFound();
    await audit(db, desk.actor(c), "remove-follower", actor, now());
    return c.redirect("/admin/followers?notice=removed", 303);
  });
}
