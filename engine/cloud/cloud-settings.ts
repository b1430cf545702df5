// Owns where the cloud clients connect, from the environment: Google Cloud by default; local servers that
// speak the same wire protocols when a variable of EMULATOR_ENV is set (a local server gets credentials only
// when GOOGLE_APPLICATION_CREDENTIALS names some, as Google's own emulators take none). Also how often
// remote state is polled.

/**
 * The variables that point Strand at local servers, each list read in order, the first set one winning.
 * Storage: STORAGE_EMULATOR_HOST, the name Google's clients and emulators use, then Strand's earlier
 * STRAND_GCS_EMULATOR_HOST, kept as an alias. The TPU node's startup script reads the same list.
 */
export const EMULATOR_ENV = {
  storage: ['STORAGE_EMULATOR_HOST', 'STRAND_GCS_EMULATOR_HOST'],
  tpu: ['STRAND_TPU_EMULATOR_HOST'],
} as const;

/** The value of the first of `names` that is set and not empty. */
export function firstSet(env: Record<string, string | undefined>, names: readonly string[]): string | undefined {
  return names.map((name) => env[name]).find((value) => value !== undefined && value !== '');
}

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
  const storage = firstSet(env, EMULATOR_ENV.storage);
  const tpu = firstSet(env, EMULATOR_ENV.tpu);
  return {
    ...(storage ? { storageEndpoint: withScheme(storage) } : {}),
    ...(tpu ? { tpuEndpoint: withScheme(tpu) } : {}),
    authenticate: !storage || Boolean(env.GOOGLE_APPLICATION_CREDENTIALS),
    ...(env.GOOGLE_APPLICATION_CREDENTIALS ? { credentialsFile: env.GOOGLE_APPLICATION_CREDENTIALS } : {}),
    pollMs: tpu ? 100 : 10_000,
  };
}
