import { softwareOf } from "../federation/software.ts";
import type { AppData } from "../product/context.ts";

/** Follow pages by software family: where a signed-in reader is asked "Follow @desk@host?". */
const FAMILIES: [RegExp, (origin: string, acct: string) => string][] = [
  // Mastodon and its forks (Hometown, glitch-soc, Fedibird, kmyblue…) and others that copied its route.
  [
    /^(mastodon|hometown|glitchsoc|glitch-soc|fedibird|kmyblue|chuckya|takahe|hollo|iceshrimp\.net)$/,
    (o, a) => `${o}/authorize_interaction?uri=${encodeURIComponent(`acct:${a}`)}`,
  ],
  // Misskey and its forks.
  [
    /^(misskey|sharkey|firefish|iceshrimp|cherrypick|foundkey|calckey|catodon|meisskey)$/,
    (o, a) => `${o}/authorize-follow?acct=${encodeURIComponent(a)}`,
  ],
  // Pleroma and Akkoma.
  [/^(pleroma|akkoma)$/, (o, a) => `${o}/ostatus_subscribe?acct=${encodeURIComponent(a)}`],
  // Friendica.
  [/^friendica$/, (o, a) => `${o}/contact/follow?url=${encodeURIComponent(a)}`],
];

export interface FollowRoute {
  server: string;
  /** The software it runs, when its NodeInfo says. */
  software: string | null;
  /** Its follow page for this account; null when it has none we know (GoToSocial, unknown software). */
  url: string | null;
}

/**
 * Where to send a reader of `server` to follow this account: the software is
 * found by NodeInfo (through the guarded client, remembered a day), then its
 * follow page. Servers without one (GoToSocial has no web interface for it)
 * or that do not answer get null: the page then says what to search for.
 */
export async function followRoute(data: AppData, server: string): Promise<FollowRoute> {
  const acct = `${data.config.handle}@${data.config.origin.host}`;
  let origin = `https://${server}`;
  let software = await softwareOf(data, origin);
  if (software === null && data.config.allowPrivateAddress) {
    // Tests and local experiments: loopback stand-ins speak plain HTTP.
    origin = `http://${server}`;
    software = await softwareOf(data, origin);
  }
  const family = software === null ? undefined : FAMILIES.find(([re]) => re.test(software as string));
  return { server, software, url: family ? family[1](origin, acct) : null };
}
