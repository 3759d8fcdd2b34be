// A child process of the readers benchmark: an SMTP server and a push service on loopback that accept
// everything and count it (messages, and bytes), reporting counts to the parent over IPC.
import { createServer } from "node:http";
import { SMTPServer } from "smtp-server";

let mail = 0;
let pushes = 0;
const smtp = new SMTPServer({
  authOptional: true,
  disabledCommands: ["STARTTLS"],
  logger: false,
  maxClients: 1000,
  onData(stream, _session, callback) {
    stream.on("data", () => {});
    stream.on("end", () => {
      mail++;
      callback();
    });
  },
});
const push = createServer((req, res) => {
  req.on("data", () => {});
  req.on("end", () => {
    pushes++;
    res.writeHead(201).end();
  });
});
push.keepAliveTimeout = 30_000;
await new Promise<void>((r) => smtp.listen(0, "127.0.0.1", r));
await new Promise<void>((r) => push.listen(0, "127.0.0.1", r));
process.send?.({
  smtpPort: (smtp.server.address() as { port: number }).port,
  pushPort: (push.address() as { port: number }).port,
});
setInterval(() => process.connected && process.send?.({ mail, pushes }), 50).unref();
process.on("disconnect", () => process.exit(0));
process.on("message", (m: { cmd: string }) => {
  if (m.cmd === "reset") {
    mail = 0;
    pushes = 0;
  } else if (m.cmd === "stop") process.exit(0);
});
