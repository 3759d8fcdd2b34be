// Readers without an account: N email subscribers and N Web Push subscriptions, one post. Each channel's rate
// is compared with a raw loop doing the same sends in this process, in the same run (a pooled nodemailer
// transport with the same connections; web-push's encryption and VAPID with the same HTTP client and
// requests in flight), against the same local SMTP server and push service (a child process).
//   npm run bench:readers                       (10,000 of each, SQLite)
//   npm run bench:readers -- --readers 100000   (100,000 of each)
//   npm run bench:readers -- --postgres
//   BENCH_ONLY=email npm run bench:readers      (the email run alone, no raw loops: for profiling; or push)
import { fork } from "node:child_process";
import { createECDH, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import nodemailer from "nodemailer";
import { Agent, request } from "undici";
import webPush from "web-push";
import { publishPost } from "../src/product/publish.ts";
import { loadConfig } from "../src/shared/config.ts";
import { startServer } from "../src/start/server.ts";
import { sql } from "../src/storage/sql.ts";
import { freePort } from "../tests/helpers/net.ts";
import { arg, benchPostgres, flag } from "./harness.ts";

const N = arg("readers", 10_000);
const CONNECTIONS = 5;
const postgres = flag("postgres") ? await benchPostgres() : undefined;
console.log(`readers: ${N} email subscribers and ${N} push subscriptions on ${postgres ? "PostgreSQL" : "SQLite"}`);

const sink = fork(fileURLToPath(new URL("./reader-sink-process.ts", import.meta.url)), {
  execArgv: ["--import", "./src/tsx-hooks.ts"],
});
const ports = await new Promise<{ smtpPort: number; pushPort: number }>((resolve) =>
  sink.once("message", (m) => resolve(m as { smtpPort: number; pushPort: number })),
);
let counts = { mail: 0, pushes: 0 };
sink.on("message", (m) => {
  if ((m as { mail?: number }).mail !== undefined) counts = m as typeof counts;
});
const reset = async () => {
  sink.send({ cmd: "reset" });
  await new Promise((r) => setTimeout(r, 200));
};
const until = async (done: () => boolean) => {
  while (!done()) await new Promise((r) => setTimeout(r, 20));
};

// The raw loops.
const html = `<p>${"A post about the harbour, with a few lines of text. ".repeat(20)}</p>`;
async function rawMail(): Promise<number> {
  await reset();
  const t = nodemailer.createTransport({
    pool: true,
    host: "127.0.0.1",
    port: ports.smtpPort,
    maxConnections: CONNECTIONS,
    maxMessages: 500,
  });
  const start = performance.now();
  let next = 0;
  const one = async () => {
    while (next < N) {
      const i = next++;
      await t.sendMail({
        from: "news@lectern.example",
        to: `r${i}@d${i % 1000}.example`,
        subject: "A post",
        html,
        text: html,
        headers: { "List-Unsubscribe": `<https://lectern.example/u?s=${i}>` },
      });
    }
  };
  await Promise.all(Array.from({ length: CONNECTIONS * 4 }, one));
  await until(() => counts.mail >= N);
  t.close();
  return Math.round(N / ((performance.now() - start) / 1000));
}

const ecdh = createECDH("prime256v1");
ecdh.generateKeys();
const keys = { p256dh: ecdh.getPublicKey().toString("base64url"), auth: randomBytes(16).toString("base64url") };
const vapid = webPush.generateVAPIDKeys();
async function rawPush(): Promise<number> {
  await reset();
  const agent = new Agent({ connections: 32 });
  const start = performance.now();
  let next = 0;
  const payload = JSON.stringify({
    web_push: 8030,
    notification: { title: "Author", body: "A post about the harbour", navigate: "https://lectern.example/p/1" },
  });
  const one = async () => {
    while (next < N) {
      const i = next++;
      const d = webPush.generateRequestDetails(
        { endpoint: `http://127.0.0.1:${ports.pushPort}/push/${i}`, keys },
        payload,
        {
          vapidDetails: {
            subject: "mailto:ops@lectern.example",
            publicKey: vapid.publicKey,
            privateKey: vapid.privateKey,
          },
          TTL: 86400,
          contentEncoding: "aes128gcm",
        },
      );
      const res = await request(d.endpoint, {
        method: "POST",
        headers: d.headers as Record<string, string>,
        body: d.body ?? undefined,
        dispatcher: agent,
      });
      await res.body.dump();
    }
  };
  await Promise.all(Array.from({ length: 128 }, one));
  await agent.close();
  return Math.round(N / ((performance.now() - start) / 1000));
}

const only = process.env.BENCH_ONLY;
const profiling = only === "email" || only === "push";
const rawMailRate = profiling ? 1 : Math.max(await rawMail(), await rawMail());
console.log(`raw nodemailer loop (${CONNECTIONS} pooled connections, best of 2): ${rawMailRate} emails/s`);
const rawPushRate = profiling ? 1 : Math.max(await rawPush(), await rawPush());
console.log(`raw web-push loop (128 in flight, best of 2): ${rawPushRate} pushes/s`);

// Lectern: one run per channel (each alone on the machine's cores, as each raw loop was), then both at once.
async function runLectern(channels: { email: boolean; push: boolean }) {
  const dir = mkdtempSync(path.join(tmpdir(), "lectern-bench-readers-"));
  const port = await freePort();
  const config = loadConfig({
    env: {
      LECTERN_DATA_DIR: dir,
      PORT: String(port),
      LECTERN_ORIGIN: `http://127.0.0.1:${port}`,
      LECTERN_ALLOW_PRIVATE_ADDRESS: "true",
      LECTERN_LOG_LEVEL: "error",
      LECTERN_PUSH: String(channels.push),
      ...(channels.email
        ? {
            LECTERN_EMAIL_SMTP_URL: `smtp://127.0.0.1:${ports.smtpPort}`,
            LECTERN_EMAIL_FROM: "news@lectern.example",
            LECTERN_EMAIL_MAX_CONNECTIONS: String(CONNECTIONS),
          }
        : {}),
      ...(postgres ? { LECTERN_DATABASE_URL: postgres.url } : {}),
    },
    cwd: dir,
  });
  const server = await startServer(config);
  const db = server.lectern.db;
  if (db.dialect === "postgres")
    await db.run(sql`TRUNCATE email_subscribers, push_subscriptions, reader_fanouts, posts, outgoing, deliveries`);
  const series =
    db.dialect === "postgres"
      ? sql`SELECT g AS i FROM generate_series(1, ${N}) AS g`
      : sql`WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < ${N}) SELECT i FROM s`;
  const now = Date.now();
  const domain = sql.raw("'d' || CAST(i % 1000 AS text) || '.example'");
  if (channels.email)
    await db.run(sql`INSERT INTO email_subscribers (address, address_hash, domain, partition, status, source, created_at, confirmed_at, sent_through)
      SELECT 'r' || CAST(i AS text) || '@' || ${domain}, 'h' || CAST(i AS text), ${domain}, lectern_partition(${domain}, 64),
             'confirmed', 'import', ${now}, ${now}, ${now} FROM (${series}) AS numbers`);
  const pushHost = `127.0.0.1:${ports.pushPort}`;
  if (channels.push)
    await db.run(sql`INSERT INTO push_subscriptions (endpoint, p256dh, auth, host, partition, created_at, sent_through)
      SELECT ${`http://${pushHost}/push/`} || CAST(i AS text), ${keys.p256dh}, ${keys.auth}, ${pushHost},
             lectern_partition(${pushHost}, 64), ${now}, ${now} FROM (${series}) AS numbers`);
  await reset();
  let peakRss = 0;
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }, 100);
  const start = performance.now();
  await publishPost(server.lectern.context(), { text: "A post for readers without an account" });
  let first = 0;
  let mailDone = channels.email ? 0 : 1;
  let pushDone = channels.push ? 0 : 1;
  await until(() => {
    const t = performance.now() - start;
    if (first === 0 && counts.mail + counts.pushes > 0) first = t;
    if (mailDone === 0 && counts.mail >= N) mailDone = t;
    if (pushDone === 0 && counts.pushes >= N) pushDone = t;
    return mailDone > 0 && pushDone > 0;
  });
  clearInterval(sampler);
  await server.close();
  rmSync(dir, { recursive: true, force: true });
  // Rates over the sending itself: from the first message (posts settle 2–3 s before they leave).
  const rate = (done: number) => Math.round(N / ((done - first) / 1000));
  return {
    first,
    mailDone,
    pushDone,
    mailRate: rate(mailDone),
    pushRate: rate(pushDone),
    peakRssMb: Math.round(peakRss / 1048576),
  };
}

if (only === "push") {
  const push = await runLectern({ email: false, push: true });
  console.log(`push alone: ${push.pushRate} pushes/s`);
  sink.kill();
  process.exit(0);
}
const mail = await runLectern({ email: true, push: false });
console.log(
  `email alone: first ${Math.round(mail.first)} ms after publishing, last ${Math.round(mail.mailDone)} ms: ${mail.mailRate} emails/s`,
);
console.log(`ratio to raw nodemailer loop: ${(mail.mailRate / rawMailRate).toFixed(2)}`);
if (profiling) {
  sink.kill();
  process.exit(0);
}
const push = await runLectern({ email: false, push: true });
console.log(
  `push alone: first ${Math.round(push.first)} ms after publishing, last ${Math.round(push.pushDone)} ms: ${push.pushRate} pushes/s`,
);
console.log(`ratio to raw web-push loop: ${(push.pushRate / rawPushRate).toFixed(2)}`);
const both = await runLectern({ email: true, push: true });
console.log(
  `both at once: last email ${Math.round(both.mailDone)} ms, last push ${Math.round(both.pushDone)} ms after publishing`,
);
console.log(
  `peak RSS of the process (raw loops and the runs before included): ${Math.max(mail.peakRssMb, push.peakRssMb, both.peakRssMb)} MB`,
);
sink.kill();
await postgres?.stop();
process.exit(0);
