import type { Hono } from "hono";
import { authorizationDocument } from "../federation/stamps.ts";
import { getAuthorization } from "../product/authorizations.ts";
import { UUID_PATTERN } from "../shared/ids.ts";
import { PATHS, route } from "../shared/urls.ts";
import type { WebDeps } from "./deps.ts";

/**
 * The boosts, likes and featurings we authorized, served at their ids to
 * anyone (they prove a consent to third parties; nothing in them is private):
 * 410 once revoked, so a server checking later learns the consent is gone.
 */
export function authorizationRoutes(app: Hono, { lectern }: WebDeps): void {
  app.get(route(PATHS.authorization), async (c) => {
    const id = c.req.param("id");
    const found = UUID_PATTERN.test(id) ? await getAuthorization(lectern.db, id) : undefined;
    if (found === undefined) return c.text("Not found", 404);
    const doc = await authorizationDocument(lectern.context(), found);
    if (doc === null) return c.text("This authorization was revoked", 410, { "Cache-Control": "no-cache" });
    return c.body(JSON.stringify(doc), 200, {
      "Content-Type": "application/activity+json",
      "Cache-Control": "no-cache",
      Vary: "Accept",
    });
  });
}
