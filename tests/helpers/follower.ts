import { randomUUID } from "node:crypto";
import type { AddressInfo } from "node:net";
import { createFederation, type Federation, MemoryKvStore, signRequest } from "@fedify/fedify";
import { Activity, type Actor, Endpoints, Follow, isActor, Person, Undo } from "@fedify/vocab";
import { type ServerType, serve } from "@hono/node-server";
import { Temporal } from "../../src/shared/temporal.ts";
import { waitFor } from "./lectern.ts";

/** One request that reached the follower server, as it arrived. */
export interface RecordedRequest {
  method: string;
  /** Path and query, as in the request line. */
  url: string;
  headers: Record<string, string>;
  body: string;
  /** The parsed JSON body, when it was JSON. */
  json: Record<string, unknown> | null;
  /** What the follower server answered. */
  status: number;
}

export interface FollowerServer {
  origin: URL;
  federation: Federation<void>;
  /** Every request to an inbox, in order. */
  inboxRequests: RecordedRequest[];
  actorId(user: string): URL;
  /** Answer inbox POSTs with this status instead of processing them (e.g. 503 while "down"); null to recover. */
  setInboxStatus(status: number | null): void;
  /** WebFinger discovery as a remote server does it: acct → the actor's id. */
  discover(acct: string): Promise<URL>;
  /** Sends a signed Follow from `user` to the actor at `target`; returns the Follow's id. */
  follow(user: string, target: URL): Promise<URL>;
  /** Sends a signed Undo of an earlier Follow. */
  unfollow(user: string, target: URL, followId: URL): Promise<void>;
  /**
   * POSTs any body to an inbox, signed (draft-cavage) by `user` unless
   * `sign: false`; returns the response, whatever its status.
   */
  postSigned(
    user: string,
    inbox: URL,
    body: string | object,
    options?: { sign?: boolean; date?: Date },
  ): Promise<Response>;
  /** Waits for an accepted (2xx) inbox POST whose activity matches. */
  waitForActivity(match: (json: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<RecordedRequest>;
  /** Activities of one type that were accepted (2xx). */
  activities(type: string): Record<string, unknown>[];
  close(): Promise<void>;
}

export interface FollowerServerOptions {
  users?: string[];
  /** Advertise a shared inbox (as Mastodon does); true by default. */
  sharedInbox?: boolean;
  /** The software name its NodeInfo announces ("gotosocial" by default; "honk", "mastodon"…). */
  software?: string;
  /** The version its NodeInfo announces ("1.0.0" by default). */
  softwareVersion?: string;
  /** Answer 401 to inbox POSTs signed with RFC 9421 (a server that verifies only draft-cavage). */
  refuseRfc9421?: boolean;
  /** `alsoKnownAs` of some of its users. */
  aliases?: Record<string, URL[]>;
}

/**
 * A second fediverse server on loopback, built with its own Fedify federation:
 * it has actors who can follow, and an inbox that verifies signatures and
 * records every request it receives.
 */
export async function startFollowerServer(options: FollowerServerOptions = {}): Promise<FollowerServer> {
  const users = new Set(options.users ?? ["alice"]);
  const withSharedInbox = options.sharedInbox ?? true;
  const federation = createFederation<void>({ kv: new MemoryKvStore(), allowPrivateAddress: true });
  const keys = new Map<string, CryptoKeyPair>();
  for (const user of users) {
    keys.set(
      user,
      (await crypto.subtle.generateKey(
        { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" },
        true,
        ["sign", "verify"],
      )) as CryptoKeyPair,
    );
  }
  federation
    .setActorDispatcher("/users/{identifier}", async (ctx, identifier) => {
      if (!users.has(identifier)) return null;
      const pairs = await ctx.getActorKeyPairs(identifier);
      return new Person({
        id: ctx.getActorUri(identifier),
        preferredUsername: identifier,
        inbox: ctx.getInboxUri(identifier),
        endpoints: withSharedInbox ? new Endpoints({ sharedInbox: ctx.getInboxUri() }) : null,
        publicKey: pairs[0].cryptographicKey,
        aliases: options.aliases?.[identifier] ?? [],
      });
    })
    .setKeyPairsDispatcher((_ctx, identifier) => {
      const pair = keys.get(identifier);
      return pair ? [pair] : [];
    });
  federation.setInboxListeners("/users/{identifier}/inbox", "/inbox").on(Activity, () => {});
  federation.setNodeInfoDispatcher("/nodeinfo/2.1", () => ({
    software: { name: options.software ?? "gotosocial", version: options.softwareVersion ?? "1.0.0" },
    protocols: ["activitypub"],
    usage: { users: {}, localPosts: 0, localComments: 0 },
  }));

  const inboxRequests: RecordedRequest[] = [];
  let inboxStatus: number | null = null;
  const server: ServerType = await new Promise((resolve) => {
    const s = serve(
      {
        hostname: "127.0.0.1",
        port: 0,
        fetch: async (request) => {
          const url = new URL(request.url);
          const isInbox = request.method === "POST" && (url.pathname === "/inbox" || url.pathname.endsWith("/inbox"));
          if (!isInbox) return federation.fetch(request, { contextData: undefined });
          const body = await request.text();
          const record: RecordedRequest = {
            method: request.method,
            url: url.pathname + url.search,
            headers: Object.fromEntries(request.headers),
            body,
            json: parseJson(body),
            status: 0,
          };
          let response: Response;
          if (inboxStatus !== null) {
            response = new Response("unavailable", { status: inboxStatus });
          } else if (options.refuseRfc9421 && request.headers.has("signature-input")) {
            response = new Response("RFC 9421 signatures are not understood here", { status: 401 });
          } else {
            response = await federation.fetch(
              new Request(request.url, { method: "POST", headers: request.headers, body }),
              {
                contextData: undefined,
              },
            );
          }
          record.status = response.status;
          inboxRequests.push(record);
          return response;
        },
      },
      () => resolve(s),
    );
  });
  const origin = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  const ctx = () => federation.createContext(origin, undefined);

  const lookupActor = async (target: URL): Promise<Actor> => {
    const object = await ctx().lookupObject(target.href);
    if (!isActor(object)) throw new Error(`${target.href} is not an actor`);
    return object;
  };

  const accepted = (r: RecordedRequest) => r.status >= 200 && r.status < 300 && r.json !== null;

  return {
    origin,
    federation,
    inboxRequests,
    actorId: (user) => ctx().getActorUri(user),
    setInboxStatus: (status) => {
      inboxStatus = status;
    },
    async discover(acct) {
      const host = acct.replace(/^@/, "").split("@")[1];
      const res = await fetch(
        `http://${host}/.well-known/webfinger?resource=${encodeURIComponent(`acct:${acct.replace(/^@/, "")}`)}`,
        {
          headers: { Accept: "application/jrd+json" },
        },
      );
      if (!res.ok) throw new Error(`WebFinger for ${acct} answered ${res.status}`);
      const jrd = (await res.json()) as { links?: { rel: string; type?: string; href?: string }[] };
      const self = jrd.links?.find((l) => l.rel === "self" && l.type === "application/activity+json");
      if (!self?.href) throw new Error(`WebFinger for ${acct} has no self link`);
      return new URL(self.href);
    },
    async follow(user, target) {
      const actor = await lookupActor(target);
      const c = ctx();
      const id = new URL(`/follows/${randomUUID()}`, origin);
      await c.sendActivity(
        { identifier: user },
        actor,
        new Follow({ id, actor: c.getActorUri(user), object: actor.id }),
      );
      return id;
    },
    async unfollow(user, target, followId) {
      const actor = await lookupActor(target);
      const c = ctx();
      const follow = new Follow({ id: followId, actor: c.getActorUri(user), object: actor.id });
      await c.sendActivity(
        { identifier: user },
        actor,
        new Undo({ id: new URL(`/undos/${randomUUID()}`, origin), actor: c.getActorUri(user), object: follow }),
      );
    },
    async postSigned(user, inbox, body, opts = {}) {
      const text = typeof body === "string" ? body : JSON.stringify(body);
      let request = new Request(inbox, {
        method: "POST",
        headers: { "Content-Type": "application/activity+json", Date: (opts.date ?? new Date()).toUTCString() },
        body: text,
      });
      const pair = keys.get(user);
      if (opts.sign !== false && pair) {
        request = await signRequest(request, pair.privateKey, new URL(`${ctx().getActorUri(user).href}#main-key`), {
          spec: "draft-cavage-http-signatures-12",
          ...(opts.date ? { currentTime: Temporal.Instant.fromEpochMilliseconds(opts.date.getTime()) } : {}),
        });
      }
      return await fetch(request);
    },
    waitForActivity(match, timeoutMs = 20_000) {
      return waitFor(
        () => inboxRequests.find((r) => accepted(r) && match(r.json as Record<string, unknown>)),
        timeoutMs,
        "an activity at the follower server",
      );
    },
    activities(type) {
      return inboxRequests
        .filter((r) => accepted(r) && r.json?.type === type)
        .map((r) => r.json as Record<string, unknown>);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        if ("closeAllConnections" in server) server.closeAllConnections();
      }),
  };
}

function parseJson(body: string): Record<string, unknown> | null {
  try {
    const v = JSON.parse(body);
    return v !== null && typeof v === "object" ? v : null;
  } catch {
    return null;
  }
}
