// Owns constructing the official @google-cloud/storage client the same way everywhere: Google Cloud or a
// local server speaking its JSON API, credentials from Application Default Credentials, and retries of
// 429, 5xx and dropped connections with exponential backoff.
import { IdempotencyStrategy, Storage } from '@google-cloud/storage';

export interface StorageClientOptions {
  projectId?: string;
  /** `http://host:port` of a server that speaks the GCS JSON API (tests); unset = Google Cloud. */
  apiEndpoint?: string;
  /** Send ADC tokens to `apiEndpoint` too (Google Cloud always gets them). */
  authenticateEndpoint?: boolean;
}

export function createStorage(options: StorageClientOptions): Storage {
  const storage = new Storage({
    ...(options.projectId !== undefined ? { projectId: options.projectId } : {}),
    ...(options.apiEndpoint !== undefined
      ? { apiEndpoint: options.apiEndpoint, useAuthWithCustomEndpoint: options.authenticateEndpoint === true }
      : {}),
    // Every write Strand makes carries a precondition and every read names a generation, so retrying any
    // request is safe.
    retryOptions: {
      autoRetry: true,
      maxRetries: 6,
      retryDelayMultiplier: 2,
      maxRetryDelay: 32,
      idempotencyStrategy: IdempotencyStrategy.RetryAlways,
    },
  });
  // With STORAGE_EMULATOR_HOST in the environment the client takes its value, a host, as the JSON API's
  // base URL (no /storage/v1): the other clients and Strand's own requests treat it as a host, so this does.
  if (options.apiEndpoint !== undefined) storage.baseUrl = `${options.apiEndpoint.replace(/\/+$/, '')}/storage/v1`;
  return storage;
}
