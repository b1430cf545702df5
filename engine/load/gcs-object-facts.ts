// Owns Cloud Storage as the listing stage sees it, read at the edge: where the client connects (from the
// environment), Application Default Credentials checked before any request, then an empty ObjectSnapshot
// over the official client. `strand search` opens gs:// tables the same way.
import { checkCredentials } from '../cloud/check-credentials.js';
import { cloudSettings } from '../cloud/cloud-settings.js';
import { ObjectSnapshot } from '../data/object-snapshot.js';
import { ok } from '../util/result.js';
import type { ObjectFacts } from './list-gcs-objects.js';

export function gcsObjectFacts(env: Record<string, string | undefined>): ObjectFacts {
  return {
    open: async () => {
      const settings = cloudSettings(env);
      const credentials = await checkCredentials(settings);
      if (!credentials.ok) return credentials;
      // The official client is a large module graph: loaded only for a workflow that has gs:// paths.
      const { GcsObjects } = await import('../cloud/gcs-objects.js');
      return ok(new ObjectSnapshot(new GcsObjects(settings)));
    },
  };
}
