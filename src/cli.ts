// The command line (cli-run.ts), once the `.tsx` views can load.
import "./tsx-hooks.ts";

await import("./cli/run.ts");
