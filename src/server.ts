import type { AddressInfo } from "node:net";
import { serve, type ServerType } from "@hono/node-server";
import { getLogger } from "@logtape/logtape";
import type { Config } from "./config.ts";
import { openLectern, type Lectern } from "./lectern.ts";
import { queueStrandedPosts } from "./product/publish.ts";
import { createApp } from "./web/app.ts";

const logger = getLogger(["lectern", "server"]);

export interface RunningServer {
  readonly lectern: Lectern;
  /** Where it listens (not necessarily the public origin). */
  readonly url: URL;
  /** Stops accepting requests, lets in-flight queue work finish, closes the database. */
  close(): Promise<void>;
}

/** Starts the HTTP server and the delivery queue worker. */
export async function startServer(config: Config): Promise<RunningServer> {
  const lectern = await openLectern(config);
  const app = createApp(lectern);
  const server: ServerType = await new Promise((resolve, reject) => {
    const s = serve({ fetch: app.fetch, port: config.port, hostname: config.host }, () => resolve(s));
    s.once("error", reject);
  });
  const address = server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  const url = new URL(`http://${host}:${address.port}`);

  const stopQueue = new AbortController();
  const queueDone = lectern.federation.startQueue(lectern.data, { signal: stopQueue.signal });
  await queueStrandedPosts(lectern.context());

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Keep-alive connections would hold close() open.
        if ("closeAllConnections" in server) server.closeAllConnections();
      });
      stopQueue.abort();
      await queueDone;
      lectern.close();
      logger.info("Stopped");
    })();
    return closing;
  };
  return { lectern, url, close };
}
