import type { Context } from "@fedify/fedify";
import { sql } from "../storage/sql.ts";
import { AccountNotFoundError, resolveAccount } from "./accounts.ts";
import { siteChanged } from "./changes.ts";
import type { AppData } from "./context.ts";
import { getSetting, setSetting } from "./instance.ts";
import { getProfile, InvalidProfileError, setMovedTo, updateProfile } from "./profile.ts";

/** The author's other accounts (`alsoKnownAs`), from handles or URLs; followers may move here from them. */
export async function setAliases(ctx: Context<AppData>, inputs: string[], now: number = Date.now()): Promise<string[]> {
  const ids: string[] = [];
  for (const input of inputs.map((i) => i.trim()).filter((i) => i !== "")) {
    try {
      ids.push((await resolveAccount(ctx, input)).id.href);
    } catch (e) {
      if (e instanceof AccountNotFoundError) throw new InvalidProfileError(`also known as: ${e.message}`);
      throw e;
    }
  }
  await updateProfile(ctx.data, { aliases: [...new Set(ids)] }, now);
  await siteChanged(ctx.data, [{ kind: "profile" }]);
  await ctx.data.outbox.profileChanged(now);
  return ids;
}

/**
 * Moves the account to another one, which must list this account in its
 * `alsoKnownAs` (servers check that before moving anyone): every follower's
 * server is told with a Move, the actor shows `movedTo`, the pages point to
 * the new home, and no more posts are accepted here.
 */
export async function moveAccount(ctx: Context<AppData>, input: string, now: number = Date.now()): Promise<URL> {
  if ((await getProfile(ctx.data)).movedTo !== null) throw new InvalidProfileError("this account has already moved");
  let target: Awaited<ReturnType<typeof resolveAccount>>;
  try {
    target = await resolveAccount(ctx, input);
  } catch (e) {
    if (e instanceof AccountNotFoundError) throw new InvalidProfileError(`move: ${e.message}`);
    throw e;
  }
  const me = ctx.data.urls.actor().href;
  if (target.id.href === me) throw new InvalidProfileError("move: that is this account");
  if (!target.aliases.some((a) => a.href === me)) {
    throw new InvalidProfileError(
      `move: ${target.handle ?? target.id.href} must first list ${ctx.data.urls.acct()} as an alias ("also known as")`,
    );
  }
  await setMovedTo(ctx.data, target.id.href, now);
  await siteChanged(ctx.data, [{ kind: "profile" }]);
  await ctx.data.outbox.accountMoved(target.id, now);
  return target.id;
}

/** A Move to us from one of the author's aliases: remembered, so the desk can say how many followers came. */
export async function recordMoveIn(data: AppData, from: string, now: number = Date.now()): Promise<void> {
  if ((await getSetting(data.db, `moved_in:${from}`)) !== undefined) return;
  await setSetting(data.db, `moved_in:${from}`, String(now));
}

/** Moves to us from the author's other accounts, and how many followers arrived since each. */
export async function movesIn(data: AppData): Promise<{ from: string; at: number; followersSince: number }[]> {
  const rows = await data.db.all<{ key: string; value: string }>(
    sql`SELECT key, value FROM instance WHERE key LIKE 'moved_in:%' ORDER BY key`,
  );
  const out = [];
  for (const r of rows) {
    const at = Number(r.value);
    const n = await data.db.get<{ n: number }>(
      sql`SELECT count(*) AS n FROM followers WHERE status = 'accepted' AND created_at >= ${at}`,
    );
    out.push({ from: r.key.slice("moved_in:".length), at, followersSince: Number(n?.n ?? 0) });
  }
  return out;
}
