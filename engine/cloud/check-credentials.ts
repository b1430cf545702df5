// Owns checking, before any work starts, that Application Default Credentials yield an access token for
// Cloud Storage. What goes wrong is described by its kind — a missing or unreadable file, a file that is
// not JSON, a token endpoint that refused — and never by the credential's content.
import { fail, ok, type Result } from '../util/result.js';
import type { CloudSettings } from './cloud-settings.js';

const SCOPE = 'https://www.googleapis.com/auth/devstorage.read_write';
const HINT = 'run `gcloud auth application-default login`, or set GOOGLE_APPLICATION_CREDENTIALS to a credentials file';

export interface CredentialProblem {
  message: string;
  hint: string;
}

function describe(error: unknown, file: string | undefined): string {
  const e = error as { code?: unknown; response?: { status?: unknown; data?: { error?: unknown } } };
  const where = file === undefined ? 'Application Default Credentials' : `the credentials in ${file} (GOOGLE_APPLICATION_CREDENTIALS)`;
  if (e.code === 'ENOENT' || e.code === 'EACCES' || e.code === 'EISDIR') return `${where}: the file cannot be read (${e.code})`;
  if (error instanceof SyntaxError) return `${where}: the file is not valid JSON`;
  if (typeof e.response?.status === 'number') {
    const reason = typeof e.response.data?.error === 'string' ? ` ${e.response.data.error}` : '';
    return `${where} were refused by the token endpoint (HTTP ${e.response.status}${reason})`;
  }
  return file === undefined ? 'no Application Default Credentials were found' : `${where} could not be used`;
}

export async function checkCredentials(
  settings: Pick<CloudSettings, 'authenticate' | 'credentialsFile'>,
): Promise<Result<void, CredentialProblem>> {
  if (!settings.authenticate) return ok(undefined);
  try {
    // Loaded only when a workflow reaches Cloud Storage or a TPU: it is a large module graph.
    const { GoogleAuth } = await import('google-auth-library');
    const auth = new GoogleAuth({
      scopes: [SCOPE],
      ...(settings.credentialsFile !== undefined ? { keyFilename: settings.credentialsFile } : {}),
    });
    const token = await auth.getAccessToken();
    if (!token) return fail({ message: describe(undefined, settings.credentialsFile), hint: HINT });
    return ok(undefined);
  } catch (error) {
    return fail({ message: describe(error, settings.credentialsFile), hint: HINT });
  }
}
