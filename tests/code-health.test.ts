import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { type PgTable, getTableConfig as pgTable } from "drizzle-orm/pg-core";
import { type SQLiteTable, getTableConfig as sqliteTable } from "drizzle-orm/sqlite-core";
import { describe, expect, it } from "vitest";
import { INBOUND_TYPES } from "../src/federation/inbound.ts";
import { LISTENERS } from "../src/federation/inbox.ts";
import { TRIAGED_TYPES } from "../src/federation/triage.ts";
import { PATHS, route, Urls } from "../src/shared/urls.ts";
import * as pg from "../src/storage/schema/postgres.ts";
import * as lite from "../src/storage/schema/sqlite.ts";

const SRC = fileURLToPath(new URL("../src", import.meta.url));

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return files(full);
    return /\.tsx?$/.test(full) ? [full] : [];
  });
}

describe("the two database schemas", () => {
  // Built from one definition (storage/schema/tables.ts), they must still come out alike: columns, their
  // nullability, defaults and primary keys, and every index with its columns, uniqueness and condition.
  // (An integer primary key has a default of its own on SQLite, the rowid: not a difference.)
  type Shape = { name: string; columns: { name: string; notNull: boolean; primary: boolean; hasDefault: boolean }[] };
  type IndexShape = { config: { name: string; unique: boolean; where?: unknown; columns: { name?: string }[] } };
  const shape = (t: Shape & { indexes: IndexShape[] }) => ({
    table: t.name,
    columns: t.columns
      .map(
        (c) =>
          `${c.name}${c.notNull ? " not null" : ""}${c.primary ? " primary key" : ""}${c.hasDefault && !c.primary ? " default" : ""}`,
      )
      .sort(),
    indexes: t.indexes
      .map(
        (i) =>
          `${i.config.unique ? "unique " : ""}${i.config.name} (${i.config.columns.map((c) => c.name).join(", ")})${i.config.where ? " where" : ""}`,
      )
      .sort(),
  });
  const tablesOf = (module: Record<string, unknown>) =>
    Object.values(module).filter((v) => typeof v === "object" && v !== null && Symbol.for("drizzle:Name") in v);

  it("have the same tables, columns, keys, defaults and indexes", () => {
    const sqliteTables = tablesOf(lite)
      .map((t) => shape(sqliteTable(t as SQLiteTable) as never))
      .sort((a, b) => a.table.localeCompare(b.table));
    const pgTables = tablesOf(pg)
      .map((t) => shape(pgTable(t as PgTable) as never))
      .sort((a, b) => a.table.localeCompare(b.table));
    expect(sqliteTables.length).toBeGreaterThan(20);
    expect(sqliteTables.flatMap((t) => t.indexes).length).toBeGreaterThan(25);
    expect(pgTables).toEqual(sqliteTables);
  });
});

describe("the inbox's types", () => {
  it("are listened for and triaged alike: each type the inbox acts on has a listener and a triage rule", () => {
    expect([...Object.keys(LISTENERS)].sort()).toEqual([...INBOUND_TYPES].sort());
    expect([...TRIAGED_TYPES].sort()).toEqual([...INBOUND_TYPES].sort());
    // Each listener's class is the type it is filed under (ActivityStreams' or GoToSocial's name).
    for (const [type, [cls]] of Object.entries(LISTENERS))
      expect((cls as unknown as { typeId: URL }).typeId.href).toMatch(new RegExp(`[#/]${type}$`));
  });
});

describe("the source tree", () => {
  const sources = files(SRC);
  const folderOf = (file: string) => path.relative(SRC, file).split(path.sep)[0];
  const imports = (file: string) =>
    [...readFileSync(file, "utf8").matchAll(/^import[^"']*["'](\.[^"']+)["']/gm)].map((m) =>
      path.resolve(path.dirname(file), m[1]),
    );

  it("keeps SQL out of the web routes (they call product/)", () => {
    const withSql = sources.filter((f) => folderOf(f) === "web" && /\bsql`/.test(readFileSync(f, "utf8")));
    expect(withSql.map((f) => path.relative(SRC, f))).toEqual([]);
  });

  it("has no import cycle between its files, type-only imports and re-exports included", () => {
    const edges = new Map(
      sources.map((f) => [
        f,
        [...readFileSync(f, "utf8").matchAll(/^(?:import|export)[^"';]*from\s*["'](\.[^"']+)["']/gm)].map((m) =>
          path.resolve(path.dirname(f), m[1]),
        ),
      ]),
    );
    const cycles: string[] = [];
    const state = new Map<string, "open" | "done">();
    const walk = (file: string, trail: string[]) => {
      if (state.get(file) === "done") return;
      if (state.get(file) === "open") {
        cycles.push([...trail.slice(trail.indexOf(file)), file].map((f) => path.relative(SRC, f)).join(" → "));
        return;
      }
      state.set(file, "open");
      for (const next of edges.get(file) ?? []) walk(next, [...trail, file]);
      state.set(file, "done");
    };
    for (const f of sources) walk(f, []);
    expect(cycles).toEqual([]);
  });

  it("has no import cycle between its folders", () => {
    const edges = new Map<string, Set<string>>();
    for (const file of sources) {
      const from = folderOf(file);
      for (const target of imports(file)) {
        const to = folderOf(target);
        if (to === from || !to || /\.tsx?$/.test(to)) continue;
        if (!edges.has(from)) edges.set(from, new Set());
        edges.get(from)?.add(to);
      }
    }
    const cycles: string[] = [];
    for (const [a, targets] of edges)
      for (const b of targets) if (edges.get(b)?.has(a) && a < b) cycles.push(`${a} ↔ ${b}`);
    expect(cycles).toEqual([]);
  });

  it("has no dead code: every exported function, class or constant is used somewhere (src, tests or bench)", () => {
    const everywhere = [
      ...sources,
      ...files(fileURLToPath(new URL(".", import.meta.url))),
      ...files(fileURLToPath(new URL("../bench", import.meta.url))),
    ].map((f) => [f, readFileSync(f, "utf8")] as const);
    const dead: string[] = [];
    for (const file of sources) {
      if (file.includes(`${path.sep}schema${path.sep}`)) continue; // read by drizzle-kit
      const text = readFileSync(file, "utf8");
      for (const m of text.matchAll(/^export (?:async )?(?:function|class|const|let) (\w+)/gm)) {
        const name = m[1];
        const use = new RegExp(`\\b${name}\\b`, "g");
        const uses = everywhere.reduce((n, [, t]) => n + (t.match(use)?.length ?? 0), 0);
        if (uses <= 1) dead.push(`${path.relative(SRC, file)}: ${name}`);
      }
    }
    expect(dead).toEqual([]);
  });

  it("keeps every file under 400 lines (one sitting's reading)", () => {
    const long = sources
      .map((f) => [path.relative(SRC, f), readFileSync(f, "utf8").split("\n").length] as const)
      .filter(([, lines]) => lines > 400);
    expect(long).toEqual([]);
  });

  it("runs without drizzle-orm (a root import alone costs 130 MB): only the schemas, for drizzle-kit, use it", () => {
    const users = sources
      .filter((f) => /from "drizzle-orm/.test(readFileSync(f, "utf8")))
      .map((f) => path.relative(SRC, f));
    expect(users.sort()).toEqual(["storage/schema/postgres.ts", "storage/schema/sqlite.ts"]);
  });
});

describe("URLs and ids", () => {
  const urls = new Urls(new URL("https://example.org"), "desk");
  const post = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";

  it.each([
    ["actor", urls.actor(), "https://example.org/users/desk"],
    ["key id", urls.keyId(), "https://example.org/users/desk#main-key"],
    ["inbox", urls.inbox(), "https://example.org/users/desk/inbox"],
    ["shared inbox", urls.sharedInbox(), "https://example.org/inbox"],
    ["followers", urls.followers(), "https://example.org/users/desk/followers"],
    ["desk", urls.desk(), "https://example.org/@desk"],
    ["post", urls.post(post), `https://example.org/posts/${post}`],
    ["post's Create", urls.postCreate(post), `https://example.org/posts/${post}/activity`],
    ["post's Update", urls.postUpdate(post, 42), `https://example.org/posts/${post}#updates/42`],
    ["post's Delete", urls.postDelete(post), `https://example.org/posts/${post}#delete`],
    ["replies", urls.replies(post), `https://example.org/posts/${post}/replies`],
    ["tag, lower-cased once", urls.tag("Fediverse"), "https://example.org/tags/fediverse"],
    ["tag, encoded", urls.tag("Café"), "https://example.org/tags/caf%C3%A9"],
    ["media", urls.media("ab.jpg"), "https://example.org/media/ab.jpg"],
    ["tag's RSS", urls.tagFeed("Café", "rss"), "https://example.org/tags/caf%C3%A9/feed.rss"],
    ["tag's Atom", urls.tagFeed("News", "atom"), "https://example.org/tags/news/feed.atom"],
    ["RSS", urls.feed("rss"), "https://example.org/feed.rss"],
    ["Atom", urls.feed("atom"), "https://example.org/feed.atom"],
    ["stamp", urls.stamp(post), `https://example.org/stamps/${post}`],
    ["an Accept", urls.activity("accepts", "x1"), "https://example.org/users/desk#accepts/x1"],
  ])("makes the %s URL", (_, made, expected) => {
    expect(made.href).toBe(expected);
  });

  it("gives the web routes the same paths, as Hono writes them", () => {
    expect(route(PATHS.post)).toBe("/posts/:id");
    expect(route(PATHS.replies)).toBe("/posts/:id/replies");
    expect(route(PATHS.tagRss)).toBe("/tags/:tag/feed.rss");
    expect(route(PATHS.actor)).toBe("/users/:identifier");
    expect(route(PATHS.feedAtom)).toBe("/feed.atom");
  });

  it("makes the handle and parses back what it makes", () => {
    expect(urls.acct()).toBe("@desk@example.org");
    expect(urls.parsePost(urls.post(post))).toBe(post);
    expect(urls.parsePost(urls.postCreate(post))).toBeNull();
    expect(urls.parsePost(`https://evil.example/posts/${post}`)).toBeNull();
    expect(urls.parsePost(`${urls.post(post).href}?x=1`)).toBeNull();
    expect(urls.parsePost("not a url")).toBeNull();
    expect(urls.isUnderPosts(urls.replies(post).href)).toBe(true);
    expect(urls.isUnderPosts("https://example.org/users/desk")).toBe(false);
    expect(urls.inboxPaths()).toEqual(["/inbox", "/users/desk/inbox"]);
  });
});
