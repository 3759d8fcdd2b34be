import { createHash, KeyObject, sign } from "node:crypto";
import { signRequest } from "@fedify/fedify";

/** What one activity body needs for every signed delivery: its bytes and its digest, computed once. */
export interface SignedBody {
  bytes: Buffer;
  /** `SHA-256=…`, the Digest header (draft-cavage). */
  digest: string;
}

export function signedBody(json: string): SignedBody {
  const bytes = Buffer.from(json);
  return { bytes, digest: `SHA-256=${createHash("sha256").update(bytes).digest("base64")}` };
}

/** Web Crypto's key as node:crypto's, once: node:crypto signs on the thread pool without a Request object. */
export function keyObject(key: CryptoKey): KeyObject {
  return KeyObject.from(key);
}

/** The headers Mastodon signs, in its order; every server that checks draft-cavage accepts them. */
const SIGNED = "(request-target) host date digest content-type";

/**
 * Signs a POST with draft-cavage-http-signatures-12 (RSA-SHA256), as
 * Mastodon does: `(request-target) host date digest content-type`. Signed
 * now, at send time: Mastodon treats a `Date` an hour old as expired.
 * node:crypto's asynchronous sign runs on libuv's thread pool.
 */
export function signCavage(
  url: URL,
  body: SignedBody,
  key: KeyObject,
  keyId: string,
  headers: Record<string, string>,
  now: Date = new Date(),
): Promise<Record<string, string>> {
  const date = now.toUTCString();
  const contentType = headers["content-type"] ?? "application/activity+json";
  const message = [
    `(request-target): post ${url.pathname}${url.search}`,
    `host: ${url.host}`,
    `date: ${date}`,
    `digest: ${body.digest}`,
    `content-type: ${contentType}`,
  ].join("\n");
  return new Promise((resolve, reject) => {
    sign("sha256", Buffer.from(message), key, (error, signature) => {
      if (error) return reject(error);
      resolve({
        ...headers,
        host: url.host,
        date,
        digest: body.digest,
        "content-type": contentType,
        signature: `keyId="${keyId}",algorithm="rsa-sha256",headers="${SIGNED}",signature="${signature.toString("base64")}"`,
      });
    });
  });
}

/** RFC 9421, for the few servers that refuse draft-cavage: Fedify's implementation. */
export async function signRfc9421(
  url: URL,
  body: SignedBody,
  privateKey: CryptoKey,
  keyId: URL,
  headers: Record<string, string>,
): Promise<Record<string, string>> {
  const bytes = body.bytes;
  const signed = await signRequest(
    new Request(url, { method: "POST", headers, body: new Uint8Array(bytes) }),
    privateKey,
    keyId,
    { spec: "rfc9421", body: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer },
  );
  return Object.fromEntries(signed.headers);
}
