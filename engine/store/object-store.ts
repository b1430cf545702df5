// Owns the content-addressed object store under <state>/objects: blobs named by their SHA-256,
// written atomically, verified on every read. A blob whose bytes do not match its name is corrupt:
// it is deleted and reported, never returned.
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fail, ok, type Result } from '../util/result.js';
import { sha256, type Sha256Hex } from '../util/sha256.js';
import { writeFileAtomic, writeFileAtomicAsync } from './atomic-write.js';
import { describeObjectProblem, type ObjectProblem } from './object-problem.js';

export class CorruptObjectError extends Error {
  constructor(readonly digest: Sha256Hex) {
    super(describeObjectProblem({ kind: 'object-corrupt', digest }));
  }
}

export class MissingObjectError extends Error {
  constructor(readonly digest: Sha256Hex) {
    super(describeObjectProblem({ kind: 'object-missing', digest }));
  }
}

export class ObjectStore {
  constructor(readonly root: string) {}

  pathOf(digest: Sha256Hex): string {
    return join(this.root, digest.slice(0, 2), digest.slice(2));
  }

  has(digest: Sha256Hex): boolean {
    return existsSync(this.pathOf(digest));
  }

  put(data: Uint8Array | string): Sha256Hex {
    const digest = sha256(data);
    const path = this.pathOf(digest);
    if (existsSync(path) && sha256(readFileSync(path)) === digest) return digest;
    writeFileAtomic(path, data);
    return digest;
  }

  /** `put` with the write and its fsyncs on the thread pool: the object exists, durable, when it resolves. */
  async putAsync(data: Uint8Array | string): Promise<Sha256Hex> {
    const digest = sha256(data);
    const path = this.pathOf(digest);
    if (existsSync(path) && sha256(readFileSync(path)) === digest) return digest;
    await writeFileAtomicAsync(path, data);
    return digest;
  }

  /** The verified bytes of an object, or why there are none. Only reads: a corrupt object stays. */
  read(digest: Sha256Hex): Result<Buffer, ObjectProblem> {
    let bytes: Buffer;
    try {
      bytes = readFileSync(this.pathOf(digest));
    } catch {
      return fail({ kind: 'object-missing', digest });
    }
    return sha256(bytes) === digest ? ok(bytes) : fail({ kind: 'object-corrupt', digest });
  }

  /** The verified bytes of an object a step needs; a corrupt one is deleted (so it is recomputed) and thrown. */
  get(digest: Sha256Hex): Buffer {
    const read = this.read(digest);
    if (read.ok) return read.value;
    if (read.error.kind === 'object-missing') throw new MissingObjectError(digest);
    this.remove(digest);
    throw new CorruptObjectError(digest);
  }

  getJson<T>(digest: Sha256Hex): T {
    return JSON.parse(this.get(digest).toString('utf8')) as T;
  }

  putJson(value: unknown): Sha256Hex {
    return this.put(JSON.stringify(value));
  }

  /** Every object with its size; temporary files from interrupted writes are listed separately. */
  list(): { objects: { digest: Sha256Hex; size: number }[]; temporaries: string[] } {
    const objects: { digest: Sha256Hex; size: number }[] = [];
    const temporaries: string[] = [];
    if (!existsSync(this.root)) return { objects, temporaries };
    for (const prefix of readdirSync(this.root)) {
      for (const name of readdirSync(join(this.root, prefix))) {
        const path = join(this.root, prefix, name);
        if (name.startsWith('.tmp-')) temporaries.push(path);
        else objects.push({ digest: (prefix + name) as Sha256Hex, size: statSync(path).size });
      }
    }
    return { objects, temporaries };
  }

  remove(digest: Sha256Hex): void {
    rmSync(this.pathOf(digest), { force: true });
  }
}
