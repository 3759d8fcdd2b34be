import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

const analyze = ["/usr/bin/systemd-analyze", "/bin/systemd-analyze"].find((p) => existsSync(p));
const UNITS = ["deploy/systemd/lectern-web.service", "deploy/systemd/lectern-worker.service"];

// The service files in deploy/: what systemd itself says of the units (where it is installed), and the
// roles, user and restart policy each one sets.
describe("service files", () => {
  it.runIf(analyze !== undefined)("pass systemd-analyze verify", () => {
    const out = execFileSync(analyze as string, ["verify", ...UNITS], { encoding: "utf8", stdio: "pipe" });
    expect(out).toBe("");
  });

  it("run each role as the lectern user, restarting on failure but not on a configuration error", () => {
    for (const [unit, role] of [
      [UNITS[0], "web"],
      [UNITS[1], "worker"],
    ]) {
      const text = readFileSync(unit, "utf8");
      expect(text).toContain(`Environment=LECTERN_ROLE=${role}`);
      expect(text).toMatch(/^User=lectern$/m);
      expect(text).toMatch(/^Restart=on-failure$/m);
      expect(text).toMatch(/^RestartPreventExitStatus=78$/m);
      expect(text).toMatch(/^ProtectSystem=strict$/m);
    }
    expect(readFileSync("deploy/Dockerfile", "utf8")).toMatch(/^USER lectern$/m);
  });
});
