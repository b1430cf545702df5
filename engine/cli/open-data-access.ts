// Owns giving a command that is not a workflow run (`strand search`) the same DataAccess steps get: for a
// gs:// path, credentials checked first (a problem is printed and stops the command before any work).
import { checkCredentials } from '../cloud/check-credentials.js';
import { cloudSettings } from '../cloud/cloud-settings.js';
import { GcsObjects } from '../cloud/gcs-objects.js';
import { createDataAccess } from '../data/data-access.js';
import { isGcsUri, ObjectSnapshot } from '../data/object-snapshot.js';
import type { DataAccess } from '../index.js';
import type { CliIo } from './command.js';

export async function openDataAccess(path: string, io: CliIo): Promise<DataAccess | undefined> {
  if (!isGcsUri(path)) return createDataAccess(io.cwd, undefined);
  const settings = cloudSettings(io.env);
  const credentials = await checkCredentials(settings);
  if (!credentials.ok) {
    io.stderr(`error: ${credentials.error.message}\nhint: ${credentials.error.hint}\n`);
    return undefined;
  }
  return createDataAccess(io.cwd, new ObjectSnapshot(new GcsObjects(settings)));
}
