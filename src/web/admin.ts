import type { Hono } from "hono";
import type { WebDeps } from "./deps.ts";
import { audienceRoutes } from "./desk/audience.ts";
import { deskSession } from "./desk/desk.ts";
import { draftRoutes } from "./desk/drafts.ts";
import { peopleRoutes } from "./desk/people.ts";
import { postRoutes } from "./desk/posts.ts";
import { profileRoutes } from "./desk/profile.ts";
import { securityRoutes } from "./desk/security.ts";
import { signInRoutes } from "./desk/signin.ts";
import { staffRoutes } from "./desk/staff.ts";

export { UPLOAD_ROUTES } from "./desk/desk.ts";

/** The author's desk under /admin: the session first, then each part by what it serves. */
export function adminRoutes(app: Hono, deps: WebDeps): void {
  const desk = deskSession(app, deps);
  signInRoutes(desk);
  securityRoutes(desk);
  staffRoutes(desk);
  postRoutes(desk);
  draftRoutes(desk);
  profileRoutes(desk);
  peopleRoutes(desk);
  audienceRoutes(desk);
}
