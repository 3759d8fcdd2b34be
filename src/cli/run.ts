import { type Config, ConfigError, loadConfig } from "../shared/config.ts";
import { InvalidInputError, LecternError } from "../shared/errors.ts";
import { configureLogging } from "../start/logging.ts";
import { startupProblem } from "../start/startup.ts";
import { COMMANDS } from "./commands.ts";
import { UsageError } from "./common.ts";

const USAGE = `Usage: npm run -s lectern -- <command> [options]

Commands:
  post --text TEXT [--title TITLE] [--summary CW] [--sensitive] [--language TAG] [--media FILE --alt TEXT]...
       [--reply-to URL]
        Publish a post (Markdown). --text - reads the text from standard input. Prints its URL, which ends
        with its id. --title makes it a statement (an Article: long text, ## headings, pictures placed with
        ![description](attachment:1)).
        Up to 4 --media files (pictures or videos), each followed by its --alt description.
        --reply-to continues a thread of your own posts. Prints the post's URL; the running server
        delivers it to all followers.
  edit <post URL> [--text TEXT] [--title TITLE] [--summary CW] [--sensitive | --no-sensitive] [--language TAG]
        Change what is given and keep the rest (--summary "" removes the content warning);
        followers' servers receive the edit.
  delete <post URL>
        Delete a post everywhere; its URL answers 410 Gone from then on.
  deliveries <post URL>
        How far a post has got: servers reached out of those due, and the failures.
  staff list | add <username> [--role editor|owner] | remove <username> | role <username> <role> |
        reset-factors <username> | sign-out <username> | token <username> [--scopes "read write"] [--name NAME]
        Staff accounts: list them; add one (its password is printed once); remove one; change a role;
        remove someone's authenticator app, passkeys and recovery codes (when they lost them);
        end all their sessions and app tokens; print a Mastodon-API token acting as someone, for
        scripts (it can do what their role allows, within its scopes).
  set-password <username>
        Set a staff account's password, read from standard input; ends their sessions and app tokens
        (e.g. printf '%s' 'a long passphrase' | npm run -s lectern -- set-password owner).
  alias [<account>...]
        Set your other accounts ("also known as": @user@server or URLs), from which followers can
        move here; with none given, list them.
  move <account>
        Move this account to another that lists it as an alias: every follower's server is told,
        and nothing more is published here.
  export-followers
        Every follower as CSV (account, server, since) on standard output.
  bridgy on|off
        Also publish to Bluesky through Bridgy Fed (follows or unfollows its account).
  media migrate
        Move every media file into the store media.store names (disk → S3, or S3 → disk):
        copied, checked, then deleted from the other store. Safe to run again.
  rotate-secret-key
        Seal the secrets kept in the database (the actor's private keys, authenticator-app secrets)
        with a new key, and drop the old one from the key file (secret_key_file). Copy the file to
        every machine that runs Lectern on this database.
  status
        Workers alive and the partitions each holds, deliveries due, retrying and in flight,
        deliveries per second over the last minute, paused servers, posts waiting, queue depth.
  followers [--limit N]
        Show the follower count, who waits for approval, and the most recent followers.
  approve <@user@server | account URL>
        Accept a follower who waits for approval.
  block <@user@server | account URL | server name>   unblock <same>   blocks
  import-blocks <file.csv>
        Block the servers of a domain blocklist (Mastodon's CSV export, or one name per line).
        Block an account (it stops following, cannot follow again) or a whole server
        (its followers removed, its traffic refused, nothing delivered); list blocks.
  migrate
        Bring the database's schema up to date (the explicit step of an upgrade; npm start also does it).
  undo <id | URL>   send-now <id | URL>
        With an undo window (publish.undo_seconds), take back a post before it goes out (nothing of it
        was sent or shown), or send it at once. \`post\` prints the post's URL, which ends with its id.
  doctor
        Check the configuration, the database (reachable, schema current, its clock), the secret key and
        the actor's keys, media storage, and from outside through the public origin (DNS, TLS, the proxy):
        WebFinger, the actor with this database's key, NodeInfo, the clock; each failure with its fix.
  backup PATH | restore PATH
        SQLite: a consistent copy of the database taken while serving, the secret key, the media files on disk
        and a manifest with their SHA-256, into an empty folder; restore into an empty data directory.
  relays [list] | add <url> | remove <url>
        ActivityPub relays: join one by its actor URL (LitePub style) or its inbox URL (Mastodon style);
        once it accepts, every public post is delivered to it too; list them with their state; leave one.
  readers [counts] | export | import <file.csv> | suppress <address> | erase <address>
        Readers without an account: counts by channel; email subscribers as CSV on standard output;
        import a Substack or Mailchimp export (only rows it says are subscribed count as confirmed;
        unsubscribed and bounced ones are kept as suppressed); stop all mail to an address for good
        (a bounce or complaint your provider reported); erase an address on its owner's request.
  help  Show this text.

Configuration comes from config/lectern.toml and LECTERN_* environment variables (see README).`;

/** Read once by main(); the error table below names the setting behind a start-up failure. */
let loaded: Config | undefined;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === "help" || command === "--help" || command === "-h") {
    console.log(USAGE);
    return command === undefined ? 64 : 0;
  }
  const config = loadConfig();
  loaded = config;
  await configureLogging(config.logLevel === "info" ? "warning" : config.logLevel);
  const run = COMMANDS[command];
  if (run === undefined) throw new UsageError(`unknown command "${command}"`);
  return await run(config, rest, command);
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (e) {
  if (e instanceof ConfigError) {
    console.error(`lectern: configuration error: ${e.message}`);
    process.exitCode = 78;
  } else if (loaded !== undefined && startupProblem(e, loaded) !== undefined) {
    console.error(`lectern: configuration error: ${startupProblem(e, loaded)}`);
    process.exitCode = 78;
  } else if (e instanceof UsageError || (e as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) {
    console.error(`lectern: ${(e as Error).message}\n\n${USAGE}`);
    process.exitCode = 64;
  } else if (e instanceof LecternError) {
    // Every error that carries its meaning: its message is for the author, its exit code for scripts.
    console.error(`lectern: ${e instanceof InvalidInputError ? "nothing was changed: " : ""}${e.message}`);
    process.exitCode = e.exitCode;
  } else {
    throw e;
  }
}
