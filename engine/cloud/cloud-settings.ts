// Owns where the cloud clients connect, from the environment: Google Cloud by default; local servers that
// speak the same wire protocols when STRAND_GCS_EMULATOR_HOST or
// STRAND_TPU_EMULATOR_HOST is set. Also how often remote state is polled (slower against Google Cloud).
export const EMULATOR_ENV = { storage: 'STRAND_GCS_EMULATOR_HOST', tpu: 'STRAND_TPU_EMULATOR_HOST' } as const;

export interface CloudSettings {
  storageEndpoint?: string;
  tpuEndpoint?: string;
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
    pollMs: tpu ? 100 : 10_000,
  };
}
