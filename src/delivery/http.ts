import { lookup as dnsLookup, type LookupAddress } from "node:dns";
import { isIP } from "node:net";
import { Agent } from "undici";

/** Whether an IP address is loopback, private, link-local or otherwise not on the public Internet. */
export function isPrivateAddress(ip: string): boolean {
  const v4 = ip.startsWith("::ffff:") && isIP(ip.slice(7)) === 4 ? ip.slice(7) : ip;
  if (isIP(v4) === 4) {
    const [a, b] = v4.split(".").map(Number);
    return (
      a === 0 ||
      a === 10 ||
      a === 127 ||
      a >= 224 ||
      (a === 100 && b >= 64 && b <= 127) ||
      (a === 169 && b === 254) ||
      (a === 172 && b >= 16 && b <= 31) ||
      (a === 192 && b === 168) ||
      (a === 198 && (b === 18 || b === 19))
    );
  }
  const x = ip.toLowerCase();
  return (
    x === "::" || x === "::1" || x.startsWith("fc") || x.startsWith("fd") || /^fe[89ab]/.test(x) || x.startsWith("ff")
  );
}

export interface AgentOptions {
  allowPrivateAddress: boolean;
  connectTimeoutMs: number;
  /** Whole request, headers and body. */
  timeoutMs: number;
  /** Connections kept per server. */
  connectionsPerServer: number;
}

/**
 * The HTTP client for deliveries: explicit timeouts (a dead host must not
 * hold a slot for minutes), keep-alive per server, and no connections to
 * private addresses unless allowed — checked on the resolved address, so a
 * DNS name pointing inside cannot slip through.
 */
export function deliveryAgent(options: AgentOptions): Agent {
  type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;
  const lookup = (hostname: string, opts: object, callback: LookupCallback) => {
    dnsLookup(hostname, opts, ((
      err: NodeJS.ErrnoException | null,
      address: string | LookupAddress[],
      family?: number,
    ) => {
      if (err) return callback(err, address, family);
      if (!options.allowPrivateAddress) {
        const addresses = Array.isArray(address) ? address.map((a) => a.address) : [address];
        const bad = addresses.find(isPrivateAddress);
        if (bad !== undefined) {
          const refused: NodeJS.ErrnoException = new Error(
            `refusing to connect to ${hostname} (${bad}): a private address`,
          );
          refused.code = "EPRIVATE";
          return callback(refused, address, family);
        }
      }
      callback(null, address, family);
    }) as never);
  };
  return new Agent({
    connect: { timeout: options.connectTimeoutMs, lookup: lookup as never },
    headersTimeout: options.timeoutMs,
    bodyTimeout: options.timeoutMs,
    connections: options.connectionsPerServer,
    keepAliveTimeout: 30_000,
  });
}
