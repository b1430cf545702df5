// Owns where the cloud clients connect, from the environment: Google Cloud by default; local servers that
// speak the same wire protocols when STRAND_GCS_EMULATOR_HOST or
// STRAND_TPU_EMULATOR_HOST is set (a local server gets credentials only when GOOGLE_APPLICATION_CREDENTIALS
// names some, as Google's own emulators take none). Also how often remote state is polled.
export const EMULATOR_ENV = { storage: 'STRAND_GCS_EMULATOR_HOST', tpu: 'STRAND_TPU_EMULATOR_HOST' } as const;

export interface CloudSettings {
  storageEndpoint?: string;
  tpuEndpoint?: string;
  /** Whether requests carry Application Default Credentials (always on Google Cloud). */
  authenticate: boolean;
  /** GOOGLE_APPLICATION_CREDENTIALS: the path of the credentials file (its content is never read here). */
  credentialsFile?: string;
  pollMs: number;
}

function withScheme(host: string): string {
  return /^https?:\/\//.test(host) ? host.replace(/\/+$/, '') : `http://${host}`;
}

export function cloudSettings(env: Record<string, string | undefined>): CloudSettings {
  const storage = env[EMULATOR_ENV.storage];
  const tpu = env[EMULATOR_ENV.tpu];
  return {
    ...(storage ? { storageEndpoint: withScheme(storage) } : {}),
    ...(tpu ? { tpuEndpoint: withScheme(tpu) } : {}),
    authenticate: !storage || Boolean(env.GOOGLE_APPLICATION_CREDENTIALS),
    ...(env.GOOGLE_APPLICATION_CREDENTIALS ? { credentialsFile: env.GOOGLE_APPLICATION_CREDENTIALS } : {}),
    pollMs: tpu ? 100 : 10_000,
  };
}
