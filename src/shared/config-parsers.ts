import { BlockList, isIP } from "node:net";

/*
 * Parsers for configuration values: each turns what the file (TOML-typed) or
 * the environment (text) holds into a typed setting, or a Problem in words.
 */

/** Turns a value from the file (TOML-typed) or the environment (a string) into a setting, or says why not. */
export type Parser<T> = (value: unknown, fromEnv: boolean) => T | Problem;

/** What is wrong with a value, in words for the person who wrote it. */
export class Problem {
  readonly text: string;
  constructor(text: string) {
    this.text = text;
  }
}

export const problem = (text: string) => new Problem(text);

export function text(check?: (v: string) => string | undefined): Parser<string> {
  return (v) => {
    if (typeof v !== "string") return problem("must be a string");
    const bad = check?.(v);
    return bad === undefined ? v : problem(bad);
  };
}

export function oneOf<T extends string>(values: readonly T[], message: string): Parser<T> {
  return (v) => (typeof v === "string" && (values as readonly string[]).includes(v) ? (v as T) : problem(message));
}

/** A number from the environment's text or the file's TOML number; null when it is not one (or not whole). */
export function asNumber(v: unknown, fromEnv: boolean, whole: boolean): number | null {
  if (fromEnv && typeof v === "string") {
    if (whole ? !/^-?\d+$/.test(v) : v.trim() === "" || !Number.isFinite(Number(v))) return null;
    return Number(v);
  }
  if (typeof v === "bigint") return Number(v);
  return typeof v === "number" && (!whole || Number.isInteger(v)) ? v : null;
}

export function whole(min: number, max: number, message = `must be from ${min} to ${max}`): Parser<number> {
  return (v, fromEnv) => {
    const n = asNumber(v, fromEnv, true);
    if (n === null) return problem("must be a whole number");
    return n >= min && n <= max ? n : problem(message);
  };
}

/** A number above 0 and at most `max`. */
export function positive(max: number): Parser<number> {
  return (v, fromEnv) => {
    const n = asNumber(v, fromEnv, false);
    if (n === null) return problem("must be a number");
    return n > 0 && n <= max ? n : problem(`must be more than 0 and at most ${max}`);
  };
}

/** `true` or `false` (a TOML boolean; in the environment, the word): nothing that might be read either way. */
export const flag: Parser<boolean> = (v, fromEnv) => {
  if (typeof v === "boolean") return v;
  if (fromEnv && typeof v === "string") {
    if (/^true$/i.test(v)) return true;
    if (/^false$/i.test(v)) return false;
  }
  return problem("must be true or false");
};

/** A PostgreSQL URL, as the driver is then given it (an IPv6 host in brackets, a port in range). */
export interface PostgresTarget {
  url: string;
  host: string;
  port: number;
  database: string;
  username: string;
  password: string;
  /** What the query string asked for (sslmode and the like), passed on. */
  params: Record<string, string>;
}

export const postgresUrl: Parser<PostgresTarget> = (v) => {
  if (typeof v !== "string") return problem("must be a string");
  if (!/^postgres(ql)?:\/\//i.test(v)) return problem("must be a postgres:// URL");
  let url: URL;
  try {
    url = new URL(v);
  } catch {
    // Node refuses ports over 65535 and malformed hosts here.
    return problem("must be a postgres:// URL (user:password@host:port/database; a port from 1 to 65535)");
  }
  if (url.hostname === "") return problem("must name the database server's host");
  const port = url.port === "" ? 5432 : Number(url.port);
  if (port < 1 || port > 65535) return problem("must have a port from 1 to 65535");
  const database = decodeURIComponent(url.pathname.replace(/^\//, ""));
  if (database === "" || database.includes("/")) return problem("must name one database (…/lectern)");
  return {
    url: v,
    host: url.hostname.replace(/^\[(.*)\]$/, "$1"),
    port,
    database,
    username: decodeURIComponent(url.username),
    password: decodeURIComponent(url.password),
    params: Object.fromEntries(url.searchParams),
  };
};

/** Addresses and CIDR ranges, comma-separated (a list in the file). */
export const proxies: Parser<BlockList> = (v) => {
  const items = typeof v === "string" ? v.split(",") : Array.isArray(v) ? v : null;
  if (items === null) return problem("must be a list of addresses or CIDR ranges");
  const list = new BlockList();
  for (const raw of items) {
    if (typeof raw !== "string") return problem("must be a list of addresses or CIDR ranges");
    const [address, bits] = raw.trim().split("/");
    const family = isIP(address);
    if (family === 0) return problem(`not an address: ${JSON.stringify(raw.trim())}`);
    const type = family === 4 ? "ipv4" : "ipv6";
    if (bits === undefined) list.addAddress(address, type);
    else if (/^\d+$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128))
      list.addSubnet(address, Number(bits), type);
    else return problem(`not a CIDR range: ${JSON.stringify(raw.trim())}`);
  }
  return list;
};

/** Host names, comma-separated (a list in the file): the author's own websites. */
export const domains: Parser<string[]> = (v) => {
  const items = typeof v === "string" ? v.split(",") : Array.isArray(v) ? v : null;
  if (items === null) return problem("must be a list of domain names");
  const out: string[] = [];
  for (const raw of items) {
    const name = typeof raw === "string" ? raw.trim().toLowerCase() : "";
    if (name === "") continue;
    if (!/^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/.test(name))
      return problem(`not a domain name: ${JSON.stringify(raw)}`);
    if (!out.includes(name)) out.push(name);
  }
  if (out.length > 20) return problem("at most 20 domains");
  return out;
};

/** An http(s) URL (no credentials), e.g. a purge endpoint or a media CDN base. */
export function httpUrl(): Parser<URL> {
  return (v) => {
    if (typeof v !== "string") return problem("must be a string");
    let url: URL;
    try {
      url = new URL(v);
    } catch {
      return problem("must be an http(s) URL");
    }
    if (url.protocol !== "https:" && url.protocol !== "http:") return problem("must be an http(s) URL");
    if (url.username || url.password) return problem("must not carry credentials (use the token setting)");
    return url;
  };
}

/** An SMTP server: `smtp://` (STARTTLS when offered) or `smtps://` (TLS from the start), credentials allowed. */
export const smtpUrl: Parser<URL> = (v) => {
  if (typeof v !== "string") return problem("must be a string");
  let url: URL;
  try {
    url = new URL(v);
  } catch {
    return problem("must be an smtp:// or smtps:// URL such as smtp://127.0.0.1:2525");
  }
  if (url.protocol !== "smtp:" && url.protocol !== "smtps:")
    return problem("must be an smtp:// or smtps:// URL such as smtp://127.0.0.1:2525");
  if (url.hostname === "") return problem("must name a host");
  return url;
};

/** A listening address, `host:port` (`[::1]:9464` for IPv6), e.g. the metrics listener. */
export const hostPort: Parser<{ host: string; port: number }> = (v) => {
  if (typeof v !== "string") return problem("must be a string");
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(v.trim());
  const port = Number(m?.[3]);
  if (m === null || port < 1 || port > 65535)
    return problem('must be host:port such as "127.0.0.1:9464" or "[::1]:9464"');
  return { host: m[1] ?? m[2], port };
};

/** A mail address, alone or with a display name: `news@example.org` or `Jane Doe <news@example.org>`. */
export const mailbox: Parser<{ name: string; address: string }> = (v) => {
  if (typeof v !== "string") return problem("must be a string");
  const m = /^\s*(?:(.*?)\s*<([^<>\s]+)>|([^<>\s]+))\s*$/.exec(v);
  const address = m?.[2] ?? m?.[3] ?? "";
  if (/[\r\n]/.test(v) || !/^[^@\s"<>()]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$/.test(address))
    return problem('must be a mail address such as "news@example.org" or "Jane Doe <news@example.org>"');
  return { name: (m?.[1] ?? "").replace(/^"|"$/g, ""), address };
};

export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat("en", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}
