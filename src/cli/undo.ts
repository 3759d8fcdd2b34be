import { audit, COMMAND_LINE } from "../product/access/audit.ts";
import { sendNow, undoPost } from "../product/undo.ts";
import type { Config } from "../shared/config.ts";
import { UUID_PATTERN } from "../shared/ids.ts";
import { Urls } from "../shared/urls.ts";
import { UsageError, withLectern } from "./common.ts";

/** `undo ID` takes back a post in its undo window; `send-now ID` ends the window. By id or URL. */
export async function undoCommand(config: Config, rest: string[], command: string): Promise<number> {
  const arg = rest[0];
  if (arg === undefined || rest.length > 1) throw new UsageError(`usage: lectern ${command} <post id or URL>`);
  const id = UUID_PATTERN.test(arg) ? arg : new Urls(config.origin, "_").parsePost(arg);
  if (id === null) throw new UsageError(`not a post of this server: ${arg}`);
  await withLectern(config, async (lectern) => {
    if (command === "undo") {
      await undoPost(lectern.data, id);
      await audit(lectern.db, COMMAND_LINE, "undo", lectern.data.urls.post(id).href);
      console.log("Taken back: nothing of it was sent or shown.");
    } else {
      await sendNow(lectern.context(), id);
      await audit(lectern.db, COMMAND_LINE, "send-now", lectern.data.urls.post(id).href);
      console.log(lectern.data.urls.post(id).href);
    }
  });
  return 0;
}
