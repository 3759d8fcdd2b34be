import { setPassword } from "../../src/product/staff.ts";
import type { TestLectern } from "./lectern.ts";

export const TEST_PASSWORD = "a long enough password";

/** Signs in to the desk over HTTP as the author would; returns the session cookie (`name=value`). */
export async function signIn(lectern: TestLectern, password = TEST_PASSWORD): Promise<string> {
  await setPassword(lectern.server.lectern.db, password);
  const origin = lectern.origin.origin;
  const res = await fetch(new URL("/admin/login", origin), {
    method: "POST",
    redirect: "manual",
    headers: { Origin: origin, "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ username: "owner", password }),
  });
  const cookie = (res.headers.get("set-cookie") ?? "").split(";")[0];
  if (!/^(__Host-)?lectern_session=/.test(cookie)) throw new Error(`sign-in failed: ${res.status}`);
  return cookie;
}
