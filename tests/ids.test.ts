import { describe, expect, it } from "vitest";
import { UUID_PATTERN, uuidv7 } from "../src/shared/ids.ts";

// Posts are ordered by (published_at, id): ids made in one millisecond must keep the order they were made in.
describe("UUIDv7 ids", () => {
  it("sort in the order they were made, also many in one millisecond, and carry version 7 and the variant", () => {
    const at = Date.parse("2026-12-06T12:00:00Z");
    const ids = Array.from({ length: 1500 }, () => uuidv7(at));
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) {
      expect(id).toMatch(UUID_PATTERN);
      expect(id[14]).toBe("7");
      expect("89ab").toContain(id[19]);
      expect(Number.parseInt(id.replace(/-/g, "").slice(0, 12), 16)).toBe(at);
    }
    // A later millisecond sorts after, whatever its random start.
    expect(uuidv7(at + 1) > ids[ids.length - 1]).toBe(true);
  });
});
