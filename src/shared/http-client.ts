import { lookup as dnsLookup, type LookupAddress } from "node:dns";
import { isIP, isIPv6 } from "node:net";
import { Agent, request } from "undici";
import { userAgent } from "./version.ts";

/** IPv4 ranges that are not the public Internet (RFC 6890 and friends). */
const V4_NOT_PUBLIC: [number, number][] = [
  ["0.0.0.0", 8],
  ["10.0.0.0", 8],
  ["100.64.0.0", 10],
  ["127.0.0.0", 8],
  ["169.254.0.0", 16],
  ["172.16.0.0", 12],
  ["192.0.0.0", 24],
  ["192.0.2.0", 24],
  ["192.88.99.0", 24],
  ["192.168.0.0", 16],
  ["198.18.0.0", 15],
  ["198.51.100.0", 24],
  ["203.0.113.0", 24],
  ["224.0.0.0", 4],
  ["240.0.0.0", 4],
].map(([a, bits]) => [v4(a as string), bits as number]);

function v4(ip: string): number {
  return ip.split(".").reduce((n, part) => n * 256 + Number(part), 0);
}

function inV4(ip: number, [net, bits]: [number, number]): boolean {
  const size = 2 ** (32 - bits);
  return Math.floor(ip / size) === Math.floor(net / size);
}

/** An IPv6 address as 16 bytes (`::` and a trailing dotted quad understood). */
function v6Bytes(ip: string): number[] {
  let text = ip
    .toLowerCase()
    .replace(/^\[|\]$/g, "")
    .replace(/%.*$/, "");
  const quad = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (quad) {
    const n = v4(quad[1]);
    text = `${text.slice(0, -quad[1].length)}${((n >>> 16) & 0xffff).toString(16)}:${(n & 0xffff).toString(16)}`;
  }
  const [head, tail] = text.includes("::") ? text.split("::") : [text, undefined];
  const h = head ? head.split(":") : [];
  const t = tail !== undefined && tail !== "" ? tail.split(":") : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill("0"), ...t];
  return groups.flatMap((g) => {
    const n = Number.parseInt(g || "0", 16);
    return [n >> 8, n & 0xff];
  });
}

/**
 * Whether an address is on the public Internet. Refused: loopback, private,
 * link-local, CGNAT, documentation, benchmarking, multicast and reserved IPv4;
 * for IPv6 everything outside global unicast (2000::/3: so ::1, ::,
 * IPv4-mapped and -compatible, NAT64 64:ff9b::/96, ULA fc00::/7, link-local,
 * multicast), and inside it Teredo and the IETF block (2001::/23), 6to4
 * (2002::/16) and the documentation ranges (2001:db8::/32, 3fff::/20).
 */
export function isPublicAddress(ip: string): boolean {
  const bare = ip.replace(/^\[|\]$/g, "");
  if (isIP(bare) === 4) {
    const n = v4(bare);
    return !V4_NOT_PUBLIC.some((range) => inV4(n, range));
  }
  if (!isIPv6(bare)) return false;
  const b = v6Bytes(bare);
  if ((b[0] & 0xe0) !== 0x20) return false; // not 2000::/3
  if (b[0] === 0x20 && b[1] === 0x01 && b[2] < 0x02) return false; // 2001::/23 (Teredo, benchmarking, ORCHID…)
  if (b[0] === 0x20 && b[1] === 0x01 && b[2] === 0x0d && b[3] === 0xb8) return false; // 2001:db8::/32
  if (b[0] === 0x20 && b[1] === 0x02) return false; // 6to4
  if (b[0] === 0x3f && b[1] === 0xff && b[2] < 0x10) return false; // 3fff::/20
  return true;
}

/** Why a URL may not be requested (scheme, or a literal non-public address), or null when it may. */
export function refuseUrl(url: URL, allowPrivateAddress: boolean): string | null {
  if (url.protocol !== "https:" && url.protocol !== "http:") return `not an http(s) URL: ${url.protocol}`;
  if (url.username || url.password) return "URLs with credentials are not requested";
  if (allowPrivateAddress) return null;
  const host = url.hostname.replace(/^\[|\]$/g, "");
  if (isIP(host) !== 0 && !isPublicAddress(host)) return `a non-public address (${host})`;
  if (host === "localhost" || host.endsWith(".localhost")) return `a non-public address (${host})`;
  return null;
}

export interface AgentOptions {
  allowPrivateAddress: boolean;
  connectTimeoutMs: number;
  /** Whole request, headers and body. */
  timeoutMs: number;
  /** Connections kept per server. */
  connectionsPerServer: number;
  /** How long a resolved address is reused (DNS lookups share the thread pool with signing). */
  dnsCacheMs?: number;
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A DNS lookup that remembers answers for a while (one lookup per server,
 * not per delivery: 50,000 lookups per post would crowd the thread pool that
 * signs) and refuses non-public addresses unless allowed — checked on the
 * resolved address, so a name pointing inside cannot slip through.
 */
export function guardedLookup(options: { allowPrivateAddress: boolean; cacheMs?: number }) {
  const cache = new Map<string, { at: number; addresses: LookupAddress[] }>();
  const cacheMs = options.cacheMs ?? 60_000;
  return (hostname: string, opts: { all?: boolean; family?: number }, callback: LookupCallback) => {
    const answer = (addresses: LookupAddress[]) => {
      if (!options.allowPrivateAddress) {
        const bad = addresses.find((a) => !isPublicAddress(a.address));
        if (bad !== undefined) {
          const refused: NodeJS.ErrnoException = new Error(
            `refusing to connect to ${hostname} (${bad.address}): not a public address`,
          );
          refused.code = "EPRIVATE";
          return callback(refused, []);
        }
      }
      if (opts.all) return callback(null, addresses);
      callback(null, addresses[0].address, addresses[0].family);
    };
    const hit = cache.get(hostname);
    if (hit !== undefined && Date.now() - hit.at < cacheMs) return answer(hit.addresses);
    dnsLookup(hostname, { all: true }, (err, addresses) => {
      if (err) return callback(err, []);
      if (cache.size > 100_000) cache.clear();
      cache.set(hostname, { at: Date.now(), addresses });
      answer(addresses);
    });
  };
}

/**
 * The HTTP client for deliveries: explicit timeouts (a dead host must not
 * hold a slot for minutes), keep-alive per server, cached and guarded DNS.
 */
export function deliveryAgent(options: AgentOptions): Agent {
  const lookup = guardedLookup({ allowPrivateAddress: options.allowPrivateAddress, cacheMs: options.dnsCacheMs });
  return new Agent({
    connect: { timeout: options.connectTimeoutMs, lookup: lookup as never },
    headersTimeout: options.timeoutMs,
    bodyTimeout: options.timeoutMs,
    connections: options.connectionsPerServer,
    keepAliveTimeout: 30_000,
  });
}

export interface FetchOptions {
  allowPrivateAddress: boolean;
  userAgent: string;
  timeoutMs?: number;
  maxBytes?: number;
  accept?: string;
  /** Signs each request (a GET with draft-cavage), e.g. for servers with authorized fetch. */
  sign?: (request: Request) => Promise<Request>;
}

/**
 * A GET of a JSON document from another server through the guarded client:
 * the address checked after resolution (unless private addresses are
 * allowed), Lectern's User-Agent, a timeout, a size limit, redirects followed
 * only after checking each hop again. The status (0 when nothing answered or
 * the URL was refused) and the parsed body of a 200.
 */
export async function fetchDocument(
  url: URL,
  options: FetchOptions,
): Promise<{ status: number; body?: unknown; url?: URL; refused?: string }> {
  const agent = sharedAgent(options.allowPrivateAddress);
  let target = url;
  for (let hop = 0; hop < 3; hop++) {
    const refused = refuseUrl(target, options.allowPrivateAddress);
    if (refused !== null) return { status: 0, refused };
    try {
      let headers: Record<string, string> = {
        accept: options.accept ?? "application/json",
        "user-agent": options.userAgent,
      };
      if (options.sign !== undefined) {
        const signed = await options.sign(new Request(target, { headers }));
        headers = Object.fromEntries(signed.headers);
      }
      const res = await request(target, {
        method: "GET",
        headers,
        dispatcher: agent,
        signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
      });
      if (res.statusCode >= 300 && res.statusCode < 400 && typeof res.headers.location === "string") {
        await res.body.dump();
        target = new URL(res.headers.location, target);
        continue;
      }
      if (res.statusCode !== 200) {
        await res.body.dump();
        return { status: res.statusCode };
      }
      const limit = options.maxBytes ?? 256 * 1024;
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of res.body) {
        size += (chunk as Buffer).length;
        if (size > limit) {
          res.body.destroy();
          return { status: 0 };
        }
        chunks.push(chunk as Buffer);
      }
      return { status: 200, body: JSON.parse(Buffer.concat(chunks).toString("utf8")), url: target };
    } catch (e) {
      // A refused address surfaces here from the lookup (a name resolving inside), as does no answer.
      return { status: 0, refused: (e as Error).message };
    }
  }
  return { status: 0 };
}

/** How Lectern fetches from other servers under `config`: its User-Agent, private addresses only where allowed. */
export function fetchOptions(config: { allowPrivateAddress: boolean; origin: URL }, accept?: string): FetchOptions {
  return { allowPrivateAddress: config.allowPrivateAddress, userAgent: userAgent(config.origin), accept };
}

/** The JSON document at `url`, or undefined when it could not be read (see {@link fetchDocument}). */
export async function fetchJson(url: URL, options: FetchOptions): Promise<unknown> {
  return (await fetchDocument(url, options)).body;
}

const agents = new Map<boolean, Agent>();
function sharedAgent(allowPrivateAddress: boolean): Agent {
  let agent = agents.get(allowPrivateAddress);
  if (agent === undefined) {
    agent = deliveryAgent({ allowPrivateAddress, connectTimeoutMs: 5_000, timeoutMs: 10_000, connectionsPerServer: 2 });
    agents.set(allowPrivateAddress, agent);
  }
  return agent;
}
