export const LECTERN_VERSION = "0.1.0";

/** The one User-Agent of every request Lectern makes (GoToSocial answers 418 without one). */
export function userAgent(origin: URL): string {
  return `Lectern/${LECTERN_VERSION} (+${origin.origin})`;
}
