import { readFileSync } from "node:fs";
import { audit, COMMAND_LINE } from "../product/access/audit.ts";
import { importSubscribers, subscribersCsv } from "../readers/csv.ts";
import { readerKeys } from "../readers/keys.ts";
import { erase, parseAddress, readerCounts, suppress } from "../readers/subscribers.ts";
import type { Config } from "../shared/config.ts";
import { UsageError, withLectern } from "./common.ts";

/** `lectern readers …`: readers without an account (email subscribers, push subscriptions). */
export async function readersCommand(config: Config, args: string[]): Promise<number> {
  const [action, arg] = args;
  return await withLectern(config, async ({ db, data }) => {
    const keys = await readerKeys(data);
    const address = () => {
      const a = parseAddress(arg);
      if (a === null) throw new UsageError(`readers ${action}: give an email address`);
      return a.address;
    };
    switch (action) {
      case "counts":
      case undefined: {
        const c = await readerCounts(db);
        console.log(
          `email: ${c.email.confirmed} confirmed (${c.email.digest} by digest), ${c.email.pending} waiting for confirmation, ${c.email.unsubscribed} unsubscribed, ${c.email.suppressed} suppressed${config.email ? "" : " (email is off: email.smtp_url is not set)"}`,
        );
        console.log(`push: ${c.push} browsers${config.push.enabled ? "" : " (push is off)"}`);
        return 0;
      }
      case "export": {
        process.stdout.write(await subscribersCsv(db));
        await audit(db, COMMAND_LINE, "readers-export");
        return 0;
      }
      case "import": {
        if (arg === undefined) throw new UsageError("readers import: give the CSV file");
        const r = await importSubscribers(db, keys, readFileSync(arg, "utf8"), Date.now());
        await audit(db, COMMAND_LINE, "readers-import", `${r.confirmed} confirmed`);
        console.log(
          `Imported ${r.confirmed} confirmed subscribers; ${r.known} already here; ${r.suppressed} unsubscribed or bounced kept as suppressed; ${r.unconfirmed} not confirmed in the file, not imported; ${r.invalid} not addresses.`,
        );
        return 0;
      }
      case "suppress": {
        const was = await suppress(db, keys, address(), Date.now());
        await audit(db, COMMAND_LINE, "readers-suppress");
        console.log(
          was ? "Suppressed: no more email to this address." : "Suppressed: this address can never be subscribed.",
        );
        return 0;
      }
      case "erase": {
        const was = await erase(db, keys, address());
        await audit(db, COMMAND_LINE, "readers-erase");
        console.log(was ? "Erased: nothing of this address is kept." : "Nothing was kept of this address.");
        return 0;
      }
      default:
        throw new UsageError(`unknown readers action "${action}"`);
    }
  });
}
