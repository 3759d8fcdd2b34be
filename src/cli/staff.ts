import { parseArgs } from "node:util";
import { audit, COMMAND_LINE } from "../product/access/audit.ts";
import { tokenForScript } from "../product/access/oauth.ts";
import {
  createStaff,
  endSignIns,
  findStaff,
  listStaff,
  type Role,
  removeStaff,
  resetFactors,
  setRole,
} from "../product/access/staff.ts";
import type { Config } from "../shared/config.ts";
import { UsageError, withLectern } from "./common.ts";

/** `lectern staff …`: the way in when the desk is out of reach (the first owner, lost factors). */
export async function staffCommand(config: Config, args: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args,
    options: {
      role: { type: "string", default: "editor" },
      scopes: { type: "string" },
      name: { type: "string" },
    },
    allowPositionals: true,
  });
  const [action, username, role] = positionals;
  return await withLectern(config, async ({ db }) => {
    const named = async () => {
      if (username === undefined) throw new UsageError(`staff ${action}: give the username`);
      const s = await findStaff(db, username);
      if (s === undefined) throw new UsageError(`no staff account named ${username}`);
      return s;
    };
    switch (action) {
      case "list":
      case undefined: {
        for (const s of await listStaff(db)) {
          const factors = [s.totp ? "authenticator app" : "", s.passkeys ? `${s.passkeys} passkey(s)` : ""].filter(
            Boolean,
          );
          console.log(`${s.username}\t${s.role}\t${factors.join(", ") || "no second factor"}`);
        }
        return 0;
      }
      case "add": {
        if (username === undefined) throw new UsageError("staff add: give the username");
        const { staff, password } = await createStaff(db, { username, role: values.role as Role });
        await audit(db, COMMAND_LINE, "staff-add", `${staff.username} (${staff.role})`);
        console.log(`Added ${staff.username} (${staff.role}). Their password, shown only now: ${password}`);
        return 0;
      }
      case "remove": {
        const s = await named();
        await removeStaff(db, s.id);
        await audit(db, COMMAND_LINE, "staff-remove", s.username);
        console.log(`Removed ${s.username}.`);
        return 0;
      }
      case "role": {
        const s = await named();
        if (role === undefined) throw new UsageError("staff role: give the role (owner or editor)");
        await setRole(db, s.id, role as Role);
        await audit(db, COMMAND_LINE, "staff-role", `${s.username}: ${role}`);
        console.log(`${s.username} is now ${role}.`);
        return 0;
      }
      case "sign-out": {
        const s = await named();
        await endSignIns(db, s.id);
        await audit(db, COMMAND_LINE, "staff-sign-out", s.username);
        console.log(`Signed ${s.username} out everywhere: their sessions and app tokens have ended.`);
        return 0;
      }
      case "token": {
        const s = await named();
        const scopes = values.scopes ?? "read write";
        const access = await tokenForScript(db, s.id, values.name ?? "Script (command line)", scopes);
        await audit(
          db,
          COMMAND_LINE,
          "app-authorize",
          `${values.name ?? "Script (command line)"} for ${s.username} (${scopes})`,
        );
        console.log(access);
        return 0;
      }
      case "reset-factors": {
        const s = await named();
        await resetFactors(db, s.id);
        await audit(db, COMMAND_LINE, "staff-reset-factors", s.username);
        console.log(
          `${s.username}'s authenticator app, passkeys and recovery codes are removed; they sign in with their password.`,
        );
        return 0;
      }
      default:
        throw new UsageError(
          `staff: unknown action "${action}" (list, add, remove, role, reset-factors, sign-out, token)`,
        );
    }
  });
}
