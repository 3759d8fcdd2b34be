import { createFederationBuilder } from "@fedify/fedify";
import type { AppData } from "../product/context.ts";

/**
 * Every dispatcher and listener registers itself on this builder; each
 * Lectern instance (server, CLI, tests) builds its own federation from it.
 */
export const builder = createFederationBuilder<AppData>();
