/**
 * The delivery partition of a server's host: FNV-1a, reduced to `n`
 * partitions. SQLite calls it as `lectern_partition(host, n)`; PostgreSQL has
 * its own function of the same name (a migration), so each database only has
 * to agree with itself.
 */
export function partitionOf(host: string, n: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < host.length; i++) {
    h ^= host.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % n;
}
