// Owns giving a command that is not a workflow run (`strand search`) the same DataAccess steps get: for a
// gs:// path, credentials checked first (a problem is printed and stops the command before any work).
import { createDataAccess } from '../data/data-access.js';
import { isGcsUri } from '../data/object-snapshot.js';
import type { DataAccess } from '../plugin-api/step-context.js';
import { gcsObjectFacts } from '../load/gcs-object-facts.js';
import type { CliIo } from './command.js';

export async function openDataAccess(path: string, io: CliIo): Promise<DataAccess | undefined> {
  if (!isGcsUri(path)) return createDataAccess(io.cwd, undefined);
  const opened = await gcsObjectFacts(io.env).open();
  if (!opened.ok) {
    io.stderr(`error: ${opened.error.message}\nhint: ${opened.error.hint}\n`);
    return undefined;
  }
  return createDataAccess(io.cwd, opened.value);
}
