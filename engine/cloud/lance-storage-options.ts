// Owns how LanceDB's own object store (Rust object_store) reaches Cloud Storage: the storage options for a
// gs:// table. Google Cloud: Application Default Credentials, resolved by object_store itself (a
// GOOGLE_APPLICATION_CREDENTIALS file, gcloud's, or the metadata server). A local server speaking the GCS
// XML API: its base URL, plain HTTP, and either the same credentials file or none (`disable_oauth`, as
// object_store's own tests run fake-gcs-server). The base URL is always explicit: object_store also reads
// it from a BASE_URL environment variable, which unrelated tools set (Vite sets BASE_URL=/).
import type { CloudSettings } from './cloud-settings.js';

const GOOGLE_STORAGE = 'https://storage.googleapis.com';

export function lanceStorageOptions(
  settings: Pick<CloudSettings, 'storageEndpoint' | 'authenticate' | 'credentialsFile'>,
): Record<string, string> {
  const base = settings.storageEndpoint ?? GOOGLE_STORAGE;
  const options: Record<string, string> = { google_base_url: base };
  if (base.startsWith('http://')) options.allow_http = 'true';
  if (settings.credentialsFile !== undefined) options.google_application_credentials = settings.credentialsFile;
  else if (!settings.authenticate) {
    options.google_service_account_key = JSON.stringify({
      disable_oauth: true,
      gcs_base_url: base,
      client_email: '',
      private_key_id: '',
      private_key: '',
    });
  }
  return options;
}
