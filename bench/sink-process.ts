// A child process of the benchmarks: many cheap inboxes on loopback ports, each
// a "server". Reports arrivals to the parent over IPC, and at the end the most
// requests any one server had in flight. Optionally verifies signatures with
// an independent library (http-signature).
import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createTlsServer } from "node:https";
import type { AddressInfo } from "node:net";
import httpSignatureModule from "http-signature";

type Behaviour = "ok" | "blackhole" | "error" | "slow";
interface Start {
  cmd: "start";
  behaviours: Behaviour[];
  /** Index of the first server here among all the run's servers. */
  offset: number;
  /** Where each server listens: a loopback address of its own and one port (no ephemeral port search). */
  hosts: string[];
  port: number;
  slowMs: number;
  verifyPem?: string;
  /** Healthy servers answer after a delay drawn evenly from [min, max] ms (a real server's round trip). */
  latency?: [number, number];
  /** HTTPS with this certificate: every connection a full handshake. */
  tls?: { key: string; cert: string };
}

const httpSignature = httpSignatureModule as unknown as {
  parseRequest(request: object, options: object): unknown;
  verifySignature(parsed: unknown, pem: string): boolean;
};

const servers: Server[] = [];
let pending: [number, number, number][] = [];
let badSignatures = 0;
let maxInFlight = 0;

process.on("message", async (msg: Start | { cmd: "stop" }) => {
  if (msg.cmd === "stop") {
    flush();
    process.send?.({ maxInFlight }, () => {
      for (const s of servers) s.closeAllConnections();
      process.exit(0);
    });
    return;
  }
  const origins: string[] = [];
  for (const [j, behaviour] of msg.behaviours.entries()) {
    const i = msg.offset + j;
    let inFlight = 0;
    const handler = (req: IncomingMessage, res: ServerResponse) => {
      inFlight++;
      if (inFlight > maxInFlight) maxInFlight = inFlight;
      res.once("close", () => inFlight--);
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        if (msg.verifyPem) {
          const body = Buffer.concat(chunks);
          try {
            const parsed = httpSignature.parseRequest(
              { method: req.method, url: req.url, httpVersion: "1.1", headers: req.headers },
              { clockSkew: 300 },
            );
            const digest = `SHA-256=${createHash("sha256").update(body).digest("base64")}`;
            if (!httpSignature.verifySignature(parsed, msg.verifyPem) || req.headers.digest !== digest) badSignatures++;
          } catch {
            badSignatures++;
          }
        }
        if (behaviour === "blackhole") return; // accept, read, never answer
        const status = behaviour === "error" ? 500 : 202;
        const answer = () => {
          res.writeHead(status, { Connection: "close" });
          res.end();
          pending.push([i, Date.now(), status]);
        };
        if (behaviour === "slow") setTimeout(answer, msg.slowMs);
        else if (msg.latency) {
          const [min, max] = msg.latency;
          setTimeout(answer, min + Math.random() * (max - min));
        } else answer();
      });
    };
    const server = msg.tls ? createTlsServer({ ...msg.tls, sessionTimeout: 0 }, handler) : createServer(handler);
    server.keepAliveTimeout = 1000;
    const host = msg.hosts[j];
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(msg.port, host, 4096, resolve);
    });
    servers.push(server);
    origins.push(`${msg.tls ? "https" : "http"}://${host}:${(server.address() as AddressInfo).port}`);
  }
  process.send?.({ origins });
  setInterval(flush, 50).unref();
});

function flush() {
  if (pending.length > 0 || badSignatures > 0) {
    process.send?.({ arrivals: pending, badSignatures });
    pending = [];
    badSignatures = 0;
  }
}
