import type { Readable } from "node:stream";
import type { MediaStore } from "../storage/media-store.ts";

async function readAll(stream: Readable): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export interface MigrationReport {
  copied: number;
  /** Already in the target (an earlier, interrupted run): only removed from the source. */
  alreadyThere: number;
  /** Files whose bytes no longer match their name: left in the source, named here. */
  damaged: string[];
}

/**
 * Moves every media file from one store to another (disk to S3 or back):
 * each file is copied, checked in the target (its name is its hash, so the
 * copy must come back under the same name and size), and only then deleted
 * from the source. Interrupted, it can simply be run again; nothing is left
 * behind in the source but damaged files, which are reported.
 */
export async function migrateMedia(
  from: MediaStore,
  to: MediaStore,
  progress: (name: string, done: number) => void = () => {},
): Promise<MigrationReport> {
  const report: MigrationReport = { copied: 0, alreadyThere: 0, damaged: [] };
  let done = 0;
  for await (const name of from.list()) {
    const size = await from.size(name);
    if (size === null) continue;
    if ((await to.size(name)) === size) {
      report.alreadyThere++;
    } else {
      const bytes = await readAll(await from.read(name));
      const stored = await to.put(bytes, name.split(".")[1]);
      if (stored !== name || (await to.size(name)) !== size) {
        report.damaged.push(name);
        continue;
      }
      report.copied++;
    }
    await from.delete(name);
    progress(name, ++done);
  }
  return report;
}
