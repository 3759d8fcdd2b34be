import { AsyncLocalStorage } from "node:async_hooks";
import { configure, getConsoleSink, type LogLevel } from "@logtape/logtape";
import type { Config } from "./config.ts";

/** Lectern's logs at the configured level; Fedify's at warning unless debugging. */
export async function configureLogging(level: Config["logLevel"]): Promise<void> {
  const lowest = level as LogLevel;
  await configure({
    reset: true,
    contextLocalStorage: new AsyncLocalStorage(),
    sinks: { console: getConsoleSink() },
    loggers: [
      { category: "lectern", lowestLevel: lowest, sinks: ["console"] },
      { category: "fedify", lowestLevel: level === "debug" ? "debug" : "warning", sinks: ["console"] },
      // One line per HTTP request, at warning for every browser that gets HTML (a 406 to Fedify).
      { category: ["fedify", "federation", "http"], lowestLevel: level === "debug" ? "debug" : "error", sinks: ["console"] },
      { category: ["logtape", "meta"], lowestLevel: "warning", sinks: ["console"] },
    ],
  });
}
