import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { addFollower } from "../../src/product/followers.ts";
import type { Queryable } from "../../src/storage/database.ts";

export interface SinkRequest {
  path: string;
  headers: IncomingMessage["headers"];
  body: string;
  /** Status answered (0 while blackholed). */
  status: number;
}

export interface Sink {
  origin: URL;
  requests: SinkRequest[];
  /** What to answer next: a status, or "blackhole" (accept, read, never answer). */
  behaviour: number | "blackhole" | ((n: number) => number | "blackhole");
  delayMs: number;
  /** Requests being answered now, and the most there ever were at once. */
  inFlight: number;
  maxInFlight: number;
  inbox(path?: string): string;
  close(): Promise<void>;
}

/** A cheap inbox on loopback that records what it gets and answers as told (202 by default). */
export async function startSink(
  options: {
    behaviour?: Sink["behaviour"];
    delayMs?: number;
    host?: string;
    /** What a GET (an actor fetched) is answered with; by default the same as a POST. 200 serves a Person. */
    getStatus?: number;
  } = {},
): Promise<Sink> {
  const held: ServerResponse[] = [];
  const sink: Sink = {
    origin: new URL("http://127.0.0.1"),
    requests: [],
    behaviour: options.behaviour ?? 202,
    delayMs: options.delayMs ?? 0,
    inFlight: 0,
    maxInFlight: 0,
    inbox: (path = "/inbox") => new URL(path, sink.origin).href,
    close: async () => {},
  };
  const server = createServer((req, res) => {
    sink.inFlight++;
    sink.maxInFlight = Math.max(sink.maxInFlight, sink.inFlight);
    res.once("close", () => sink.inFlight--);
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      if (req.method === "GET" && options.getStatus !== undefined) {
        res.writeHead(options.getStatus, { "Content-Type": "application/activity+json" });
        res.end(
          options.getStatus === 200 ? JSON.stringify({ type: "Person", id: `${sink.origin.origin}${req.url}` }) : "",
        );
        return;
      }
      const n = sink.requests.length;
      const b = typeof sink.behaviour === "function" ? sink.behaviour(n) : sink.behaviour;
      const record: SinkRequest = {
        path: req.url ?? "",
        headers: req.headers,
        body: Buffer.concat(chunks).toString("utf8"),
        status: b === "blackhole" ? 0 : b,
      };
      sink.requests.push(record);
      if (b === "blackhole") {
        held.push(res);
        return;
      }
      setTimeout(() => {
        res.writeHead(b, { "Content-Type": "text/plain" });
        res.end(b < 300 ? "" : "nope");
      }, sink.delayMs);
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, options.host ?? "127.0.0.1", resolve));
  sink.origin = new URL(`http://${options.host ?? "127.0.0.1"}:${(server.address() as AddressInfo).port}`);
  sink.close = () =>
    new Promise<void>((resolve) => {
      for (const r of held) r.destroy();
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return sink;
}

/** The Create activities a sink received whose content includes `text`. */
export function createsWith(sink: Sink, text: string): SinkRequest[] {
  return sink.requests.filter((r) => {
    const body = JSON.parse(r.body);
    return body.type === "Create" && String(body.object?.content ?? "").includes(text);
  });
}

/** One follower on each sink (`/users/u<i>`, behind the sink's shared inbox), as a Follow would have stored it. */
export async function followFromSinks(db: Queryable, sinks: Sink[]): Promise<void> {
  for (const [i, s] of sinks.entries())
    await addFollower(db, {
      actorIri: `${s.origin.origin}/users/u${i}`,
      followIri: null,
      inbox: s.inbox("/users/u/inbox"),
      sharedInbox: s.inbox(),
      handle: null,
    });
}
