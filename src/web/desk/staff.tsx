import type { Context } from "hono";
import { audit, listAudit } from "../../product/access/audit.ts";
import { InvalidPasswordError } from "../../product/access/auth.ts";
import {
  createStaff,
  endSignIns,
  getStaff,
  listStaff,
  type Role,
  removeStaff,
  requireSecondFactor,
  StaffError,
  secondFactorRequired,
  setRole,
} from "../../product/access/staff.ts";
import { approvalRequired, requireApproval } from "../../product/approval.ts";
import { AuditPage, StaffPage, type StaffView } from "../views/staff.tsx";
import type { Desk, DeskEnv } from "./desk.tsx";

const AUDIT_PAGE = 50;

/** The owner's pages: staff accounts and roles, the second-factor rule, the audit log. */
export function staffRoutes(desk: Desk): void {
  const { admin, deps, render, notice } = desk;
  const { lectern, now } = deps;
  const { db } = lectern;

  const view = async (c: Context<DeskEnv>, extra: Partial<StaffView> = {}, status = 200) => {
    const session = c.get("session");
    return render(
      c,
      "Staff",
      <StaffPage
        csrf={session.csrfToken}
        staff={await listStaff(db)}
        me={session.staffId}
        required={await secondFactorRequired(db)}
        approval={await approvalRequired(db)}
        notice={notice(c)}
        {...extra}
      />,
      session,
      status,
    );
  };
  const fields = async (c: Context<DeskEnv>) => {
    const f = await c.req.parseBody();
    return (k: string) => (typeof f[k] === "string" ? (f[k] as string) : "");
  };
  /** Staff rules broken (a taken name, the last owner): the page again with the reason. */
  const refused = (c: Context<DeskEnv>, e: unknown) => {
    if (e instanceof StaffError || e instanceof InvalidPasswordError) return view(c, { error: e.message }, 422);
    throw e;
  };

  admin.get("/staff", (c) => view(c));

  admin.post("/staff", async (c) => {
    const get = await fields(c);
    try {
      const role = get("role") as Role;
      const { staff, password } = await createStaff(db, { username: get("username"), role }, now());
      await audit(db, desk.actor(c), "staff-add", `${staff.username} (${staff.role})`, now());
      return view(c, { created: { username: staff.username, password }, notice: "Staff account added." });
    } catch (e) {
      return refused(c, e);
    }
  });

  admin.post("/staff/role", async (c) => {
    const get = await fields(c);
    const id = Number(get("id"));
    const target = Number.isSafeInteger(id) ? await getStaff(db, id) : undefined;
    if (target === undefined) return c.notFound();
    try {
      await setRole(db, id, get("role") as Role);
    } catch (e) {
      return refused(c, e);
    }
    await audit(db, desk.actor(c), "staff-role", `${target.username}: ${get("role")}`, now());
    return c.redirect("/admin/staff?notice=staff-changed", 303);
  });

  admin.post("/staff/remove", async (c) => {
    const get = await fields(c);
    const id = Number(get("id"));
    if (!Number.isSafeInteger(id) || id === c.get("session").staffId) return c.redirect("/admin/staff", 303);
    try {
      const removed = await removeStaff(db, id);
      await audit(db, desk.actor(c), "staff-remove", removed.username, now());
    } catch (e) {
      return refused(c, e);
    }
    return c.redirect("/admin/staff?notice=staff-removed", 303);
  });

  // Ends every desk session and app token of a person (a lost laptop, a phone left signed in).
  admin.post("/staff/sign-out", async (c) => {
    const get = await fields(c);
    const id = Number(get("id"));
    const target = Number.isSafeInteger(id) ? await getStaff(db, id) : undefined;
    if (target === undefined) return c.notFound();
    await endSignIns(db, id);
    await audit(db, desk.actor(c), "staff-sign-out", target.username, now());
    if (id === c.get("session").staffId) return c.redirect("/admin/login", 303);
    return c.redirect("/admin/staff?notice=signed-out", 303);
  });

  admin.post("/staff/approval", async (c) => {
    const on = (await fields(c))("required") === "1";
    await requireApproval(db, on);
    await audit(db, desk.actor(c), "approval-rule", on ? "on" : "off", now());
    return c.redirect("/admin/staff?notice=staff-changed", 303);
  });

  admin.post("/staff/require-second-factor", async (c) => {
    const get = await fields(c);
    const on = get("required") === "1";
    await requireSecondFactor(db, on);
    await audit(db, desk.actor(c), "require-second-factor", on ? "on" : "off", now());
    return c.redirect("/admin/staff?notice=staff-changed", 303);
  });

  admin.get("/audit", async (c) => {
    const before = c.req.query("before");
    const page = await listAudit(db, AUDIT_PAGE, before && /^\d{1,15}$/.test(before) ? Number(before) : null);
    return render(
      c,
      "Audit log",
      <AuditPage entries={page.items} next={page.next === null ? null : `/admin/audit?before=${page.next}`} />,
      c.get("session"),
    );
  });
}
