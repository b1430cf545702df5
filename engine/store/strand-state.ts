// Owns a state directory as a whole: step records and "latest" pointers beside the object store and
// file digests. It answers the planner's questions (PlanFacts) from disk.
import { readFileSync, readdirSync, rmSync, existsSync, statSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import type { InputPathFacts, PlanFacts } from '../plan/decide-step.js';
import type { InputFile } from '../plan/diff-input-files.js';
import type { Fingerprint } from '../plan/fingerprint.js';
import type { ArtifactManifest, StepRecord } from '../plan/step-record.js';
import { isGcsUri, type ObjectSnapshot } from '../data/object-snapshot.js';
import { onnxModelFiles } from '../onnx/onnx-model-files.js';
import { globFiles, hasGlob } from '../util/glob-files.js';
import { ok, type Result } from '../util/result.js';
import { sha256OfValue, type Sha256Hex } from '../util/sha256.js';
import { writeFileAtomic } from './atomic-write.js';
import { FileDigests } from './file-digests.js';
import type { ObjectProblem } from './object-problem.js';
import { ObjectStore } from './object-store.js';
import { stateLayout, type StateLayout } from './state-dir.js';

/** A name that is one path segment as it is: no separator, not `.` or `..`. */
const SEGMENT = /^(?!\.\.?$)[^/\\]+$/;

/**
 * `join(dir, name)`, without join's normalizing where `dir` is a normalized folder and `name` one segment: the
 * same path, and a plan asks for 100,000s (join's string also costs existsSync more to read).
 */
function child(dir: string, name: string): string {
  return SEGMENT.test(name) && !dir.endsWith(sep) ? dir + sep + name : join(dir, name);
}

function readJson<T>(path: string): T | undefined {
  // Most steps of a big plan never ran: asking first costs a stat, not a thrown error per step.
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

export class StrandState implements PlanFacts {
  readonly layout: StateLayout;
  readonly objects: ObjectStore;
  readonly files: FileDigests;
  /**
   * What the run knows of its gs:// paths: the listing loading made (CheckedWorkflow.listing), given by the
   * command that plans or runs; undefined when the workflow names none.
   */
  listing: ObjectSnapshot | undefined = undefined;

  constructor(
    root: string,
    readonly workdir: string,
  ) {
    this.layout = stateLayout(root);
    this.objects = new ObjectStore(this.layout.objects);
    this.files = new FileDigests(this.layout.fileDigests);
  }

  record(key: Sha256Hex): StepRecord | undefined {
    const record = readJson<StepRecord>(child(this.layout.steps, `${key}.json`));
    return record?.key === key ? record : undefined;
  }

  previous(workflow: string, step: string): Fingerprint | undefined {
    return readJson<Fingerprint>(child(child(this.layout.latest, workflow), `${step}.json`));
  }

  inputPath(path: string): InputPathFacts {
    if (isGcsUri(path)) {
      const digest = this.remoteDigest(path);
      const versions = this.listing!.versions(path)!;
      return { digest, files: () => versions.map((v) => ({ name: `gs://${v.bucket}/${v.name}`, generation: v.generation })) };
    }
    if (!hasGlob(path)) {
      // One stat tells a file from a folder (a model folder, x-strand-format: model, is digested whole:
      // names and contents) and gives the file's size and mtime for the digest cache.
      const absolute = resolve(this.workdir, path);
      const stats = statSync(absolute, { bigint: true, throwIfNoEntry: false });
      if (stats?.isDirectory() === true)
        return { digest: this.files.digestStated(absolute, stats), files: () => this.folderFiles(absolute) };
      return { digest: stats?.isFile() === true ? this.files.digestStated(absolute, stats) : undefined, files: () => undefined };
    }
    const matches = globFiles(path, this.workdir);
    const digests = matches.map((m) => this.files.digest(m));
    return {
      digest: matches.length === 0 ? undefined : sha256OfValue(matches.map((m, i) => [relative(this.workdir, m), digests[i] ?? null])),
      files: () => matches.map((m, i) => this.inputFile(m, digests[i])),
    };
  }

  /** A folder's files as its digest counts them: every file below it, less temporaries being written. */
  private folderFiles(folder: string): InputFile[] {
    return globFiles(join(folder, '**'), this.workdir)
      .filter(
        (m) =>
          !relative(folder, m)
            .split(sep)
            .some((n) => n.startsWith('.tmp-')),
      )
      .map((m) => this.inputFile(m, this.files.digest(m)));
  }

  private inputFile(path: string, digest: Sha256Hex | undefined): InputFile {
    const name = relative(this.workdir, path).split(sep).join('/');
    return digest === undefined ? { name } : { name, digest };
  }

  externalDataDigests(path: string): Record<string, Sha256Hex> {
    const listed = onnxModelFiles(resolve(this.workdir, path));
    if ('error' in listed) return {}; // not decodable as ONNX: the step reports it when it loads the model
    const digests: Record<string, Sha256Hex> = {};
    for (const file of listed.files) {
      const digest = this.files.digest(file.path);
      if (digest !== undefined) digests[file.location] = digest;
    }
    return digests; // missing or short files are validation errors (located at the step's model line)
  }

  outputDigest(path: string): Sha256Hex | undefined {
    if (isGcsUri(path)) return this.remoteDigest(path);
    return this.files.digest(resolve(this.workdir, path));
  }

  private remoteDigest(uri: string): Sha256Hex | undefined {
    // Planning a gs:// path that was never listed would key the step without its data: a bug.
    if (this.listing?.versions(uri) === undefined) throw new Error(`bug: ${uri} was planned before it was listed`);
    return this.listing.digest(uri);
  }

  /** Makes a step cached: its record appears, complete, under its key. Call only once outputs are durable. */
  commitRecord(record: StepRecord): void {
    writeFileAtomic(join(this.layout.steps, `${record.key}.json`), JSON.stringify(record, null, 2));
    writeFileAtomic(join(this.layout.latest, record.workflow, `${record.step}.json`), JSON.stringify(record.fingerprint, null, 2));
  }

  dropRecord(key: Sha256Hex): void {
    rmSync(join(this.layout.steps, `${key}.json`), { force: true });
  }

  records(): StepRecord[] {
    if (!existsSync(this.layout.steps)) return [];
    return readdirSync(this.layout.steps)
      .filter((n) => n.endsWith('.json'))
      .map((n) => readJson<StepRecord>(join(this.layout.steps, n)))
      .filter((r): r is StepRecord => r !== undefined);
  }

  /**
   * Every object a record depends on: its manifests and their shards (each read and verified when
   * `verify`), or the first one that is missing or corrupt. Only reads.
   */
  objectsOf(record: StepRecord, verify: boolean): Result<Sha256Hex[], ObjectProblem> {
    const digests: Sha256Hex[] = [];
    for (const manifestDigest of Object.values(record.outputs)) {
      const bytes = this.objects.read(manifestDigest);
      if (!bytes.ok) return bytes;
      digests.push(manifestDigest);
      for (const shard of (JSON.parse(bytes.value.toString('utf8')) as ArtifactManifest).shards) {
        const shardBytes = verify ? this.objects.read(shard.digest) : undefined;
        if (shardBytes?.ok === false) return shardBytes;
        digests.push(shard.digest);
      }
    }
    return ok(digests);
  }

  entryProblem(record: StepRecord): ObjectProblem | undefined {
    const objects = this.objectsOf(record, true);
    return objects.ok ? undefined : objects.error;
  }
}
