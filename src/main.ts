import { type Config, ConfigError, loadConfig } from "./config.ts";
import { configureLogging } from "./logging.ts";
import { startServer } from "./server.ts";

let config: Config;
try {
  config = loadConfig();
} catch (e) {
  if (!(e instanceof ConfigError)) throw e;
  console.error(`Lectern cannot start: configuration error: ${e.message}`);
  process.exit(78);
}
await configureLogging(config.logLevel);
const server = await startServer(config);
console.log(
  `Lectern is listening on ${server.url.href} as @${config.handle}@${config.origin.host} (public origin ${config.origin.origin}, data in ${config.dataDir})`,
);
if (server.initialPassword) {
  console.log(
    `\nThe author's desk is at ${new URL("/admin", config.origin).href}\nFirst start: the password is  ${server.initialPassword}\n(shown only now; change it with: npm run -s lectern -- set-password)\n`,
  );
}
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    console.log(`Received ${signal}: finishing in-flight work`);
    server.close().then(
      () => process.exit(0),
      (error) => {
        console.error(error);
        process.exit(1);
      },
    );
  });
}
