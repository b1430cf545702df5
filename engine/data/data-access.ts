// Owns DataAccess, the one way steps reach the data a workflow names: local paths through the local-disk
// adapter, gs:// URIs through the Cloud Storage adapter — inputs at the generations the plan listed (the
// ObjectSnapshot), outputs written once and verified, and where LanceDB opens a table with which options.
import { resolve } from 'node:path';
import type { DataAccess, DataFile } from '../plugin-api/step-context.js';
import { StepError } from '../plugin-api/step-error.js';
import type { GcsObjects } from '../cloud/gcs-objects.js';
import { objectUri } from '../cloud/gcs-uri.js';
import { lanceStorageOptions } from '../cloud/lance-storage-options.js';
import { localDataFiles, localDataOutput, readLocalText, writeLocalText } from './local-data-files.js';
import { isGcsUri, type ObjectSnapshot } from './object-snapshot.js';

/** `snapshot` is undefined when the workflow names no gs:// path (then a step asking for one is refused). */
export function createDataAccess(workdir: string, snapshot: ObjectSnapshot | undefined): DataAccess {
  const gcs = (): GcsObjects => {
    if (snapshot === undefined) throw new StepError('gs:// data is reached only through the path params of a workflow (with: path, uri)', 'name the gs:// path in the step\'s with:');
    return snapshot.objects;
  };
  return {
    inputFiles: async (path) => {
      if (!isGcsUri(path)) return localDataFiles(path, workdir);
      const versions = snapshot?.versions(path) ?? (await gcs().list(path));
      return versions.map((version): DataFile => ({ label: objectUri(version), size: version.size, read: (start, end) => gcs().read(version, start, end) }));
    },
    createOutput: async (path) => (isGcsUri(path) ? gcs().createWriter(path) : localDataOutput(resolve(workdir, path))),
    readText: async (path) => (isGcsUri(path) ? (await gcs().get(path))?.toString('utf8') : readLocalText(resolve(workdir, path))),
    writeText: async (path, text) => (isGcsUri(path) ? gcs().replace(path, Buffer.from(text)) : writeLocalText(resolve(workdir, path), text)),
    lanceLocation: (path) => (isGcsUri(path) ? { uri: path, storageOptions: lanceStorageOptions(gcs().settings) } : { uri: resolve(workdir, path), storageOptions: {} }),
  };
}
