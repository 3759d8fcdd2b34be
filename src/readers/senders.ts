import nodemailer, { type Transporter } from "nodemailer";
import { type Dispatcher, request } from "undici";
import webPush from "web-push";
import type { EmailSettings } from "../shared/config-email.ts";
import { deliveryAgent, refuseUrl } from "../shared/http-client.ts";
import type { ReaderKeys } from "./keys.ts";

/*
 * The two ways a message leaves: SMTP through nodemailer's pooled transport
 * (DKIM-signed for `email.from`'s domain), and Web Push through the same
 * guarded HTTP client as deliveries (web-push encrypts the payload, RFC 8291,
 * and signs the VAPID header; the request is ours, so the SSRF rule holds).
 */

/** What became of one message: sent, to be tried again, or refused for good. */
export type Outcome =
  | { kind: "sent" }
  | { kind: "retry"; error: string; afterMs?: number }
  | { kind: "permanent"; error: string }
  /** Push only: the subscription is gone (404/410). */
  | { kind: "gone"; error: string };

export interface Mail {
  to: string;
  subject: string;
  html: string;
  text: string;
  /** The one-click unsubscribe URL (RFC 8058), or null for the confirmation. */
  unsubscribe: string | null;
  listId: string;
}

export class MailSender {
  readonly #transport: Transporter;
  readonly #settings: EmailSettings;
  constructor(settings: EmailSettings) {
    this.#settings = settings;
    const url = settings.smtpUrl;
    this.#transport = nodemailer.createTransport({
      pool: true,
      host: url.hostname.replace(/^\[|\]$/g, ""),
      port: Number(url.port) || (url.protocol === "smtps:" ? 465 : 587),
      secure: url.protocol === "smtps:",
      auth: url.username
        ? { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) }
        : undefined,
      maxConnections: settings.maxConnections,
      maxMessages: 500,
      connectionTimeout: 10_000,
      greetingTimeout: 10_000,
      socketTimeout: 60_000,
      dkim: settings.dkim
        ? {
            domainName: settings.from.address.split("@")[1],
            keySelector: settings.dkim.selector,
            privateKey: settings.dkim.privateKey,
          }
        : undefined,
    });
  }

  /** Messages the pool can take at once without queueing behind each other. */
  get capacity(): number {
    return this.#settings.maxConnections * 4;
  }

  async send(mail: Mail): Promise<Outcome> {
    const { from, replyTo } = this.#settings;
    const headers: Record<string, string> = {};
    if (mail.unsubscribe !== null) headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click";
    try {
      await this.#transport.sendMail({
        from: { name: from.name, address: from.address },
        replyTo: replyTo ? { name: replyTo.name, address: replyTo.address } : undefined,
        to: mail.to,
        subject: mail.subject,
        html: mail.html,
        text: mail.text,
        list: mail.unsubscribe === null ? undefined : { unsubscribe: { url: mail.unsubscribe }, id: mail.listId },
        headers,
        disableUrlAccess: true,
        disableFileAccess: true,
      });
      return { kind: "sent" };
    } catch (error) {
      const e = error as { responseCode?: number; code?: string; message?: string };
      const said = `${e.responseCode ?? e.code ?? "error"}: ${(e.message ?? String(error)).slice(0, 200)}`;
      // A 5xx about this recipient (unknown user, rejected) is final; 4xx and broken connections are tried again.
      if (e.responseCode !== undefined && e.responseCode >= 500 && e.responseCode < 600)
        return { kind: "permanent", error: said };
      return { kind: "retry", error: said };
    }
  }

  close(): void {
    this.#transport.close();
  }
}

export interface PushTarget {
  endpoint: string;
  p256dh: string;
  auth: string;
}

export class PushSender {
  readonly #agent: Dispatcher;
  readonly #allowPrivate: boolean;
  readonly #vapid: { subject: string; publicKey: string; privateKey: string };
  readonly #signed = new Map<string, { header: string; until: number }>();
  constructor(keys: ReaderKeys, options: { contact: string; allowPrivateAddress: boolean; dispatcher?: Dispatcher }) {
    this.#allowPrivate = options.allowPrivateAddress;
    this.#vapid = { subject: options.contact, publicKey: keys.vapidPublic, privateKey: keys.vapidPrivate };
    this.#agent =
      options.dispatcher ??
      deliveryAgent({
        allowPrivateAddress: options.allowPrivateAddress,
        connectTimeoutMs: 5_000,
        timeoutMs: 15_000,
        connectionsPerServer: 32,
      });
  }

  /**
   * The VAPID header for a push service, signed once and kept for 6 hours of
   * its 12 (RFC 8292 allows up to 24): a signature per message was a sixth
   * of the push path's CPU.
   */
  #authorization(endpoint: URL): string {
    const audience = `${endpoint.protocol}//${endpoint.host}`;
    const now = Math.floor(Date.now() / 1000);
    const kept = this.#signed.get(audience);
    if (kept !== undefined && kept.until > now) return kept.header;
    const { subject, publicKey, privateKey } = this.#vapid;
    const header = webPush.getVapidHeaders(audience, subject, publicKey, privateKey, "aes128gcm", now + 12 * 3600)
      .Authorization as string;
    if (this.#signed.size > 1000) this.#signed.clear();
    this.#signed.set(audience, { header, until: now + 6 * 3600 });
    return header;
  }

  async send(target: PushTarget, payload: string): Promise<Outcome> {
    const endpoint = new URL(target.endpoint);
    const refused = refuseUrl(endpoint, this.#allowPrivate);
    if (refused !== null) return { kind: "gone", error: refused };
    const details = webPush.generateRequestDetails(
      { endpoint: target.endpoint, keys: { p256dh: target.p256dh, auth: target.auth } },
      payload,
      {
        TTL: 86_400,
        urgency: "normal",
        contentEncoding: "aes128gcm",
        headers: { Authorization: this.#authorization(endpoint) },
      },
    );
    try {
      const res = await request(details.endpoint, {
        method: "POST",
        headers: details.headers as Record<string, string>,
        body: details.body ?? undefined,
        dispatcher: this.#agent,
      });
      await res.body.dump();
      if (res.statusCode >= 200 && res.statusCode < 300) return { kind: "sent" };
      const error = `HTTP ${res.statusCode}`;
      if (res.statusCode === 404 || res.statusCode === 410) return { kind: "gone", error };
      if (res.statusCode === 429 || res.statusCode >= 500) {
        const after = Number(res.headers["retry-after"]);
        return { kind: "retry", error, afterMs: Number.isFinite(after) && after > 0 ? after * 1000 : undefined };
      }
      return { kind: "permanent", error };
    } catch (error) {
      return { kind: "retry", error: (error as Error).message.slice(0, 200) };
    }
  }

  async close(): Promise<void> {
    await this.#agent.close();
  }
}
