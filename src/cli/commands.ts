import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { deliveryProgress } from "../delivery/progress.ts";
import { purgeStatus } from "../delivery/purges.ts";
import { deliveryStatus } from "../delivery/status.ts";
import { audit, COMMAND_LINE } from "../product/access/audit.ts";
import { listStaff, setPassword } from "../product/access/staff.ts";
import { listBlocks } from "../product/blocks.ts";
import { countFollowers, followersCsv, listFollowers } from "../product/followers.ts";
import { followAccount, unfollowAccount } from "../product/following.ts";
import { identify, importDomainBlocks } from "../product/identify.ts";
import { getSetting, setSetting } from "../product/instance.ts";
import { migrateMedia } from "../product/media-migrate.ts";
import { moveAccount, setAliases } from "../product/moves.ts";
import { getProfile } from "../product/profile.ts";
import { approveFollowRequest, blockAccount, blockServer, unblock } from "../product/publish.ts";
import { listRelays } from "../product/relays.ts";
import { readersDue } from "../readers/fanout.ts";
import type { Config, S3Settings } from "../shared/config.ts";
import { FileMediaStore } from "../storage/media-store.ts";
import { S3MediaStore } from "../storage/s3-media-store.ts";
import { backupCommand, restoreCommand } from "./backup.ts";
import { UsageError, withLectern } from "./common.ts";
import { doctorCommand } from "./doctor.ts";
import { migrateCommand } from "./migrate.ts";
import { edit, post, postIdFrom, remove } from "./posting.ts";
import { readersCommand } from "./readers.ts";
import { relaysCommand } from "./relays.ts";
import { staffCommand } from "./staff.ts";
import { undoCommand } from "./undo.ts";

/*
 * The CLI's commands, one function each, looked up by name in COMMANDS
 * (cli-run.ts reads the configuration, runs the command and turns errors into
 * messages and exit codes).
 */

/** `deliveries` */
async function deliveries(config: Config, rest: string[], _command: string): Promise<number> {
  const { positionals } = parseArgs({ args: rest, allowPositionals: true, options: {} });
  const id = postIdFrom(positionals[0], config.origin);
  await withLectern(config, async (lectern) => {
    const p = await deliveryProgress(lectern.db, id);
    const pct = p.due === 0 ? 100 : Math.floor((p.delivered / p.due) * 100);
    console.log(`${p.delivered}/${p.due} servers reached (${pct}%)`);
    console.log(
      `waiting ${p.waiting}, retrying ${p.failing}, given up ${p.givenUp}, refused ${p.refused}, gone ${p.gone}`,
    );
    // The desk's words: a pending delivery that failed is "retrying".
    const word: Record<string, string> = { pending: "retrying", failed: "given up" };
    for (const f of p.failures)
      console.log(`  ${f.host}  ${word[f.status] ?? f.status}  tries ${f.attempts}  ${f.lastError ?? ""}`);
  });
  return 0;
}

/** `set-password NAME` */
async function setPasswordCommand(config: Config, rest: string[], _command: string): Promise<number> {
  const { positionals } = parseArgs({ args: rest, options: {}, allowPositionals: true });
  const username = positionals[0];
  if (username === undefined) {
    // Never a default: a forgotten name must not change the owner's password.
    const names = await withLectern(config, async ({ db }) => (await listStaff(db)).map((s) => s.username));
    throw new UsageError(`set-password: give the account's name (one of: ${names.join(", ")})`);
  }
  const password = readFileSync(0, "utf8").replace(/\r?\n$/, "");
  await withLectern(config, async (lectern) => {
    await setPassword(lectern.db, password, username);
    await audit(lectern.db, COMMAND_LINE, "password", username);
  });
  console.log(`Password of ${username} set; their sessions and app tokens were ended.`);
  return 0;
}

/** `staff` */
async function staff(config: Config, rest: string[], _command: string): Promise<number> {
  return await staffCommand(config, rest);
}

/** `approve | block | unblock` */
async function people(config: Config, rest: string[], command: string): Promise<number> {
  const { positionals } = parseArgs({ args: rest, allowPositionals: true, options: {} });
  const target = positionals[0];
  if (target === undefined)
    throw new UsageError(
      `${command}: give an account (@user@server or its URL)${command === "approve" ? "" : " or a server name"}`,
    );
  await withLectern(config, async (lectern) => {
    const ctx = lectern.context();
    const named = await identify(ctx, target);
    if (command === "approve") {
      if (named.kind !== "actor" || !(await approveFollowRequest(ctx, named.iri)))
        throw new UsageError(`approve: ${target} is not waiting for approval`);
      await audit(lectern.db, COMMAND_LINE, "approve-follower", named.iri);
      console.log(`Approved ${target}`);
    } else if (command === "block") {
      if (named.kind === "actor") {
        const iri = await blockAccount(ctx, named.iri);
        await audit(lectern.db, COMMAND_LINE, "block", iri);
        console.log(`Blocked ${iri}`);
      } else {
        const { domain, removed } = await blockServer(ctx, named.domain);
        await audit(lectern.db, COMMAND_LINE, "block", `server ${domain} (${removed} followers removed)`);
        console.log(`Blocked ${domain}; removed ${removed} followers`);
      }
    } else {
      const done =
        named.kind === "actor" ? await unblock(ctx, "actor", named.iri) : await unblock(ctx, "domain", named.domain);
      if (done) await audit(lectern.db, COMMAND_LINE, "unblock", target);
      console.log(done ? `Unblocked ${target}` : `${target} was not blocked`);
    }
  });
  return 0;
}

/** `import-blocks` */
async function importBlocks(config: Config, rest: string[], _command: string): Promise<number> {
  const { positionals } = parseArgs({ args: rest, allowPositionals: true, options: {} });
  const file = positionals[0];
  if (file === undefined || !existsSync(file)) throw new UsageError("import-blocks: give the blocklist file (CSV)");
  await withLectern(config, async (lectern) => {
    const report = await importDomainBlocks(lectern.context(), readFileSync(file, "utf8"));
    await audit(lectern.db, COMMAND_LINE, "block", `${report.blocked.length} servers from a blocklist`);
    console.log(`Blocked ${report.blocked.length} servers; removed ${report.followersRemoved} followers.`);
    for (const s of report.skipped) console.log(`  skipped ${s.line}: ${s.why}`);
  });
  return 0;
}

/** `blocks` */
async function blocks(config: Config, _rest: string[], _command: string): Promise<number> {
  await withLectern(config, async (lectern) => {
    for (const b of await listBlocks(lectern.db))
      console.log(`${b.kind === "domain" ? "server " : "account"}  ${b.value}`);
  });
  return 0;
}

/** `alias | move | export-followers | bridgy` */
async function audience(config: Config, rest: string[], command: string): Promise<number> {
  const { positionals } = parseArgs({ args: rest, allowPositionals: true, options: {} });
  await withLectern(config, async (lectern) => {
    const ctx = lectern.context();
    if (command === "alias") {
      if (positionals.length > 0) await setAliases(ctx, positionals);
      for (const a of (await getProfile(lectern.data)).aliases) console.log(a);
    } else if (command === "move") {
      if (positionals[0] === undefined) throw new UsageError("move: give the new account (@user@server)");
      console.log(`Moved to ${(await moveAccount(ctx, positionals[0])).href}`);
    } else if (command === "export-followers") {
      process.stdout.write(await followersCsv(lectern.db));
    } else {
      if (positionals[0] !== "on" && positionals[0] !== "off") throw new UsageError("bridgy: on or off");
      if (positionals[0] === "on") {
        const f = await followAccount(ctx, config.bridgyFedAccount);
        await setSetting(lectern.db, "bridgy_fed_actor", f.actorIri);
        console.log(`Following ${f.actorIri} (${f.status})`);
      } else {
        const id = await getSetting(lectern.db, "bridgy_fed_actor");
        console.log(id !== undefined && (await unfollowAccount(ctx, id)) ? "Stopped" : "Was not on");
      }
    }
  });
  return 0;
}

/** `media` */
async function media(config: Config, rest: string[], _command: string): Promise<number> {
  if (rest[0] !== "migrate") throw new UsageError("usage: lectern media migrate");
  const media = config.media;
  if (media.store === "disk" && media.s3 === null)
    throw new UsageError("media.store is disk: set media.s3.* to name the bucket to move the files from");
  const disk = new FileMediaStore(path.join(config.dataDir, "media"));
  const bucket = await S3MediaStore.open(media.s3 as S3Settings);
  const [from, to] = media.store === "s3" ? [disk, bucket] : [bucket, disk];
  try {
    console.log(`Moving media files from ${from.kind} to ${to.kind} (media.store)…`);
    const report = await migrateMedia(from, to, (_, n) => {
      if (n % 100 === 0) console.log(`  ${n} files moved`);
    });
    console.log(
      `Moved ${report.copied} files (${report.alreadyThere} were already there); the ${from.kind} store is empty.`,
    );
    if (report.damaged.length > 0) {
      console.error(`Left behind, damaged (bytes do not match their name): ${report.damaged.join(", ")}`);
      return 1;
    }
  } finally {
    bucket.close();
  }
  return 0;
}

/** `rotate-secret-key` */
async function rotateSecretKey(config: Config, _rest: string[], _command: string): Promise<number> {
  return await withLectern(config, async ({ db, secrets }) => {
    const { keyId, resealed } = await secrets.rotate(db);
    await audit(db, COMMAND_LINE, "rotate-secret-key", keyId);
    console.log(
      `A new secret key (${keyId}) is in ${secrets.file}; ${resealed} secrets were sealed again with it and the old key is gone. Running processes read the new key when they next need it.`,
    );
    return 0;
  });
}

/** `status` */
async function status(config: Config, _rest: string[], _command: string): Promise<number> {
  await withLectern(config, async (lectern) => {
    const st = await deliveryStatus(lectern.db);
    console.log(`database: ${config.databaseUrl === null ? `SQLite (${config.databasePath})` : "PostgreSQL"}`);
    console.log(
      `workers: ${st.workers.length}${st.workers.map((w) => `\n  ${w.id}: ${w.partitions} partitions`).join("")}`,
    );
    console.log(`deliveries: ${st.due} due, ${st.retrying} retrying later, ${st.sending} being sent`);
    console.log(`delivered in the last minute: ${st.deliveredLastMinute} (${st.perSecond}/s)`);
    console.log(`paused servers: ${st.pausedServers}`);
    console.log(`posts waiting for a worker: ${st.postsWaiting}`);
    console.log(`fan-outs being queued: ${st.fanOutsQueueing}`);
    console.log(`inbox queue: ${st.queue}`);
    const due = await readersDue(lectern.db, Date.now());
    console.log(`reader messages due: ${due.email} by email, ${due.push} by push`);
    const relays = await listRelays(lectern.db);
    if (relays.length > 0)
      console.log(
        `relays: ${relays.filter((r) => r.status === "accepted").length} relaying, ${relays.filter((r) => r.status === "pending").length} pending`,
      );
    if (config.cache.purgeUrl !== null) {
      const p = await purgeStatus(lectern.db);
      console.log(
        `cache purges waiting: ${p.waiting} (${p.failing} failing${p.lastError ? `, last error: ${p.lastError}` : ""})`,
      );
    }
  });
  return 0;
}

/** `followers` */
async function followers(config: Config, rest: string[], _command: string): Promise<number> {
  const { values } = parseArgs({ args: rest, options: { limit: { type: "string", default: "20" } } });
  const limit = Number(values.limit);
  if (!Number.isInteger(limit) || limit < 0) throw new UsageError("followers: --limit must be a whole number");
  await withLectern(config, async (lectern) => {
    console.log(`${await countFollowers(lectern.db)} followers`);
    const pending = (await listFollowers(lectern.db, 1000, 0, "pending")).items;
    if (pending.length > 0)
      console.log(`${pending.length} waiting for approval: ${pending.map((f) => f.actorIri).join(" ")}`);
    for (const f of (await listFollowers(lectern.db, limit)).items) {
      console.log(`${new Date(f.createdAt).toISOString()}  ${f.handle ?? f.actorIri}`);
    }
  });
  return 0;
}

/** Every command: its name, and what runs it with the configuration, its arguments and its name. */
export const COMMANDS: Record<string, (config: Config, rest: string[], command: string) => Promise<number>> = {
  post: post,
  edit: edit,
  delete: remove,
  deliveries: deliveries,
  "set-password": setPasswordCommand,
  staff: staff,
  approve: people,
  block: people,
  unblock: people,
  "import-blocks": importBlocks,
  blocks: blocks,
  alias: audience,
  move: audience,
  "export-followers": audience,
  bridgy: audience,
  media: media,
  status: status,
  "rotate-secret-key": rotateSecretKey,
  followers: followers,
  readers: readersCommand,
  relays: relaysCommand,
  backup: backupCommand,
  restore: restoreCommand,
  migrate: migrateCommand,
  doctor: doctorCommand,
  undo: undoCommand,
  "send-now": undoCommand,
};
