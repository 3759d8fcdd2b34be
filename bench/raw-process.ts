// The raw pipeline a fan-out cannot beat: for each target, an RSA-2048
// draft-cavage signature (node:crypto, on the thread pool) and an undici
// keep-alive POST; no database, no bookkeeping. The bench runs one of these
// per core against the same sinks as Lectern, in the same run.
import { createHash, createPrivateKey, sign } from "node:crypto";
import { Agent, request } from "undici";

interface Start {
  origins: string[];
  privatePem: string;
  body: string;
  concurrency: number;
}

process.once("message", async (msg: Start) => {
  // Ready first; the parent starts every process's clock at once.
  await new Promise<void>((resolve) => {
    process.once("message", () => resolve());
    process.send?.({ ready: true });
  });
  const key = createPrivateKey(msg.privatePem);
  const bytes = Buffer.from(msg.body);
  const digest = `SHA-256=${createHash("sha256").update(bytes).digest("base64")}`;
  // Sinks over TLS have a self-signed certificate (bench only).
  const agent = new Agent({ connections: 4, keepAliveTimeout: 30_000, connect: { rejectUnauthorized: false } });
  let next = 0;
  let done = 0;
  const t0 = Date.now();
  const one = async (origin: string) => {
    const host = new URL(origin).host;
    const date = new Date().toUTCString();
    const message = `(request-target): post /inbox\nhost: ${host}\ndate: ${date}\ndigest: ${digest}\ncontent-type: application/activity+json`;
    const signature = await new Promise<Buffer>((resolve, reject) =>
      sign("sha256", Buffer.from(message), key, (e, s) => (e ? reject(e) : resolve(s))),
    );
    const res = await request(`${origin}/inbox`, {
      method: "POST",
      headers: {
        host,
        date,
        digest,
        "content-type": "application/activity+json",
        signature: `keyId="http://127.0.0.1:1/users/desk#main-key",algorithm="rsa-sha256",headers="(request-target) host date digest content-type",signature="${signature.toString("base64")}"`,
      },
      body: bytes,
      dispatcher: agent,
    });
    await res.body.dump();
    done++;
  };
  const lane = async () => {
    while (next < msg.origins.length) await one(msg.origins[next++]).catch(() => {});
  };
  await Promise.all(Array.from({ length: msg.concurrency }, lane));
  process.send?.({ done, ms: Date.now() - t0 }, () => process.exit(0));
});
