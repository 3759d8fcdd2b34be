// The federation suite on postgres (one file per database, so the two run side by side).
import { suite } from "./suites/federation.ts";

suite(["postgres"]);
