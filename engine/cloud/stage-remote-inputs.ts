// Owns staging a remote step's inputs in the device's bucket by content (objects/SHA256, skipping what a
// previous run staged): the local files its path params name (a model folder file by file, as written, so
// the worker rebuilds it), the shards of its input artifacts, and what the hosts' launcher fetches. A
// gs:// path param is not staged: the job names the object versions the plan listed, and the hosts read
// them from their bucket themselves (checked by generation and checksum). The job spec's `files` come from here.
import { statSync } from 'node:fs';
import { join, posix, resolve } from 'node:path';
import { StepError } from '../plugin-api/step-error.js';
import { onnxModelFiles } from '../onnx/onnx-model-files.js';
import type { ArtifactManifest } from '../plan/step-record.js';
import { hashFile } from '../store/file-digests.js';
import type { ObjectStore } from '../store/object-store.js';
import type { Sha256Hex } from '../util/sha256.js';
import { isGcsUri, type ObjectSnapshot } from '../data/object-snapshot.js';
import { pathParams, type PathParam } from '../workflow/path-params.js';
import type { StepSpec } from '../workflow/workflow.js';
import { parseGcsUri } from './gcs-uri.js';
import { chooseModelFolderFiles, modelFolderFiles } from './model-folder-files.js';
import type { RemoteTarget } from './remote-target.js';
import type { StagingBucket } from './remote-services.js';
import { stageWorkerLauncher } from './worker-launcher.js';
import { layout, type JobSpec, type ObjectFile } from './worker-contract.js';

export interface StagedInputs {
  files: JobSpec['files'];
  /** The startup script for the step's nodes. */
  launcher: string;
}

export async function stageRemoteInputs(
  step: StepSpec,
  manifests: Readonly<Record<string, ArtifactManifest>>,
  parts: { bucket: StagingBucket; objects: ObjectStore; workdir: string; target: RemoteTarget; listing: ObjectSnapshot | undefined },
): Promise<StagedInputs> {
  const { bucket, objects } = parts;
  const staged = new Set(await bucket.list('objects/'));
  const stage = async (digest: Sha256Hex, upload: (name: string) => Promise<unknown>): Promise<void> => {
    if (!staged.has(layout.object(digest))) await upload(layout.object(digest));
    staged.add(layout.object(digest));
  };
  const files: JobSpec['files'] = [];
  for (const param of pathParams(step).filter((p) => p.direction === 'input')) {
    if (isGcsUri(param.path)) {
      files.push(...objectFiles(param, parts.listing));
      continue;
    }
    const path = resolve(parts.workdir, param.path);
    if (statSync(path, { throwIfNoEntry: false })?.isDirectory() === true) {
      // A model folder: its files, each by content, named under the folder as written (the worker rebuilds it).
      const folder = modelFolderFiles(path);
      if ('error' in folder) throw new StepError(folder.error, 'point the step at a Hugging Face model folder');
      for (const name of folder.names) {
        const digest = hashFile(join(path, name));
        await stage(digest, (object) => bucket.uploadFileIfAbsent(object, join(path, name)));
        files.push({ path: posix.join(param.path, name), object: digest });
      }
      continue;
    }
    const data = param.format === 'onnx' ? onnxModelFiles(path) : undefined;
    if (data !== undefined && !('error' in data) && data.files.length + data.problems.length > 0) {
      // Workers keep staged files by digest, not beside each other: external data would not be found.
      throw new StepError(
        `${param.path} keeps its weights in external data (${[...data.files.map((f) => f.location), ...data.problems.map((p) => p.location)].join(', ')}), which is not staged to remote workers yet`,
        'run this step on the local machine, or export the model as one file (under 2 GB)',
      );
    }
    const digest = hashFile(path);
    await stage(digest, (name) => bucket.uploadFileIfAbsent(name, path));
    files.push({ path: param.path, object: digest });
  }
  for (const manifest of Object.values(manifests)) {
    for (const shard of manifest.shards) await stage(shard.digest, (name) => bucket.putIfAbsent(name, objects.get(shard.digest)));
  }
  const launcher = await stageWorkerLauncher(parts.target, bucket.location, (digest, bytes) =>
    stage(digest, (name) => bucket.putIfAbsent(name, bytes)),
  );
  return { files, launcher };
}

/** The objects a gs:// path param names, at the versions the plan listed: the object, or a model folder's files. */
function objectFiles(param: PathParam, listing: ObjectSnapshot | undefined): ObjectFile[] {
  const versions = listing?.versions(param.path) ?? [];
  const location = parseGcsUri(param.path);
  if (location === undefined || versions.length === 0)
    throw new StepError(
      `${param.path} was not listed before the run`,
      'run the step with strand run (which lists every gs:// path before it starts)',
    );
  const exact = versions.find((v) => v.name === location.prefix);
  if (exact !== undefined) return [{ path: param.path, gcs: exact }];
  if (param.format !== 'model') throw new StepError(`${param.path} names no object (only objects under it)`, 'give the object itself');
  const byName = new Map(versions.map((v) => [v.name.slice(location.prefix.length + 1), v]));
  const folder = param.path.replace(/\/+$/, '');
  const chosen = chooseModelFolderFiles(folder, (name) => byName.has(name));
  if ('error' in chosen) throw new StepError(chosen.error, 'point the step at a Hugging Face model folder');
  return chosen.names.flatMap((name) => {
    const version = byName.get(name);
    return version === undefined ? [] : [{ path: `${folder}/${name}`, gcs: version }];
  });
}
