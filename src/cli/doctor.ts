import { access, constants, mkdir, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { type Dispatcher, request } from "undici";
import { withDeadline } from "../delivery/deadline.ts";
import { openLectern } from "../lectern.ts";
import { getActorKeyPairs } from "../product/keys.ts";
import type { Config } from "../shared/config.ts";
import { deliveryAgent, refuseUrl } from "../shared/http-client.ts";
import { userAgent } from "../shared/version.ts";
import type { Database } from "../storage/database.ts";
import { schemaState } from "../storage/migrate.ts";
import { connectDatabase } from "../storage/open.ts";
import { sql } from "../storage/sql.ts";

/*
 * `lectern doctor`: what an operator checks before and after going live,
 * each on a line with what to do when it fails. The public checks go through
 * the configured origin as a follower's server would (DNS, TLS, the proxy),
 * with the guarded client: an origin that resolves to a private address is a
 * finding, not something to fetch.
 */

type Verdict = "ok" | "warn" | "FAIL";
interface Finding {
  verdict: Verdict;
  what: string;
  detail: string;
  fix?: string;
}

/** Answers of the public origin: status, headers, body (up to 256 KiB), or why nothing came. */
async function get(agent: Dispatcher, url: URL, accept: string, config: Config) {
  const refused = refuseUrl(url, config.allowPrivateAddress);
  if (refused !== null) return { status: 0, error: `EPRIVATE: refusing to fetch ${refused}` };
  try {
    const res = await request(url, {
      method: "GET",
      headers: { accept, "user-agent": userAgent(config.origin) },
      dispatcher: agent,
      signal: AbortSignal.timeout(10_000),
    });
    const text = (await res.body.text()).slice(0, 256 * 1024);
    let json: Record<string, unknown> | undefined;
    try {
      json = JSON.parse(text) as Record<string, unknown>;
    } catch {}
    return { status: res.statusCode, headers: res.headers, json };
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { cause?: NodeJS.ErrnoException };
    return { status: 0, error: `${err.code ?? err.cause?.code ?? err.name}: ${err.message}` };
  }
}

/** A PEM's base64 body, whatever its line breaks. */
const pemBody = (pem: string) => pem.replace(/-----[^-]+-----|\s/g, "");

function tlsFix(error: string): string {
  if (/CERT|SSL|TLS|certificate|self.signed/.test(error))
    return "the certificate is not accepted: serve a complete chain (leaf + intermediates) valid for the origin's name, e.g. from Let's Encrypt";
  if (/^EPRIVATE/.test(error))
    return "the origin resolves to a private address: fediverse servers cannot reach it; publish a public DNS name pointing at your proxy";
  return "check DNS for the origin's name, that the proxy listens on 443 and passes requests to Lectern's PORT";
}

async function publicChecks(config: Config, publicKeyPem: string | null): Promise<Finding[]> {
  const out: Finding[] = [];
  const agent = deliveryAgent({
    allowPrivateAddress: config.allowPrivateAddress,
    connectTimeoutMs: 5_000,
    timeoutMs: 10_000,
    connectionsPerServer: 1,
  });
  try {
    const origin = config.origin;
    if (origin.protocol !== "https:" && !config.allowPrivateAddress)
      out.push({
        verdict: "FAIL",
        what: "origin",
        detail: `${origin.origin} is not https`,
        fix: "set LECTERN_ORIGIN to the https:// address your TLS proxy serves; fediverse servers refuse plain http",
      });
    const acct = `acct:${config.handle}@${origin.host}`;
    const wf = await get(
      agent,
      new URL(`/.well-known/webfinger?resource=${encodeURIComponent(acct)}`, origin),
      "application/jrd+json",
      config,
    );
    const self = (wf.json?.links as { rel?: string; type?: string; href?: string }[] | undefined)?.find(
      (l) => l.rel === "self",
    );
    if (wf.status !== 200 || self?.href === undefined) {
      out.push({
        verdict: "FAIL",
        what: "WebFinger",
        detail: wf.status === 0 ? `no answer from ${origin.origin}: ${wf.error}` : `answered ${wf.status}`,
        fix:
          wf.status === 0
            ? tlsFix(wf.error ?? "")
            : "the proxy must pass /.well-known/ to Lectern unchanged (no redirect to another host)",
      });
      return out;
    }
    out.push({ verdict: "ok", what: "WebFinger", detail: `${acct} → ${self.href}` });
    // Clock: the Date the origin answered with (Mastodon refuses signatures more than an hour off; 30 s is plenty).
    const date = Date.parse(String(wf.headers?.date ?? ""));
    if (Number.isFinite(date)) {
      const skew = Math.round((date - Date.now()) / 1000);
      out.push(
        Math.abs(skew) <= 30
          ? { verdict: "ok", what: "clock", detail: `the origin's clock is ${skew} s from this machine's` }
          : {
              verdict: "FAIL",
              what: "clock",
              detail: `the origin's clock is ${skew} s from this machine's`,
              fix: "run an NTP client (systemd-timesyncd, chrony) on every machine: signatures carry the time",
            },
      );
    }
    const actor = await get(agent, new URL(self.href), "application/activity+json", config);
    const key = actor.json?.publicKey as { publicKeyPem?: string } | undefined;
    if (actor.status !== 200 || actor.json?.id !== self.href) {
      out.push({
        verdict: "FAIL",
        what: "actor",
        detail: actor.status === 0 ? String(actor.error) : `answered ${actor.status}, id ${String(actor.json?.id)}`,
        fix: "the proxy must pass Accept: application/activity+json through and not cache pages for it",
      });
    } else if (publicKeyPem !== null && pemBody(key?.publicKeyPem ?? "") !== publicKeyPem) {
      out.push({
        verdict: "FAIL",
        what: "actor",
        detail: "its public key is not this database's",
        fix: "the origin serves another installation (or a stale cache): point the proxy at this one and purge its cache",
      });
    } else {
      out.push({ verdict: "ok", what: "actor", detail: `${self.href} serves the key of this database` });
    }
    const ni = await get(agent, new URL("/.well-known/nodeinfo", origin), "application/json", config);
    const href = (ni.json?.links as { href?: string }[] | undefined)?.[0]?.href;
    const doc = href === undefined ? undefined : await get(agent, new URL(href), "application/json", config);
    const software = (doc?.json?.software as { name?: string } | undefined)?.name;
    out.push(
      software === "lectern"
        ? { verdict: "ok", what: "NodeInfo", detail: `${href} names lectern` }
        : {
            verdict: "FAIL",
            what: "NodeInfo",
            detail: `no NodeInfo naming lectern (${ni.status}${doc ? `, ${doc.status}` : ""})`,
            fix: "the proxy must pass /.well-known/nodeinfo and /nodeinfo/ to Lectern",
          },
    );
  } finally {
    await agent.close();
  }
  return out;
}

async function storageChecks(config: Config, db: Database): Promise<Finding[]> {
  const out: Finding[] = [];
  const started = Date.now();
  const state = await schemaState(db).catch(() => null);
  if (state === null) {
    out.push({
      verdict: "FAIL",
      what: "database",
      detail: "it holds no schema yet (a new installation)",
      fix: "npm run -s lectern -- migrate (npm start does it too)",
    });
    return out;
  }
  const { pending, unknown } = state;
  const ms = Date.now() - started;
  const where = config.databaseUrl === null ? `SQLite ${config.databasePath}` : "PostgreSQL";
  if (unknown > 0)
    out.push({
      verdict: "FAIL",
      what: "database",
      detail: `${where} was migrated by a newer version (${unknown} migrations unknown here)`,
      fix: "run the version that migrated it, or restore a backup made before",
    });
  else if (pending > 0)
    out.push({
      verdict: "FAIL",
      what: "database",
      detail: `${where}: ${pending} migrations not applied`,
      fix: "npm run -s lectern -- migrate",
    });
  else out.push({ verdict: "ok", what: "database", detail: `${where} answers in ${ms} ms, schema current` });
  if (db.dialect === "postgres") {
    const row = await db.get<{ t: number }>(sql`SELECT extract(epoch from now()) * 1000 AS t`);
    const skew = Math.round((Number(row?.t) - Date.now()) / 1000);
    out.push(
      Math.abs(skew) <= 5
        ? { verdict: "ok", what: "database clock", detail: `${skew} s from this machine's` }
        : {
            verdict: "FAIL",
            what: "database clock",
            detail: `${skew} s from this machine's`,
            fix: "run an NTP client on the database and application machines: leases and retries use both clocks",
          },
    );
  }
  try {
    await access(config.secretKeyFile, constants.R_OK);
    out.push({ verdict: "ok", what: "secret key", detail: `${config.secretKeyFile} is readable` });
  } catch (e) {
    out.push({
      verdict: "FAIL",
      what: "secret key",
      detail: `${config.secretKeyFile}: ${(e as NodeJS.ErrnoException).code}`,
      fix: "restore the key file from your backup: without it the actor's keys in the database cannot be opened",
    });
  }
  if (config.media.store === "disk") {
    const dir = path.join(config.dataDir, "media");
    try {
      await mkdir(dir, { recursive: true });
      const probe = path.join(dir, `.doctor-${process.pid}`);
      await writeFile(probe, "");
      await rm(probe);
      out.push({ verdict: "ok", what: "media", detail: `${dir} is writable` });
    } catch (e) {
      out.push({
        verdict: "FAIL",
        what: "media",
        detail: `${dir}: ${(e as NodeJS.ErrnoException).code}`,
        fix: "give the service's user write access to LECTERN_DATA_DIR",
      });
    }
  }
  return out;
}

/** `lectern doctor`: every check, each with a fix; exit 1 when one failed. */
export async function doctorCommand(config: Config): Promise<number> {
  const findings: Finding[] = [
    { verdict: "ok", what: "configuration", detail: `read; role ${config.role}, origin ${config.origin.origin}` },
  ];
  /** The actor's public key (SPKI, base64), as the database holds it. */
  let publicKeyPem: string | null = null;
  const db = await connectDatabase(config);
  let current = false;
  try {
    const storage = await withDeadline(storageChecks(config, db), 15_000, "the database checks");
    findings.push(...storage);
    current = storage[0].verdict === "ok";
  } catch (e) {
    findings.push({
      verdict: "FAIL",
      what: "database",
      detail: (e as Error).message,
      fix:
        config.databaseUrl === null ? "check LECTERN_DATA_DIR" : "check LECTERN_DATABASE_URL and that PostgreSQL runs",
    });
  } finally {
    await db.close();
  }
  if (current) {
    const lectern = await openLectern(config);
    try {
      const [pair] = await getActorKeyPairs(lectern.data);
      publicKeyPem = Buffer.from(await crypto.subtle.exportKey("spki", pair.publicKey)).toString("base64");
      findings.push({ verdict: "ok", what: "keys", detail: "the actor's key pairs open with the secret key" });
    } catch (e) {
      findings.push({
        verdict: "FAIL",
        what: "keys",
        detail: (e as Error).message,
        fix: "the secret key file does not match this database: restore the pair from the same backup",
      });
    } finally {
      await lectern.close();
    }
  }
  findings.push(...(await publicChecks(config, publicKeyPem)));
  if (
    config.metrics !== null &&
    config.metrics.token === null &&
    !/^(127\.|::1$|localhost$)/.test(config.metrics.listen.host)
  )
    findings.push({
      verdict: "warn",
      what: "metrics",
      detail: `${config.metrics.listen.host}:${config.metrics.listen.port} is reachable beyond this machine without a token`,
      fix: "set metrics.token (LECTERN_METRICS_TOKEN), or listen on 127.0.0.1",
    });
  for (const f of findings) {
    console.log(`${f.verdict.padEnd(4)} ${f.what}: ${f.detail}`);
    if (f.fix !== undefined && f.verdict !== "ok") console.log(`     fix: ${f.fix}`);
  }
  const failed = findings.filter((f) => f.verdict === "FAIL").length;
  console.log(failed === 0 ? "\nAll checks passed." : `\n${failed} checks failed.`);
  return failed === 0 ? 0 : 1;
}
