import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sql } from "../src/storage/sql.ts";
import { startTestLectern, type TestLectern, tempDir } from "./helpers/lectern.ts";

// What a load balancer asks: /livez (the process answers) and /readyz (it can serve), never cached.
describe("health endpoints", () => {
  let tmp: ReturnType<typeof tempDir>;
  let lectern: TestLectern;
  const get = (path: string, method = "GET") => fetch(new URL(path, lectern.origin), { method });

  beforeAll(async () => {
    tmp = tempDir();
    lectern = await startTestLectern(tmp.dir);
  });
  afterAll(async () => {
    await lectern?.stop();
    tmp?.remove();
  });

  it("answers live and ready, uncached, to GET and HEAD", async () => {
    for (const path of ["/livez", "/readyz"]) {
      for (const method of ["GET", "HEAD"]) {
        const res = await get(path, method);
        expect(res.status, `${method} ${path}`).toBe(200);
        expect(res.headers.get("cache-control")).toBe("no-store");
      }
    }
    expect(await (await get("/readyz")).text()).toBe("ready");
  });

  it("tells search engines to keep out of the desk, the sign-in and the API", async () => {
    const res = await get("/robots.txt");
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("User-agent: *\nDisallow: /admin\nDisallow: /oauth/\nDisallow: /api/\n");
  });

  it("stays ready on a database a newer version migrated while it ran (a rolling upgrade), and says so", async () => {
    const db = lectern.server.lectern.db;
    await db.run(
      sql`INSERT INTO __drizzle_migrations (hash, created_at) VALUES ('from-the-future', ${9_999_999_999_999})`,
    );
    try {
      const res = await get("/readyz");
      expect(res.status).toBe(200);
      expect(await res.text()).toBe(
        "ready\ndatabase: migrated by a newer version (1 migrations this code does not know); restart this process on the new version",
      );
      expect((await get("/livez")).status).toBe(200);
    } finally {
      await db.run(sql`DELETE FROM __drizzle_migrations WHERE hash = 'from-the-future'`);
    }
    expect((await get("/readyz")).status).toBe(200);
  });
});
