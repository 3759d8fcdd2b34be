import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { openDatabase } from "../src/storage/open.ts";
import { sql } from "../src/storage/sql.ts";
import { runCli } from "./helpers/cli.ts";
import { crashScenarioOn, DIALECTS, databaseEnv } from "./helpers/databases.ts";
import { freePort, tempDir, testEnv, waitFor } from "./helpers/lectern.ts";
import { scalar } from "./helpers/rows.ts";
import { startSmtpSink } from "./helpers/smtp.ts";
import { startLecternProcess } from "./helpers/started.ts";

// Email through Lectern started as `npm start` starts it: a reader subscribes and confirms over HTTP as a browser
// does; a post from the CLI goes to 200 subscribers through a slow SMTP server; the whole process tree is killed
// (SIGKILL) in the middle of sending, and after a restart every subscriber has the post, and no address got it
// twice beyond what was in flight at the kill.
describe.each(DIALECTS)("email from a started Lectern on %s", (dialect) => {
  const cleanups: (() => unknown)[] = [];
  afterAll(async () => {
    for (const c of cleanups) await c();
  });

  it.runIf(crashScenarioOn(dialect))(
    "survives a SIGKILL mid-send: each subscriber gets the post, duplicates only of what was in flight",
    async () => {
      const tmp = tempDir();
      cleanups.push(tmp.remove);
      const smtp = await startSmtpSink({ delayMs: 30 });
      cleanups.unshift(() => smtp.close());
      const port = await freePort();
      const env = testEnv(tmp.dir, port, {
        ...(await databaseEnv(dialect)),
        LECTERN_EMAIL_SMTP_URL: smtp.url,
        LECTERN_EMAIL_FROM: "news@lectern.example",
        LECTERN_EMAIL_MAX_CONNECTIONS: "2",
        LECTERN_DELIVERY_WORKERS: "1",
      });
      const origin = `http://127.0.0.1:${port}`;
      let lectern = await startLecternProcess(env);
      cleanups.unshift(() => lectern.stop());
      const db = await openDatabase({
        databaseUrl: env.LECTERN_DATABASE_URL ?? null,
        databasePath: path.join(tmp.dir, "lectern.sqlite"),
      });
      cleanups.unshift(() => db.close());

      // A reader subscribes from the page's form and confirms through the emailed link, over HTTP.
      const asked = await fetch(`${origin}/email/subscribe`, {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded", Origin: origin },
        body: "email=first%40example.com",
      });
      expect(asked.status).toBe(200);
      const confirmation = await waitFor(() => smtp.to("first@example.com")[0], 20_000, "the confirmation");
      const link = String(confirmation.mail.text?.match(/http:\S+\/email\/confirm\S+/)?.[0]);
      expect((await fetch(link, { method: "POST" })).status).toBe(200);
      // 199 more, confirmed, made in SQL.
      const N = 200;
      const now = Date.now();
      for (let i = 1; i < N; i++)
        await db.run(sql`INSERT INTO email_subscribers (address, address_hash, domain, partition, status, source,
          created_at, confirmed_at, sent_through)
        VALUES (${`r${i}@example.com`}, ${`test-${i}`}, 'example.com', 0, 'confirmed', 'import', ${now}, ${now}, ${now})`);
      await db.run(
        sql`UPDATE email_subscribers SET partition = (SELECT partition FROM email_subscribers WHERE id = 1)`,
      );

      const posted = await runCli(["post", "--text", "Sent once, even across a kill"], env);
      expect(posted.code, posted.stderr).toBe(0);
      const got = () => smtp.received.filter((r) => /Sent once/.test(r.mail.subject ?? ""));
      await waitFor(() => got().length >= 40 || undefined, 60_000, "sending to be under way");
      for (const pid of lectern.pids()) {
        try {
          process.kill(pid, "SIGKILL");
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== "ESRCH") throw error;
        }
      }
      const atKill = got().length;
      const firstOutput = lectern.output();
      expect(atKill).toBeLessThan(N);

      lectern = await startLecternProcess(env);
      cleanups.unshift(() => lectern.stop());
      await waitFor(() => new Set(got().flatMap((r) => r.to)).size === N || undefined, 90_000, "every subscriber");
      const duplicates = got().length - N;
      // Subscribers' addresses are personal data: in no log line of either run.
      expect(`${firstOutput}${lectern.output()}`).not.toMatch(/@example\.com/);
      // At most what the pool had in flight (2 connections × 4 messages) when the tree was killed.
      expect(duplicates).toBeLessThanOrEqual(8);
      await waitFor(
        async () =>
          Number(await scalar(db, "SELECT sent FROM reader_fanouts WHERE channel = 'email'")) >= N - 8 || undefined,
        10_000,
        "the post's email count",
      );
      console.log(
        `${dialect}: killed after ${atKill} of ${N} emails; all ${N} reached after the restart, ${duplicates} twice`,
      );
    },
    180_000,
  );
});
