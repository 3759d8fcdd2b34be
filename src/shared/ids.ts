import { randomBytes } from "node:crypto";

/** The millisecond of the last id made here, and its 12-bit sequence (RFC 9562's `rand_a` as a counter). */
let lastMs = -1;
let sequence = 0;

/**
 * A UUIDv7 (RFC 9562): time-ordered, so ids sort by creation. Ids made in
 * one millisecond by this process sort in the order they were made too: the
 * 12 bits after the version count up from a random start (RFC 9562 §6.2,
 * method 1), so two posts published in one millisecond never swap places.
 */
export function uuidv7(now: number = Date.now()): string {
  const bytes = randomBytes(16);
  if (now === lastMs && sequence < 0xfff) sequence++;
  else {
    lastMs = now;
    // A random start in the lower half leaves room to count up.
    sequence = bytes.readUInt16BE(6) & 0x7ff;
  }
  bytes.writeUIntBE(now, 0, 6);
  bytes.writeUInt16BE(0x7000 | sequence, 6);
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = bytes.toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
