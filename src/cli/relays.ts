import { audit, COMMAND_LINE } from "../product/access/audit.ts";
import { addRelay, listRelays, removeRelay } from "../product/relays.ts";
import type { Config } from "../shared/config.ts";
import { UsageError, withLectern } from "./common.ts";

/** `lectern relays [list] | add <url> | remove <url>`: the ActivityPub relays the account joined. */
export async function relaysCommand(config: Config, args: string[]): Promise<number> {
  const [action, url] = args;
  return await withLectern(config, async (lectern) => {
    const ctx = lectern.context();
    switch (action) {
      case "list":
      case undefined: {
        const all = await listRelays(lectern.db);
        if (all.length === 0) console.log("No relays.");
        for (const r of all) console.log(`${r.url}\t${r.status}\t${r.style}\tinbox ${r.inbox}`);
        return 0;
      }
      case "add": {
        if (url === undefined) throw new UsageError("relays add: give the relay's actor or inbox URL");
        const r = await addRelay(ctx, url);
        await audit(lectern.db, COMMAND_LINE, "relay-add", r.url);
        console.log(`Asked ${r.url} to relay this account's posts (${r.style} style): ${r.status}`);
        return 0;
      }
      case "remove": {
        if (url === undefined) throw new UsageError("relays remove: give the relay's URL");
        if (!(await removeRelay(ctx, url))) {
          console.error(`Not a relay here: ${url}`);
          return 1;
        }
        await audit(lectern.db, COMMAND_LINE, "relay-remove", url);
        console.log(`Left ${url}`);
        return 0;
      }
      default:
        throw new UsageError(`relays: unknown action ${action}`);
    }
  });
}
