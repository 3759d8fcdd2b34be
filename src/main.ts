// Starts the server (serve.ts) once the `.tsx` views can load.
import "./tsx-hooks.ts";

await import("./start/serve.ts");
