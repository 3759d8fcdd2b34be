import { createECDH, createPublicKey, type ECDH, randomBytes, verify } from "node:crypto";
import { createServer, type IncomingMessage } from "node:http";
// http_ece is the reference implementation of RFC 8188 by the authors of RFC 8291 (no types of its own).
// @ts-expect-error: untyped CommonJS module
import ece from "http_ece";

/** A push message as the push service received it: decrypted, and its VAPID claims checked. */
export interface Pushed {
  path: string;
  headers: IncomingMessage["headers"];
  /** The payload, decrypted with the subscription's private key and auth secret (RFC 8291). */
  payload: Record<string, any>;
  /** The VAPID public key the request was signed with, and the token's claims (RFC 8292). */
  vapid: { key: string; claims: Record<string, any> };
}

/** A browser's side of a subscription: its key pair and auth secret, as `PushSubscription.toJSON()` gives them. */
export interface TestSubscription {
  endpoint: string;
  keys: { p256dh: string; auth: string };
  ecdh: ECDH;
}

/**
 * A push service on loopback: takes pushes at /push/<name>, answers each
 * subscription's name as told (`gone…` answers 410), decrypts what it gets and
 * checks its VAPID signature with an independent implementation (node:crypto).
 */
export async function startPushService() {
  const received: Pushed[] = [];
  const subs = new Map<string, TestSubscription>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const name = (req.url ?? "").replace(/^\/push\//, "");
      const sub = subs.get(name);
      if (sub === undefined || name.startsWith("gone")) {
        res.writeHead(410).end();
        return;
      }
      try {
        const vapid = checkVapid(String(req.headers.authorization ?? ""));
        const plain: Buffer = ece.decrypt(Buffer.concat(chunks), {
          version: "aes128gcm",
          privateKey: sub.ecdh,
          authSecret: sub.keys.auth,
        });
        received.push({
          path: req.url ?? "",
          headers: req.headers,
          payload: JSON.parse(plain.toString("utf8")),
          vapid,
        });
        res.writeHead(201).end();
      } catch (error) {
        res.writeHead(400).end(String(error));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return {
    received,
    /** A new subscription at this service, as a browser would make it. */
    subscribe(name: string): TestSubscription {
      const ecdh = createECDH("prime256v1");
      ecdh.generateKeys();
      const sub = {
        endpoint: `${base}/push/${name}`,
        keys: { p256dh: ecdh.getPublicKey().toString("base64url"), auth: randomBytes(16).toString("base64url") },
        ecdh,
      };
      subs.set(name, sub);
      return sub;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** `vapid t=<JWT>, k=<key>`: the ES256 signature checked with k, the claims returned. */
function checkVapid(header: string): { key: string; claims: Record<string, any> } {
  const t = header.match(/t=([^,\s]+)/)?.[1];
  const k = header.match(/k=([^,\s]+)/)?.[1];
  if (!header.startsWith("vapid ") || !t || !k) throw new Error(`not a VAPID authorization: ${header}`);
  const [h, p, s] = t.split(".");
  const raw = Buffer.from(k, "base64url");
  const key = createPublicKey({
    key: {
      kty: "EC",
      crv: "P-256",
      x: raw.subarray(1, 33).toString("base64url"),
      y: raw.subarray(33).toString("base64url"),
    },
    format: "jwk",
  });
  const ok = verify(
    "sha256",
    Buffer.from(`${h}.${p}`),
    { key, dsaEncoding: "ieee-p1363" },
    Buffer.from(s, "base64url"),
  );
  if (!ok) throw new Error("VAPID signature does not verify");
  return { key: k, claims: JSON.parse(Buffer.from(p, "base64url").toString("utf8")) };
}
