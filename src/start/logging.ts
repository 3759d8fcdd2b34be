import { AsyncLocalStorage } from "node:async_hooks";
import { configure, getConsoleSink, jsonLinesFormatter, type LogLevel, type Sink } from "@logtape/logtape";
import type { Config } from "../shared/config.ts";

/**
 * Lectern's logs at the configured level; Fedify's at warning unless debugging.
 * What remote servers send wrong (bad signatures, broken JSON) is their
 * problem, answered with a 4xx: it is not logged as our error. `json`: one
 * JSON object a line (LogTape's JSON Lines: time, level, category, message,
 * properties, and the request id of the request it happened in).
 */
export async function configureLogging(
  level: Config["logLevel"],
  format: Config["logFormat"] = "text",
  sink: Sink = getConsoleSink(format === "json" ? { formatter: jsonLinesFormatter } : {}),
): Promise<void> {
  const debug = level === "debug";
  await configure({
    reset: true,
    contextLocalStorage: new AsyncLocalStorage(),
    sinks: { main: sink },
    loggers: [
      { category: "lectern", lowestLevel: level as LogLevel, sinks: ["main"] },
      { category: "fedify", lowestLevel: debug ? "debug" : "warning", sinks: ["main"] },
      // One line per HTTP request, at warning for every browser that gets HTML (a 406 to Fedify), and
      // errors that our own handler (app.onError, the inbox guard) logs once, with what was answered.
      { category: ["fedify", "federation", "http"], lowestLevel: debug ? "debug" : "fatal", sinks: ["main"] },
      // Rejected inbox requests (forged or missing signatures, malformed JSON): 4xx answers, not our errors.
      // Failures of our own listeners are logged under "lectern.inbox".
      { category: ["fedify", "federation", "inbox"], lowestLevel: debug ? "debug" : "fatal", sinks: ["main"] },
      { category: ["logtape", "meta"], lowestLevel: "warning", sinks: ["main"] },
    ],
  });
}
