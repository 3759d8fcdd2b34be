import type { Config } from "../shared/config.ts";

/** A start-up failure caused by a setting, named by its key; undefined for anything else. */
export function startupProblem(error: unknown, config: Config): string | undefined {
  const e = error as NodeJS.ErrnoException & { address?: string };
  const code = e?.code ?? "";
  if (e?.name === "SecretKeyError") return e.message;
  if (e?.name === "SchemaTooNewError")
    return `${config.databaseUrl === null ? `LECTERN_DATA_DIR (${config.databasePath})` : "LECTERN_DATABASE_URL"}: ${e.message}`;
  if (code === "EADDRINUSE") return `PORT: ${config.port} is already in use on ${config.host}`;
  if (code === "EADDRNOTAVAIL" || code === "ENOTFOUND" || code === "EAI_AGAIN" || code === "EINVAL") {
    if (e.syscall === "listen" || e.syscall === "getaddrinfo" || e.address !== undefined) {
      return `HOST: cannot listen on ${JSON.stringify(config.host)} (${code})`;
    }
  }
  if (code === "EACCES" && e.syscall === "listen") return `PORT: not allowed to listen on port ${config.port}`;
  if (
    config.databaseUrl !== null &&
    (e?.name === "DatabaseUnavailableError" ||
      /^(3D000|28P01|28000|ECONN|ENOTFOUND|EAI_AGAIN)/.test(code) ||
      e?.name === "PostgresError")
  ) {
    return `LECTERN_DATABASE_URL: cannot use the database: ${e.message}`;
  }
  if (["ENOTDIR", "EACCES", "EROFS", "ENOENT", "EEXIST"].includes(code) || e?.name === "SqliteError") {
    return `LECTERN_DATA_DIR: cannot use ${config.dataDir}: ${e.message}`;
  }
  return undefined;
}
