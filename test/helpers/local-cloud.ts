// The local Google Cloud the TPU tests run against: a GCS JSON API server with the bucket `strand-test`,
// and a TPU server whose hosts reach that server (test/emulators), started before each test and stopped
// after it, with the environment that points Strand at both.
import { afterEach, beforeEach } from 'vitest';
import { cloudSettings, type CloudSettings } from '../../engine/cloud/cloud-settings.js';
import { GcsServer } from '../emulators/gcs-server.js';
import { TpuServer } from '../emulators/tpu-server.js';
import { jaxPython } from './jax-runtime.js';

export const TEST_BUCKET = 'strand-test';

export interface LocalCloud {
  readonly gcs: GcsServer;
  readonly tpu: TpuServer;
  /** The GCS server's client environment (GcsServer.clientEnv) and STRAND_TPU_EMULATOR_HOST, for a CLI run or `cloudSettings`. */
  env(): Record<string, string>;
  settings(): CloudSettings;
}

/**
 * Registers the servers' start and stop around each test. With `jaxHosts`, the emulated TPU hosts run the
 * repository's JAX runtime (its Python, created on first use), as a slice's hosts would.
 */
export function useLocalCloud(options: { jaxHosts?: boolean } = {}): LocalCloud {
  let servers: { gcs: GcsServer; tpu: TpuServer } | undefined;
  const running = (): { gcs: GcsServer; tpu: TpuServer } => {
    if (servers === undefined) throw new Error('the local cloud runs only inside a test');
    return servers;
  };
  beforeEach(async () => {
    const gcs = await new GcsServer().start();
    gcs.createBucket(TEST_BUCKET);
    const hostEnv = options.jaxHosts === true ? { STRAND_RUNTIME_PYTHON: jaxPython() } : {};
    const tpu = await new TpuServer({ ...gcs.clientEnv(), ...hostEnv }).start();
    servers = { gcs, tpu };
  });
  afterEach(async () => {
    const stopping = servers;
    servers = undefined;
    await stopping?.tpu.stop();
    await stopping?.gcs.stop();
  });
  const cloud: LocalCloud = {
    get gcs() {
      return running().gcs;
    },
    get tpu() {
      return running().tpu;
    },
    env: () => ({ ...running().gcs.clientEnv(), STRAND_TPU_EMULATOR_HOST: running().tpu.endpoint }),
    settings: () => cloudSettings(cloud.env()),
  };
  return cloud;
}
