import { setPassword } from "../../src/product/access/staff.ts";
import type { TestLectern } from "./lectern.ts";

export const TEST_PASSWORD = "a long enough password";

/** Signs in to the desk over HTTP as the author would; returns the session cookie (`name=value`). */
export async function signIn(lectern: TestLectern, password = TEST_PASSWORD): Promise<string> {
  const origin = lectern.origin.origin;
  const attempt = () =>
    fetch(new URL("/admin/login", origin), {
      method: "POST",
      redirect: "manual",
      headers: { Origin: origin, "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ username: "owner", password }),
    });
  // The password is set only when it is not the owner's yet: a new one would end their sessions and app tokens.
  let res = await attempt();
  if (res.status === 401) {
    await setPassword(lectern.server.lectern.db, password, "owner");
    res = await attempt();
  }
  const cookie = (res.headers.get("set-cookie") ?? "").split(";")[0];
  if (!/^(__Host-)?lectern_session=/.test(cookie)) throw new Error(`sign-in failed: ${res.status}`);
  return cookie;
}
