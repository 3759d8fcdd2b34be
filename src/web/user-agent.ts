/**
 * A browser's User-Agent in the words people use for their devices —
 * "Firefox on Android", "Safari on iPhone", "Chrome on Windows" — for the
 * list of sessions; null when it names nothing known (the raw string is
 * shown then). Order matters: Edge and Opera also say Chrome, Chrome also
 * says Safari, and iPadOS may say Macintosh.
 */
export function describeUserAgent(ua: string): string | null {
  const browser = /Edg(e|A|iOS)?\//.test(ua)
    ? "Edge"
    : /OPR\/|Opera/.test(ua)
      ? "Opera"
      : /Firefox\/|FxiOS\//.test(ua)
        ? "Firefox"
        : /SamsungBrowser\//.test(ua)
          ? "Samsung Internet"
          : /Chrome\/|CriOS\//.test(ua)
            ? "Chrome"
            : /Safari\//.test(ua) && /Version\//.test(ua)
              ? "Safari"
              : null;
  const system = /Android/.test(ua)
    ? "Android"
    : /iPhone/.test(ua)
      ? "iPhone"
      : /iPad/.test(ua)
        ? "iPad"
        : /Windows/.test(ua)
          ? "Windows"
          : /Macintosh|Mac OS X/.test(ua)
            ? "macOS"
            : /CrOS/.test(ua)
              ? "ChromeOS"
              : /Linux/.test(ua)
                ? "Linux"
                : null;
  if (browser === null && system === null) return null;
  if (browser === null) return `a browser on ${system}`;
  return system === null ? browser : `${browser} on ${system}`;
}
