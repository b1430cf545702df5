// Owns content digests of user files and directories (inputs, models, external outputs), with a stat
// shortcut (size + mtime + inode) so unchanged large files are not re-read on every plan.
import { closeSync, existsSync, openSync, readdirSync, readFileSync, readSync, statSync, type BigIntStats } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { sha256OfValue, type Sha256Hex } from '../util/sha256.js';
import { writeFileAtomic } from './atomic-write.js';

interface StatEntry {
  size: number;
  mtimeNs: string;
  ino: number;
  digest: Sha256Hex;
}

/** SHA-256 of a file's content, read 1 MiB at a time (a multi-GB model never sits in memory). */
export function hashFile(path: string): Sha256Hex {
  const hash = createHash('sha256');
  const buffer = Buffer.allocUnsafe(1 << 20);
  const fd = openSync(path, 'r');
  try {
    for (;;) {
      const n = readSync(fd, buffer, 0, buffer.length, null);
      if (n === 0) break;
      hash.update(buffer.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex') as Sha256Hex;
}

export class FileDigests {
  private entries: Record<string, StatEntry>;
  private dirty = false;

  constructor(private readonly cachePath: string) {
    try {
      this.entries = JSON.parse(readFileSync(cachePath, 'utf8')) as Record<string, StatEntry>;
    } catch {
      this.entries = {};
    }
  }

  /** Digest of a file, or of a directory tree (names and contents); undefined if the path does not exist. */
  digest(path: string): Sha256Hex | undefined {
    // One stat, in bigint form (nanosecond mtime); size and inode fit a number as the cache keeps them.
    let big: BigIntStats | undefined;
    try {
      big = statSync(path, { bigint: true, throwIfNoEntry: false });
    } catch {
      return undefined;
    }
    return big === undefined ? undefined : this.digestStated(path, big);
  }

  /** `digest` of a path the caller has just stat'ed in bigint form (one stat per path, not one per question). */
  digestStated(path: string, big: BigIntStats): Sha256Hex {
    const stats = { size: Number(big.size), ino: Number(big.ino) };
    if (big.isDirectory()) {
      const listing = readdirSync(path)
        .sort()
        .filter((name) => !name.startsWith('.tmp-'))
        .map((name) => [name, this.digest(join(path, name)) ?? null]);
      return sha256OfValue(listing);
    }
    const mtimeNs = big.mtimeNs.toString();
    const known = this.entries[path];
    if (known && known.size === stats.size && known.mtimeNs === mtimeNs && known.ino === stats.ino) return known.digest;
    const digest = hashFile(path);
    this.entries[path] = { size: stats.size, mtimeNs, ino: stats.ino, digest };
    this.dirty = true;
    return digest;
  }

  save(): void {
    if (!this.dirty) return;
    this.entries = Object.fromEntries(Object.entries(this.entries).filter(([path]) => existsSync(path)));
    writeFileAtomic(this.cachePath, JSON.stringify(this.entries));
    this.dirty = false;
  }
}
