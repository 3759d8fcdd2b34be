import { generateKeyPairSync } from "node:crypto";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { type ParsedMail, simpleParser } from "mailparser";
import { SMTPServer } from "smtp-server";

/** A message as the SMTP server received it: its envelope, raw bytes and parsed form. */
export interface Received {
  to: string[];
  raw: Buffer;
  mail: ParsedMail;
}

/**
 * A real SMTP server on loopback, keeping what it receives. A recipient's
 * local part says how it answers: `bounce…` gets 550 at RCPT, `later…` gets
 * 451 while `deferrals` lasts.
 */
export async function startSmtpSink(options: { deferrals?: number; delayMs?: number } = {}) {
  const received: Received[] = [];
  let deferrals = options.deferrals ?? 0;
  let refused = 0;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS"],
    logger: false,
    size: 10 * 1024 * 1024,
    onRcptTo(address, _session, callback) {
      const local = address.address.split("@")[0];
      if (local.startsWith("bounce")) {
        refused++;
        return callback(Object.assign(new Error("5.1.1 No such user here"), { responseCode: 550 }));
      }
      if (local.startsWith("later") && deferrals > 0) {
        deferrals--;
        return callback(Object.assign(new Error("4.2.1 Try again later"), { responseCode: 451 }));
      }
      callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", async () => {
        const raw = Buffer.concat(chunks);
        received.push({ to: session.envelope.rcptTo.map((r) => r.address), raw, mail: await simpleParser(raw) });
        // A slow server: the message is kept, and the sender hears so only later (or never, if it dies first).
        setTimeout(callback, options.delayMs ?? 0);
      });
    },
  });
  // A sender killed mid-message (the crash tests) resets its connection: that is the sender's story, not an
  // error of this server (unlistened, smtp-server's "error" event would end the test process).
  server.on("error", () => {});
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.server.address() as { port: number }).port;
  return {
    url: `smtp://127.0.0.1:${port}`,
    received,
    refused: () => refused,
    to: (address: string) => received.filter((r) => r.to.includes(address)),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A DKIM key pair: the private key in a file (for `email.dkim_key_file`), the DNS TXT record that publishes it. */
export function dkimKey(dir: string): { file: string; record: string } {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const file = path.join(dir, "dkim.pem");
  writeFileSync(file, privateKey.export({ type: "pkcs8", format: "pem" }));
  const p = publicKey.export({ type: "spki", format: "der" }).toString("base64");
  return { file, record: `v=DKIM1; k=rsa; p=${p}` };
}
