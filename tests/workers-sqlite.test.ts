// The workers suite on sqlite (one file per database, so the two run side by side).
import { suite } from "./suites/workers.ts";

suite(["sqlite"]);
