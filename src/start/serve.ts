import { type Config, ConfigError, loadConfig } from "../shared/config.ts";
import { startupProblem } from "./startup.ts";

function fail(message: string): never {
  console.error(`Lectern cannot start: configuration error: ${message}`);
  process.exit(78);
}

let config: Config;
try {
  config = loadConfig();
} catch (e) {
  if (!(e instanceof ConfigError)) throw e;
  fail(e.message);
}
// A process started by an `all` process stops with it, even when it was killed outright, and even while
// this one is still starting (then there is nothing to finish: it just ends).
let parentGone: ((why: string) => void) | undefined;
if (process.channel !== undefined)
  process.once("disconnect", () => (parentGone ? parentGone("The supervising process is gone") : process.exit(0)));
// The configuration is checked first: a wrong setting is told at once, before the server's modules load.
const { configureLogging } = await import("./logging.ts");
const { startServer } = await import("./server.ts");
const { SUPERVISED, superviseChildren } = await import("./supervisor.ts");
const { startTelemetry } = await import("./telemetry.ts");
await configureLogging(config.logLevel, config.logFormat);
// Metrics and traces first: Fedify and Lectern take their instruments from the providers set here.
const telemetry = await startTelemetry(config).catch((e: NodeJS.ErrnoException) => {
  if (config.metrics === null || !["EADDRINUSE", "EADDRNOTAVAIL", "EACCES", "ENOTFOUND"].includes(e.code ?? ""))
    throw e;
  const { host, port } = config.metrics.listen;
  return fail(`LECTERN_METRICS_LISTEN: cannot listen on ${host}:${port} (${e.code})`);
});
let server: Awaited<ReturnType<typeof startServer>>;
try {
  server = await startServer(config);
} catch (e) {
  const problem = startupProblem(e, config);
  if (problem === undefined) throw e;
  fail(problem);
}
const { readiness, readyAnswer } = await import("../web/health.ts");
telemetry.serveHealth(async () => readyAnswer(await readiness(server.lectern)));
const supervised = process.env[SUPERVISED] === "1";
const workers =
  config.role === "all" && !supervised
    ? superviseChildren(config, server.url.port === "" ? config.port : Number(server.url.port))
    : undefined;
if (supervised) {
  console.log(`Lectern process ${process.pid} is running (role ${config.role})`);
} else if (config.role !== "worker") {
  console.log(
    `Lectern is listening on ${server.url.href} as @${config.handle}@${config.origin.host} (public origin ${config.origin.origin}, ${config.databaseUrl === null ? `data in ${config.dataDir}` : "PostgreSQL"}, role ${config.role})`,
  );
} else {
  console.log(`Lectern worker ${server.deliveries?.workerId} is delivering (role worker)`);
}
if (telemetry.metricsUrl !== null) console.log(`Metrics at ${telemetry.metricsUrl.href}`);
if (server.initialPassword) {
  console.log(
    `\nThe author's desk is at ${new URL("/admin", config.origin).href}\nFirst start: sign in as  owner  with the password  ${server.initialPassword}\n(shown only now; change it in the desk under Security, or with: npm run -s lectern -- set-password owner)\n`,
  );
}
/** The longest a stop may take (the delivery timeout, 15 s by default, and a little more). */
const STOP_DEADLINE_MS = config.delivery.timeoutMs + 10_000;
let stopping = false;
const stop = (why: string) => {
  if (stopping) return;
  stopping = true;
  console.log(`${why}: finishing in-flight work`);
  // Whatever is pending, the process ends: a delivery in flight is sent again by the next owner of its
  // partition (the rows are the state), and nothing else is lost by stopping.
  setTimeout(() => {
    console.error(`${why}: in-flight work did not finish within ${STOP_DEADLINE_MS / 1000} s; stopping now`);
    process.exit(1);
  }, STOP_DEADLINE_MS).unref();
  Promise.all([workers?.stop(), server.close()])
    .then(() => telemetry.close())
    .then(
      () => process.exit(0),
      (error) => {
        console.error(error);
        process.exit(1);
      },
    );
};
for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => stop(`Received ${signal}`));
parentGone = stop;
if (process.channel !== undefined && !process.connected) stop("The supervising process is gone");
