/**
 * Errors that carry their meaning: an HTTP status for the web, an exit code
 * for the CLI, and a message safe to show to whoever caused them (it names
 * what is wrong, never internals). One `onError` (web/app.ts) and one table
 * (cli-run.ts) turn them into answers; anything else is a bug and a 500.
 */
export class LecternError extends Error {
  /** HTTP status to answer with. */
  readonly status: number;
  /** sysexits(3) code for the CLI. */
  readonly exitCode: number;
  constructor(message: string, status: number, exitCode: number, options?: ErrorOptions) {
    super(message, options);
    this.status = status;
    this.exitCode = exitCode;
  }
}

/** What someone sent is not acceptable (422; EX_DATAERR). */
export class InvalidInputError extends LecternError {
  override name = "InvalidInputError";
  constructor(message: string, options?: ErrorOptions) {
    super(message, 422, 65, options);
  }
}

/** What someone named does not exist (404; EX_NOINPUT). */
export class NotFoundError extends LecternError {
  override name = "NotFoundError";
  constructor(message: string, options?: ErrorOptions) {
    super(message, 404, 66, options);
  }
}

/** A service Lectern depends on is away for now (503; EX_TEMPFAIL). */
export class UnavailableError extends LecternError {
  override name = "UnavailableError";
  constructor(message: string, options?: ErrorOptions) {
    super(message, 503, 75, options);
  }
}
