import { createHash, createPublicKey, verify } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { publishPost } from "../src/product/publish.ts";
import { type FollowerServer, type RecordedRequest, startFollowerServer } from "./helpers/follower.ts";
import { startTestLectern, type TestLectern, tempDir, waitFor } from "./helpers/lectern.ts";
import { scalar } from "./helpers/rows.ts";

type Json = Record<string, any>;

/**
 * An RFC 9421 signature checked here, by hand, without Fedify: the signature base rebuilt from the
 * Signature-Input's components (RFC 9421 §2.5), the RSASSA-PKCS1-v1_5-SHA256 signature verified with the
 * actor's published key (node:crypto), and the Content-Digest (RFC 9530) recomputed over the body.
 */
async function verifyRfc9421(request: RecordedRequest, url: URL, publicKeyPem: string): Promise<string[]> {
  const input = request.headers["signature-input"];
  const match = /^([\w-]+)=\(([^)]*)\)(.*)$/.exec(input);
  if (match === null) throw new Error(`unreadable Signature-Input: ${input}`);
  const [, label, list, params] = match;
  const components = [...list.matchAll(/"([^"]+)"/g)].map((m) => m[1]);
  const value = (name: string): string => {
    if (name === "@method") return "POST";
    if (name === "@target-uri") return url.href;
    if (name === "@authority") return url.host;
    if (name === "@path") return url.pathname;
    const header = request.headers[name];
    if (header === undefined) throw new Error(`signed header ${name} is missing`);
    return header;
  };
  const base = [...components.map((c) => `"${c}": ${value(c)}`), `"@signature-params": (${list})${params}`].join("\n");
  const signature = new RegExp(`${label}=:([^:]+):`).exec(request.headers.signature)?.[1];
  if (signature === undefined) throw new Error("no signature for the label");
  const ok = verify("sha256", Buffer.from(base), createPublicKey(publicKeyPem), Buffer.from(signature, "base64"));
  if (!ok) throw new Error("the RFC 9421 signature does not verify");
  const digest = `sha-256=:${createHash("sha256").update(request.body).digest("base64")}:`;
  if (request.headers["content-digest"] !== digest) throw new Error("the Content-Digest does not match the body");
  return components;
}

// Deliveries signed with RFC 9421 (and a Content-Digest) to servers whose software verifies it (Mastodon 4.5+,
// learned from NodeInfo when they follow), draft-cavage elsewhere; a server that refuses RFC 9421 gets
// draft-cavage from then on.
describe("signature schemes by server", () => {
  let tmp: ReturnType<typeof tempDir>;
  let lectern: TestLectern;
  let mastodon: FollowerServer;
  let picky: FollowerServer;
  let other: FollowerServer;
  const db = () => lectern.server.lectern.db;
  const scheme = (server: FollowerServer) =>
    scalar(db(), "SELECT signature FROM servers WHERE host = ?", server.origin.host);
  const createsAt = (server: FollowerServer, text: string) =>
    server.inboxRequests.filter((r) => r.json?.type === "Create" && r.body.includes(text));

  beforeAll(async () => {
    tmp = tempDir();
    lectern = await startTestLectern(tmp.dir);
    mastodon = await startFollowerServer({ software: "mastodon", softwareVersion: "4.5.2", users: ["ann"] });
    picky = await startFollowerServer({
      software: "mastodon",
      softwareVersion: "4.6.0",
      users: ["bo"],
      refuseRfc9421: true,
    });
    other = await startFollowerServer({ software: "gotosocial", softwareVersion: "0.21.0", users: ["cy"] });
    for (const [server, user] of [
      [mastodon, "ann"],
      [picky, "bo"],
      [other, "cy"],
    ] as const) {
      await server.follow(user, lectern.actorId);
      await server.waitForActivity((a) => a.type === "Accept");
    }
  }, 60_000);
  afterAll(async () => {
    for (const s of [mastodon, picky, other]) await s?.close();
    await lectern?.stop();
    tmp?.remove();
  });

  it("signs RFC 9421 with a Content-Digest for Mastodon 4.5+, verified independently; draft-cavage elsewhere", async () => {
    await waitFor(async () => (await scheme(mastodon)) === "rfc9421", 15_000, "RFC 9421 learned for Mastodon");
    expect(await scheme(other)).not.toBe("rfc9421");
    await publishPost(lectern.server.lectern.context(), { text: "Signed as each server reads it" });
    const atMastodon = await waitFor(() => createsAt(mastodon, "Signed as each")[0], 20_000, "the post at Mastodon");
    expect(atMastodon.status).toBe(202); // Fedify's verifier on that server accepted it too
    const actor = (await (
      await fetch(lectern.actorId, { headers: { Accept: "application/activity+json" } })
    ).json()) as Json;
    const components = await verifyRfc9421(
      atMastodon,
      new URL(atMastodon.url, mastodon.origin),
      actor.publicKey.publicKeyPem,
    );
    expect(components).toContain("content-digest");
    expect(components).toContain("@method");
    const atOther = await waitFor(() => createsAt(other, "Signed as each")[0], 20_000, "the post at GoToSocial");
    expect(atOther.headers["signature-input"]).toBeUndefined();
    expect(atOther.headers.signature).toMatch(/keyId="/);
  });

  it("falls back to draft-cavage once where RFC 9421 is refused, and remembers it", async () => {
    await waitFor(() => createsAt(picky, "Signed as each").find((r) => r.status === 202), 20_000, "cavage at last");
    const tries = createsAt(picky, "Signed as each");
    expect(tries.map((r) => [r.status, r.headers["signature-input"] === undefined ? "cavage" : "rfc9421"])).toEqual([
      [401, "rfc9421"],
      [202, "cavage"],
    ]);
    expect(await scheme(picky)).toBe("cavage-only");
    await publishPost(lectern.server.lectern.context(), { text: "The next one in one try" });
    const next = await waitFor(() => createsAt(picky, "next one in one try")[0], 20_000, "the next post");
    expect(next.status).toBe(202);
    expect(next.headers["signature-input"]).toBeUndefined();
    await new Promise((r) => setTimeout(r, 300));
    expect(createsAt(picky, "next one in one try")).toHaveLength(1);
  });
});
