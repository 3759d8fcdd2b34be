import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { ConfigError, loadConfig } from "./config.ts";
import { postUrl } from "./federation/note.ts";
import { openLectern } from "./lectern.ts";
import { configureLogging } from "./logging.ts";
import { countFollowers, listFollowers } from "./product/followers.ts";
import { InvalidPostError } from "./product/posts.ts";
import { publishPost } from "./product/publish.ts";

const USAGE = `Usage: npm run -s lectern -- <command> [options]

Commands:
  post --text TEXT [--summary CW] [--sensitive] [--language TAG]
        Publish a post (Markdown). --text - reads the text from standard input.
        Prints the post's URL; the running server delivers it to all followers.
  followers [--limit N]
        Show the follower count and the most recent followers.
  help  Show this text.

Configuration comes from config/lectern.toml and LECTERN_* environment variables (see README).`;

class UsageError extends Error {}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === "help" || command === "--help" || command === "-h") {
    console.log(USAGE);
    return command === undefined ? 64 : 0;
  }
  const config = loadConfig();
  await configureLogging(config.logLevel === "info" ? "warning" : config.logLevel);
  switch (command) {
    case "post": {
      const { values } = parseArgs({
        args: rest,
        options: {
          text: { type: "string" },
          summary: { type: "string" },
          sensitive: { type: "boolean" },
          language: { type: "string" },
        },
      });
      if (values.text === undefined) throw new UsageError("post: --text is required (use --text - to read standard input)");
      const text = values.text === "-" ? readFileSync(0, "utf8") : values.text;
      const lectern = await openLectern(config);
      try {
        const ctx = lectern.context();
        const post = await publishPost(ctx, {
          text,
          summary: values.summary,
          sensitive: values.sensitive,
          language: values.language,
        });
        console.log(postUrl(ctx, post.id).href);
      } finally {
        lectern.close();
      }
      return 0;
    }
    case "followers": {
      const { values } = parseArgs({ args: rest, options: { limit: { type: "string", default: "20" } } });
      const limit = Number(values.limit);
      if (!Number.isInteger(limit) || limit < 0) throw new UsageError("followers: --limit must be a whole number");
      const lectern = await openLectern(config);
      try {
        console.log(`${countFollowers(lectern.db)} followers`);
        for (const f of listFollowers(lectern.db, limit).items) {
          console.log(`${new Date(f.createdAt).toISOString()}  ${f.handle ?? f.actorIri}`);
        }
      } finally {
        lectern.close();
      }
      return 0;
    }
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (e) {
  if (e instanceof ConfigError) {
    console.error(`lectern: configuration error: ${e.message}`);
    process.exitCode = 78;
  } else if (e instanceof UsageError || (e as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) {
    console.error(`lectern: ${(e as Error).message}\n\n${USAGE}`);
    process.exitCode = 64;
  } else if (e instanceof InvalidPostError) {
    console.error(`lectern: the post was not published: ${e.message}`);
    process.exitCode = 65;
  } else {
    throw e;
  }
}
