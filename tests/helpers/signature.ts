import { createHash } from "node:crypto";
// An HTTP signature implementation independent of Fedify (Joyent's, used by many servers' test suites).
import httpSignatureModule from "http-signature";
import type { RecordedRequest } from "./follower.ts";
import type { SinkRequest } from "./sink.ts";

interface Parsed {
  keyId: string;
  algorithm: string;
  params: { headers: string[] };
}
const httpSignature = httpSignatureModule as unknown as {
  parseRequest(request: object, options: object): Parsed;
  verifySignature(parsed: Parsed, publicKeyPem: string): boolean;
};

export interface CavageCheck {
  keyId: string;
  algorithm: string;
  signedHeaders: string[];
}

/**
 * Verifies a recorded request's draft-cavage `Signature` header against a PEM
 * public key with the `http-signature` package, and its `Digest` against the
 * body. Throws with the reason when anything does not hold.
 */
export function verifyCavage(request: RecordedRequest, publicKeyPem: string): CavageCheck {
  const parsed = httpSignature.parseRequest(
    { method: request.method, url: request.url, httpVersion: "1.1", headers: request.headers },
    { clockSkew: 300 },
  );
  if (!httpSignature.verifySignature(parsed, publicKeyPem)) throw new Error("signature does not verify");
  const digest = request.headers.digest;
  if (request.method === "POST") {
    const expected = `SHA-256=${createHash("sha256").update(request.body).digest("base64")}`;
    if (
      !digest
        ?.split(",")
        .map((s) => s.trim())
        .includes(expected)
    ) {
      throw new Error(`Digest ${digest} does not match the body (${expected})`);
    }
  }
  return { keyId: parsed.keyId, algorithm: parsed.algorithm, signedHeaders: parsed.params.headers };
}

/** {@link verifyCavage} of a POST a sink (helpers/sink.ts) recorded. */
export function verifySinkPost(request: SinkRequest, publicKeyPem: string): CavageCheck {
  return verifyCavage(
    {
      method: "POST",
      url: request.path,
      headers: request.headers as Record<string, string>,
      body: request.body,
      json: JSON.parse(request.body),
      status: request.status,
    },
    publicKeyPem,
  );
}
