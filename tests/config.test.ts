import { execFile } from "node:child_process";
import { writeFileSync } from "node:fs";
import { createServer } from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, inject, it } from "vitest";
import { ConfigError, loadConfig } from "../src/shared/config.ts";
import { openDatabase } from "../src/storage/open.ts";
import { PostgresDatabase } from "../src/storage/postgres.ts";
import { sql } from "../src/storage/sql.ts";
import { runCli } from "./helpers/cli.ts";
import { freePort, tempDir } from "./helpers/lectern.ts";

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
/** A TOML file with `text`, in a fresh directory; its path. */
function toml(text: string): string {
  const file = path.join(dir(), "lectern.toml");
  writeFileSync(file, text);
  return file;
}
function fileInTemp(): string {
  const file = path.join(dir(), "not-a-directory");
  writeFileSync(file, "");
  return file;
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
    expect(c.cache).toMatchObject({ maxAge: 0, sharedMaxAge: 300, purgeUrl: null, purgeStyle: "purge" });
    expect(c.media.store).toBe("disk");
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
    [{ LECTERN_MEDIA_STORE: "ftp" }, /LECTERN_MEDIA_STORE: must be "disk" or "s3"/],
    [{ LECTERN_MEDIA_STORE: "s3" }, /LECTERN_MEDIA_STORE: "s3" needs media\.s3\.bucket \(LECTERN_S3_BUCKET\)/],
    [{ LECTERN_S3_BUCKET: "Not_A_Bucket" }, /LECTERN_S3_BUCKET: must be an S3 bucket name/],
    [{ LECTERN_MEDIA_PUBLIC_URL: "media.example.org" }, /LECTERN_MEDIA_PUBLIC_URL: must be an http\(s\) URL/],
    [{ LECTERN_CACHE_PURGE_URL: "ftp://cache.local" }, /LECTERN_CACHE_PURGE_URL: must be an http\(s\) URL/],
    [
      { LECTERN_CACHE_PURGE_URL: "https://user:pw@api.cdn.example" },
      /LECTERN_CACHE_PURGE_URL: must not carry credentials/,
    ],
    [{ LECTERN_CACHE_PURGE_STYLE: "ban" }, /LECTERN_CACHE_PURGE_STYLE: must be "purge" or "json"/],
    [{ LECTERN_CACHE_SHARED_MAX_AGE: "-5" }, /LECTERN_CACHE_SHARED_MAX_AGE: must be from 0 to 31536000/],
    [{ LECTERN_WEB_PROCESSES: "0" }, /LECTERN_WEB_PROCESSES: must be from 1 to 64/],
    [
      { LECTERN_EMAIL_SMTP_URL: "https://user:hunter2@smtp.example" },
      /^LECTERN_EMAIL_SMTP_URL: must be an smtp:\/\/ or smtps:\/\/ URL such as smtp:\/\/127\.0\.0\.1:2525, got \(value not shown\)$/,
    ],
    [{ LECTERN_EMAIL_FROM: "news at example" }, /LECTERN_EMAIL_FROM: must be a mail address/],
    [{ LECTERN_EMAIL_FROM: "A <a@example.org>\r\nBcc: x@example.org" }, /LECTERN_EMAIL_FROM: must be a mail address/],
    [{ LECTERN_EMAIL_DKIM_SELECTOR: "lectern" }, /email\.dkim_selector and email\.dkim_key_file go together/],
    [
      { LECTERN_EMAIL_DKIM_SELECTOR: "lectern", LECTERN_EMAIL_DKIM_KEY_FILE: "missing.pem" },
      /LECTERN_EMAIL_DKIM_KEY_FILE: cannot read missing\.pem \(ENOENT\)/,
    ],
    [{ LECTERN_EMAIL_BATCH_MINUTES: "5.5" }, /LECTERN_EMAIL_BATCH_MINUTES: must be a whole number/],
    [{ LECTERN_EMAIL_BATCH_MINUTES: "2000" }, /LECTERN_EMAIL_BATCH_MINUTES: must be from 0 to 1440/],
    [
      { LECTERN_EMAIL_WEBHOOK_SECRET: "short" },
      /LECTERN_EMAIL_WEBHOOK_SECRET: must be at least 16 characters, got \(value not shown\)/,
    ],
    [{ LECTERN_PUSH_CONTACT: "ops@example.org" }, /LECTERN_PUSH_CONTACT: must be a mailto: address or an https URL/],
    [{ LECTERN_LIKES: "some" }, /LECTERN_LIKES: must be "counted" or "refused"/],
    [{ LECTERN_FEATURES: "friends" }, /LECTERN_FEATURES: must be "anyone", "followers" or "nobody"/],
    [{ LECTERN_ATTRIBUTION_DOMAINS: "author.example, not a domain" }, /LECTERN_ATTRIBUTION_DOMAINS: not a domain name/],
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

describe("a server that cannot start because of a setting", () => {
  const start = (env: Record<string, string>) =>
    new Promise<{ code: number | null; stderr: string; stdout: string }>((resolve) => {
      execFile(
        process.execPath,
        ["src/main.ts"],
        {
          cwd: ROOT,
          env: { PATH: process.env.PATH ?? "", LECTERN_LOG_LEVEL: "error", ...env },
          timeout: 30_000,
        },
        (error, stdout, stderr) => resolve({ code: error ? (error.code as number) : 0, stdout, stderr }),
      );
    });

  it.each([
    [
      "a refused PostgreSQL connection",
      () => ({ LECTERN_DATABASE_URL: "postgres://lectern:x@127.0.0.1:1/lectern" }),
      /LECTERN_DATABASE_URL: cannot use the database/,
    ],
    [
      "a database that does not exist",
      () => {
        const url = new URL(inject("postgresUrl"));
        url.pathname = "/no_such_database";
        return { LECTERN_DATABASE_URL: url.href };
      },
      /LECTERN_DATABASE_URL: cannot use the database: .*no_such_database/,
    ],
    ["a host that is not an address", () => ({ HOST: "999.1.1.1" }), /HOST: cannot listen on "999\.1\.1\.1"/],
    ["an unknown role", () => ({ LECTERN_ROLE: "both" }), /LECTERN_ROLE: must be one of all, web, worker/],
  ])("%s: exit 78, the key named, no stack trace", async (_, env, message) => {
    const r = await start({ LECTERN_DATA_DIR: dir(), PORT: String(await freePort()), ...env() });
    expect(r.code, r.stdout + r.stderr).toBe(78);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/^\s+at /m);
  });

  // What an operator gets wrong, each refused before anything starts: exit 78, the key named, no stack trace,
  // within 2 seconds (the configuration is read before the server's modules load).
  it.each([
    ["a port as a TOML string", () => ({ LECTERN_CONFIG: toml('port = "8080"\n') }), /: port: must be a whole number/],
    ["port 0", () => ({ PORT: "0" }), /PORT: must be a port number from 1 to 65535/],
    [
      "a port out of range in the database URL",
      () => ({ LECTERN_DATABASE_URL: "postgres://u:p@db.example:99999/x" }),
      /LECTERN_DATABASE_URL: must be a postgres:\/\/ URL/,
    ],
    [
      "a database URL naming no database",
      () => ({ LECTERN_DATABASE_URL: "postgres://u:p@db.example:5432/" }),
      /LECTERN_DATABASE_URL: must name one database/,
    ],
    ["a worker on the SQLite file", () => ({ LECTERN_ROLE: "worker" }), /LECTERN_ROLE: "worker" needs PostgreSQL/],
    ["a web process on the SQLite file", () => ({ LECTERN_ROLE: "web" }), /LECTERN_ROLE: "web" needs PostgreSQL/],
    [
      "an origin with a user and password",
      () => ({ LECTERN_ORIGIN: "https://user:secret@example.org" }),
      /LECTERN_ORIGIN: must not carry a user name or password/,
    ],
    ["an empty origin", () => ({ LECTERN_ORIGIN: "" }), /LECTERN_ORIGIN: is set but empty/],
    ["an empty origin in the file", () => ({ LECTERN_CONFIG: toml('origin = ""\n') }), /: origin: not a URL/],
    [
      "a data directory under /proc",
      () => ({ LECTERN_DATA_DIR: "/proc/lectern-data" }),
      /LECTERN_DATA_DIR: cannot write in \/proc\/lectern-data/,
    ],
    [
      "a data directory that is a file",
      () => ({ LECTERN_DATA_DIR: fileInTemp() }),
      /LECTERN_DATA_DIR: cannot write in/,
    ],
    [
      "allow_private_address=yes",
      () => ({ LECTERN_ALLOW_PRIVATE_ADDRESS: "yes" }),
      /LECTERN_ALLOW_PRIVATE_ADDRESS: must be true or false/,
    ],
    ["an empty language", () => ({ LECTERN_LANGUAGE: "" }), /LECTERN_LANGUAGE: is set but empty/],
    ["a directory as the configuration file", () => ({ LECTERN_CONFIG: "/etc" }), /LECTERN_CONFIG: not a file: \/etc/],
    [
      "a misspelt variable",
      () => ({ LECTERN_DATABSE_URL: "postgres://u@db.example/x" }),
      /LECTERN_DATABSE_URL: not a setting Lectern knows/,
    ],
  ])("%s: exit 78 within 2 s, the key named, no stack trace", async (_, env, message) => {
    const t = Date.now();
    const r = await start({ LECTERN_DATA_DIR: dir(), ...env() });
    const ms = Date.now() - t;
    expect(r.code, r.stdout + r.stderr).toBe(78);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/^\s+at /m);
    expect(ms).toBeLessThan(2000);
  });

  it("a database a newer version migrated: exit 78, the database named, and which schema it has", async () => {
    const data = dir();
    const db = await openDatabase({ databaseUrl: null, databasePath: path.join(data, "lectern.sqlite") });
    await db.run(sql`INSERT INTO __drizzle_migrations (hash, created_at) VALUES ('newer', ${4_102_444_800_000})`);
    await db.close();
    const r = await start({ LECTERN_DATA_DIR: data, PORT: String(await freePort()) });
    expect(r.code, r.stdout + r.stderr).toBe(78);
    expect(r.stderr).toMatch(
      /LECTERN_DATA_DIR \(.*lectern\.sqlite\): this database was migrated by a newer version of Lectern \(its schema is from 2100-01-01T00:00:00\.000Z/,
    );
    expect(r.stderr).not.toMatch(/^\s+at /m);
  });

  it("reaches PostgreSQL on an IPv6 address written in brackets", async () => {
    // A listener on ::1 that sees the driver's first bytes: PostgreSQL's startup message (length, then version 3.0).
    const first = new Promise<Buffer>((resolve, reject) => {
      const server = createServer((socket) => {
        socket.once("data", (d: Buffer) => {
          resolve(d);
          socket.destroy();
          server.close();
        });
      });
      server.on("error", reject);
      server.listen(0, "::1", async () => {
        const { port } = server.address() as { port: number };
        db = new PostgresDatabase(`postgres://u:p@[::1]:${port}/x`);
        db.get(sql`SELECT 1`).catch(() => {});
      });
    });
    let db: InstanceType<typeof PostgresDatabase> | undefined;
    const bytes = await Promise.race([
      first,
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error("no connection on [::1] in 10 s")), 10_000)),
    ]);
    void db?.close().catch(() => {});
    expect(bytes.readUInt32BE(4)).toBe(196608); // protocol 3.0
    expect(bytes.toString("latin1")).toContain("user\u0000u\u0000");
  });

  it("a port in use: exit 78, PORT named", async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    const { port } = blocker.address() as { port: number };
    try {
      const r = await start({ LECTERN_DATA_DIR: dir(), PORT: String(port) });
      expect(r.code).toBe(78);
      expect(r.stderr).toMatch(new RegExp(`PORT: ${port} is already in use`));
    } finally {
      blocker.close();
    }
  });
});
