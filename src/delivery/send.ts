import type { KeyObject } from "node:crypto";
import { type Dispatcher, request as httpRequest } from "undici";
import type { AppData } from "../product/context.ts";
import { getActorKeyPairs } from "../product/keys.ts";
import { deliveryAgent, refuseUrl } from "../shared/http-client.ts";
import { userAgent } from "../shared/version.ts";
import { AnswerTimes } from "./pace.ts";
import { type Claimed, outgoingActivity, type StoredActivity } from "./rows.ts";
import { keyObject, type SignedBody, signCavage, signedBody, signRfc9421 } from "./signing.ts";

/** What a server answered to one delivery (status -1: refused here, a private address). */
export interface Answer {
  status: number | null;
  error: string | null;
  spec: string;
  retryAfterMs: number | null;
  /** How long the request took (0 when none was made). */
  seconds: number;
  /** The activity sent (undefined when it was not found). */
  activity?: Omit<StoredActivity, "body">;
}

type Loaded = Omit<StoredActivity, "body"> & { signed: SignedBody };

/**
 * One signed POST of a stored activity to one inbox: signed at send time
 * (draft-cavage, or RFC 9421 for servers that asked for it), through the
 * delivery agent's timeouts, the body read once per activity. Keeps how long
 * healthy servers take (`answers`: what counts as slow).
 */
export class Sender {
  readonly answers = new AnswerTimes();
  readonly #data: AppData;
  /** Counts its signatures (the worker's stats). */
  readonly #stats: { signatures: number };
  readonly #agent: Dispatcher;
  readonly #ownsAgent: boolean;
  readonly #keyId: URL;
  readonly #userAgent: string;
  readonly #bodies = new Map<number, Loaded>();
  #key: Promise<KeyObject> | undefined;

  constructor(data: AppData, stats: { signatures: number }, dispatcher?: Dispatcher) {
    this.#data = data;
    this.#stats = stats;
    this.#keyId = data.urls.keyId();
    this.#userAgent = userAgent(data.config.origin);
    const d = data.config.delivery;
    this.#ownsAgent = dispatcher === undefined;
    this.#agent =
      dispatcher ??
      deliveryAgent({
        allowPrivateAddress: data.config.allowPrivateAddress,
        connectTimeoutMs: d.connectTimeoutMs,
        timeoutMs: d.timeoutMs,
        connectionsPerServer: d.perServer,
      });
  }

  async close(): Promise<void> {
    if (this.#ownsAgent) await this.#agent.close();
  }

  async send(row: Claimed): Promise<Answer> {
    const spec = row.signature === "rfc9421" ? "rfc9421" : "draft-cavage-http-signatures-12";
    let status: number | null = null;
    let error: string | null = null;
    let retryAfterMs: number | null = null;
    let loaded: Loaded | undefined;
    let started = 0;
    try {
      const url = new URL(row.inbox);
      const refused = refuseUrl(url, this.#data.config.allowPrivateAddress);
      if (refused !== null) {
        throw Object.assign(new Error(`refusing to deliver to ${refused}`), { code: "EPRIVATE" });
      }
      loaded = await this.#body(row.outgoing_id);
      const body = loaded.signed;
      const headers = {
        "content-type": "application/activity+json",
        accept: "application/activity+json",
        "user-agent": this.#userAgent,
      };
      // Signed now, not when queued: Mastodon treats a Date more than an hour old as expired.
      const signed =
        spec === "rfc9421" ? await this.#signRfc9421(url, body, headers) : await this.#signCavage(url, body, headers);
      this.#stats.signatures++;
      started = performance.now();
      const res = await httpRequest(url, {
        method: "POST",
        headers: signed,
        body: body.bytes,
        // Bounded by the agent's connect, headers and body timeouts.
        dispatcher: this.#agent,
      });
      status = res.statusCode;
      if (status < 300) this.answers.add(performance.now() - started);
      const retryAfter = res.headers["retry-after"];
      if (typeof retryAfter === "string" && /^\d+$/.test(retryAfter)) retryAfterMs = Number(retryAfter) * 1000;
      if (status < 400) await res.body.dump({ limit: 64 * 1024 });
      const text = status >= 400 ? (await res.body.text()).slice(0, 200) : "";
      if (status >= 400) error = `HTTP ${status}${text ? `: ${text.replace(/\s+/g, " ").trim()}` : ""}`;
    } catch (e) {
      const err = e as NodeJS.ErrnoException & { cause?: NodeJS.ErrnoException };
      error = `${err.code ?? err.cause?.code ?? err.name}: ${err.message}`.slice(0, 300);
      if (err.code === "EPRIVATE" || err.cause?.code === "EPRIVATE") status = -1;
    }
    const seconds = started === 0 ? 0 : (performance.now() - started) / 1000;
    const activity = loaded && { createdAt: loaded.createdAt, kind: loaded.kind, traceParent: loaded.traceParent };
    return { status, error, spec, retryAfterMs, seconds, activity };
  }

  async #body(outgoingId: number): Promise<Loaded> {
    let body = this.#bodies.get(outgoingId);
    if (body === undefined) {
      const stored = await outgoingActivity(this.#data.db, outgoingId);
      body = {
        signed: signedBody(stored?.body ?? "{}"),
        createdAt: stored?.createdAt ?? Date.now(),
        kind: stored?.kind ?? "",
        traceParent: stored?.traceParent ?? null,
      };
      if (this.#bodies.size >= 32) this.#bodies.delete(this.#bodies.keys().next().value as number);
      this.#bodies.set(outgoingId, body);
    }
    return body;
  }

  async #signCavage(url: URL, body: SignedBody, headers: Record<string, string>): Promise<Record<string, string>> {
    this.#key ??= getActorKeyPairs(this.#data).then(([pair]) => keyObject(pair.privateKey));
    return await signCavage(url, body, await this.#key, this.#keyId.href, headers);
  }

  async #signRfc9421(url: URL, body: SignedBody, headers: Record<string, string>): Promise<Record<string, string>> {
    const [pair] = await getActorKeyPairs(this.#data);
    return await signRfc9421(url, body, pair.privateKey, this.#keyId, headers);
  }
}
