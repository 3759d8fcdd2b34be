import "reflect-metadata"; // @peculiar/x509 needs it loaded first
import { webcrypto } from "node:crypto";
import http from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";
import * as x509 from "@peculiar/x509";

/** A self-signed certificate for `localhost` and 127.0.0.1, made in memory. */
export async function selfSignedCertificate(): Promise<{ cert: string; key: string }> {
  x509.cryptoProvider.set(webcrypto as unknown as Crypto);
  const alg = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" };
  const keys = await webcrypto.subtle.generateKey(alg, true, ["sign", "verify"]);
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: "01",
    name: "CN=localhost",
    notBefore: new Date(Date.now() - 86_400_000),
    notAfter: new Date(Date.now() + 86_400_000),
    signingAlgorithm: alg,
    keys: keys as unknown as CryptoKeyPair,
    extensions: [
      new x509.SubjectAlternativeNameExtension([
        { type: "dns", value: "localhost" },
        { type: "ip", value: "127.0.0.1" },
      ]),
    ],
  });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey("pkcs8", keys.privateKey));
  const key = `-----BEGIN PRIVATE KEY-----\n${pkcs8.toString("base64").replace(/.{64}/g, "$&\n")}\n-----END PRIVATE KEY-----\n`;
  return { cert: certificate.toString("pem"), key };
}

export interface TlsProxy {
  /** https://localhost:PORT */
  readonly origin: URL;
  readonly port: number;
  readonly cert: string;
  /** What went wrong between the proxy and the upstream (for a failing test's message). */
  readonly errors: string[];
  close(): Promise<void>;
}

/**
 * A TLS-terminating reverse proxy on loopback, as the README's nginx example
 * configures one: it keeps `Host`, adds `X-Forwarded-Proto: https` and
 * `X-Forwarded-For`, and streams bodies both ways to a plain-HTTP upstream.
 */
export async function startTlsProxy(upstreamPort: number, port = 0): Promise<TlsProxy> {
  const { cert, key } = await selfSignedCertificate();
  const errors: string[] = [];
  const server = https.createServer({ cert, key }, (req, res) => {
    const headers = { ...req.headers };
    delete headers.expect; // the proxy answered 100-continue itself, as nginx does
    headers["x-forwarded-proto"] = "https";
    headers["x-forwarded-for"] = req.socket.remoteAddress ?? "127.0.0.1";
    // A new upstream connection per request, as nginx makes them by default (no keep-alive race).
    const upstream = http.request(
      { host: "127.0.0.1", port: upstreamPort, method: req.method, path: req.url, headers, agent: false },
      (answer) => {
        if ((answer.statusCode ?? 502) >= 400) errors.push(`${req.method} ${req.url}: answered ${answer.statusCode}`);
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on("error", (error) => {
      errors.push(`${req.method} ${req.url}: ${error.message}`);
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    req.on("error", (error) => errors.push(`${req.method} ${req.url} from the client: ${error.message}`));
    req.pipe(upstream);
  });
  await new Promise<void>((r) => server.listen(port, "127.0.0.1", r));
  const bound = (server.address() as AddressInfo).port;
  return {
    origin: new URL(`https://localhost:${bound}`),
    port: bound,
    cert,
    errors,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
