import { writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../src/config.ts";
import { runCli } from "./helpers/cli.ts";
import { tempDir } from "./helpers/lectern.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const dirs: ReturnType<typeof tempDir>[] = [];
afterEach(() => {
  while (dirs.length) dirs.pop()?.remove();
});
function dir(): string {
  const d = tempDir();
  dirs.push(d);
  return d.dir;
}

describe("configuration", () => {
  it("has embedded defaults: SQLite under data/, a local port, @desk", () => {
    const cwd = dir();
    const c = loadConfig({ env: {}, cwd });
    expect(c.handle).toBe("desk");
    expect(c.port).toBe(8080);
    expect(c.host).toBe("127.0.0.1");
    expect(c.origin.href).toBe("http://localhost:8080/");
    expect(c.databasePath).toBe(path.join(cwd, "data", "lectern.sqlite"));
    expect(c.allowPrivateAddress).toBe(false);
    expect(c.delivery.maxAttempts).toBe(16);
  });

  it("reads a TOML file, and environment variables override it", () => {
    const cwd = dir();
    writeFileSync(
      path.join(cwd, "my.toml"),
      'handle = "news"\nport = 9000\n[profile]\nname = "News Desk"\ntype = "Service"\n',
    );
    const c = loadConfig({
      env: { LECTERN_CONFIG: "my.toml", PORT: "9100", LECTERN_ORIGIN: "https://news.example/" },
      cwd,
    });
    expect(c.handle).toBe("news");
    expect(c.port).toBe(9100);
    expect(c.profile).toEqual({ name: "News Desk", summary: "", type: "Service" });
    expect(c.origin.origin).toBe("https://news.example");
  });

  it("accepts the documented example file", () => {
    const c = loadConfig({ env: { LECTERN_CONFIG: path.join(ROOT, "config/lectern.example.toml") }, cwd: dir() });
    expect(c.origin.origin).toBe("https://example.org");
    expect(c.delivery.retryMaxMs).toBe(21600 * 1000);
  });

  it.each([
    [{ LECTERN_HANDLE: "a b" }, /LECTERN_HANDLE: must be 1 to 30 letters/],
    [{ PORT: "eighty" }, /PORT: must be a whole number, got "eighty"/],
    [{ PORT: "70000" }, /PORT: must be a port number/],
    [{ LECTERN_ORIGIN: "example.org" }, /LECTERN_ORIGIN: not a URL/],
    [{ LECTERN_ORIGIN: "https://example.org/desk" }, /LECTERN_ORIGIN: must be a bare origin/],
    [{ LECTERN_ALLOW_PRIVATE_ADDRESS: "maybe" }, /LECTERN_ALLOW_PRIVATE_ADDRESS: must be true or false/],
    [{ LECTERN_ACTOR_TYPE: "Group" }, /LECTERN_ACTOR_TYPE: must be "Person" or "Service"/],
    [{ LECTERN_CONFIG: "missing.toml" }, /LECTERN_CONFIG: no such file/],
  ])("refuses %o naming the key", (env, message) => {
    expect(() => loadConfig({ env, cwd: dir() })).toThrow(ConfigError);
    expect(() => loadConfig({ env, cwd: dir() })).toThrow(message);
  });

  it("names the file and key of a bad or unknown file entry", () => {
    const cwd = dir();
    writeFileSync(path.join(cwd, "a.toml"), '[delivery]\nmax_attempts = "many"\n');
    expect(() => loadConfig({ env: { LECTERN_CONFIG: "a.toml" }, cwd })).toThrow(
      /a\.toml: delivery\.max_attempts: must be a whole number/,
    );
    writeFileSync(path.join(cwd, "b.toml"), 'hanlde = "x"\n');
    expect(() => loadConfig({ env: { LECTERN_CONFIG: "b.toml" }, cwd })).toThrow(/b\.toml: unknown key "hanlde"/);
    writeFileSync(path.join(cwd, "c.toml"), "handle = \n");
    expect(() => loadConfig({ env: { LECTERN_CONFIG: "c.toml" }, cwd })).toThrow(/c\.toml: not valid TOML/);
  });

  it("stops the CLI with the message and a non-zero exit", async () => {
    const r = await runCli(["post", "--text", "hi"], { LECTERN_DATA_DIR: dir(), LECTERN_HANDLE: "no spaces please" });
    expect(r.code).toBe(78);
    expect(r.stderr).toMatch(/configuration error: LECTERN_HANDLE: must be 1 to 30 letters/);
  });
});
