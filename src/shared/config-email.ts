import { createPrivateKey } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import { SETTINGS, type Setting } from "./config-settings.ts";

/* The email settings of readers without an account (see readers/), read by config.ts. */

export interface EmailSettings {
  readonly smtpUrl: URL;
  readonly from: { readonly name: string; readonly address: string };
  readonly replyTo: { readonly name: string; readonly address: string } | null;
  /** Signs every message for `from`'s domain; null: unsigned (the README says why not to). */
  readonly dkim: { readonly selector: string; readonly privateKey: string } | null;
  /** 0: each post mailed at once; otherwise posts gathered for this long. */
  readonly batchMs: number;
  readonly maxConnections: number;
  /** Messages in flight to one recipient domain at once. */
  readonly perDomain: number;
  /** Bearer secret of the bounce and complaint endpoint; null: no endpoint. */
  readonly webhookSecret: string | null;
}

/** The email settings, checked together: off without an SMTP URL; a DKIM key needs its selector, and must be readable. */
export function readEmail(
  read: <T>(name: keyof typeof SETTINGS, s: Setting<T>) => T | undefined,
  where: Record<string, string>,
  origin: URL,
  cwd: string,
  fail: (message: string) => never,
): EmailSettings | null {
  const S = SETTINGS;
  const smtpUrl = read("emailSmtpUrl", S.emailSmtpUrl);
  const selector = read("emailDkimSelector", S.emailDkimSelector);
  const keyFile = read("emailDkimKeyFile", S.emailDkimKeyFile);
  const settings = {
    from: read("emailFrom", S.emailFrom) ?? {
      name: "",
      address: `${read("handle", S.handle) ?? "desk"}@${origin.hostname}`,
    },
    replyTo: read("emailReplyTo", S.emailReplyTo) ?? null,
    batchMs: (read("emailBatchMinutes", S.emailBatchMinutes) ?? 0) * 60_000,
    maxConnections: read("emailMaxConnections", S.emailMaxConnections) ?? 5,
    perDomain: read("emailPerDomain", S.emailPerDomain) ?? 10,
    webhookSecret: read("emailWebhookSecret", S.emailWebhookSecret) ?? null,
  };
  if ((selector === undefined) !== (keyFile === undefined))
    fail(
      `${where.emailDkimSelector ?? where.emailDkimKeyFile}: email.dkim_selector and email.dkim_key_file go together`,
    );
  let dkim: EmailSettings["dkim"] = null;
  if (selector !== undefined && keyFile !== undefined) {
    let privateKey: string;
    try {
      privateKey = readFileSync(path.resolve(cwd, keyFile), "utf8");
      createPrivateKey(privateKey);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      fail(
        `${where.emailDkimKeyFile}: ${code ? `cannot read ${keyFile} (${code})` : `${keyFile} is not a PEM private key`}`,
      );
    }
    dkim = { selector, privateKey };
  }
  return smtpUrl === undefined ? null : { smtpUrl, dkim, ...settings };
}
