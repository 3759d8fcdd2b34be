import type { Context } from "@fedify/fedify";
import { isActor } from "@fedify/vocab";
import { NotFoundError } from "../shared/errors.ts";
import { fetchJson, fetchOptions } from "../shared/http-client.ts";
import type { AppData } from "./context.ts";

/** Someone named by the author that cannot be found; the message says who. */
export class AccountNotFoundError extends NotFoundError {
  override name = "AccountNotFoundError";
}

export interface Account {
  id: URL;
  inbox: URL | null;
  /** `@user@host`, when known. */
  handle: string | null;
  /** Its `alsoKnownAs`. */
  aliases: URL[];
}

const HANDLE = /^@?([^@\s/]+)@([^@\s/]+)$/;

/**
 * An account as people write it — `@user@server`, `user@server` or its URL —
 * found by WebFinger (https; plain http too where private addresses are
 * allowed, for local servers) and read from its actor document.
 */
export async function resolveAccount(ctx: Context<AppData>, input: string): Promise<Account> {
  const text = input.trim();
  const { config } = ctx.data;
  let id: URL | undefined;
  const handle = HANDLE.exec(text);
  if (handle !== null) {
    const [, user, host] = handle;
    const options = fetchOptions(config, "application/jrd+json");
    for (const scheme of config.allowPrivateAddress ? ["https", "http"] : ["https"]) {
      let url: URL;
      try {
        url = new URL(`${scheme}://${host}/.well-known/webfinger`);
      } catch {
        break;
      }
      url.searchParams.set("resource", `acct:${user}@${host}`);
      const jrd = (await fetchJson(url, options)) as
        | { links?: { rel?: string; type?: string; href?: string }[] }
        | undefined;
      const self = jrd?.links?.find(
        (l) => l.rel === "self" && /^application\/(activity\+json|ld\+json)/.test(l.type ?? "") && l.href,
      );
      if (self?.href) {
        id = new URL(self.href);
        break;
      }
    }
    if (id === undefined) throw new AccountNotFoundError(`no account ${text} (WebFinger found nothing)`);
  } else {
    try {
      id = new URL(text);
    } catch {
      throw new AccountNotFoundError(`not an account: ${JSON.stringify(text)} (write @user@server or its URL)`);
    }
    if (id.protocol !== "https:" && id.protocol !== "http:")
      throw new AccountNotFoundError(`not an account URL: ${text}`);
  }
  const documentLoader = await ctx.getDocumentLoader({ identifier: config.handle });
  const actor = await ctx.lookupObject(id, { documentLoader }).catch(() => null);
  if (!isActor(actor) || actor.id === null)
    throw new AccountNotFoundError(`${text} is not an account that can be read`);
  return {
    id: actor.id,
    inbox: actor.inboxId,
    handle: actor.preferredUsername ? `@${actor.preferredUsername}@${actor.id.host}` : null,
    aliases: actor.aliasIds,
  };
}
