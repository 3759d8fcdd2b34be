import type { Hono } from "hono";
import type { WebDeps } from "./deps.ts";
import { audienceRoutes } from "./desk/audience.tsx";
import { deskSession } from "./desk/desk.tsx";
import { draftRoutes } from "./desk/drafts.ts";
import { peopleRoutes } from "./desk/people.tsx";
import { postRoutes } from "./desk/posts.tsx";
import { profileRoutes } from "./desk/profile.tsx";
import { readerDeskRoutes } from "./desk/readers.tsx";
import { scheduledRoutes } from "./desk/scheduled.tsx";
import { securityRoutes } from "./desk/security.tsx";
import { serverDeskRoutes } from "./desk/server.tsx";
import { signInRoutes } from "./desk/signin.tsx";
import { staffRoutes } from "./desk/staff.tsx";

export { UPLOAD_ROUTES } from "./desk/desk.tsx";

/** The author's desk under /admin: the session first, then each part by what it serves. */
export function adminRoutes(app: Hono, deps: WebDeps): void {
  const desk = deskSession(app, deps);
  signInRoutes(desk);
  securityRoutes(desk);
  staffRoutes(desk);
  postRoutes(desk);
  scheduledRoutes(desk);
  draftRoutes(desk);
  profileRoutes(desk);
  peopleRoutes(desk);
  audienceRoutes(desk);
  readerDeskRoutes(desk);
  serverDeskRoutes(desk);
}
