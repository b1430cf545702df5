// Owns choosing what a node's hosts run for a step, and staging what that needs: `strand worker` (Node.js
// and Strand on the image, `worker_command`) for the shard-parallel built-ins, or for the JAX steps the runtime
// bundle (staged by content) and the startup script that installs it on a stock TPU VM image.
import type { Sha256Hex } from '../util/sha256.js';
import type { GcsLocation } from './gcs-uri.js';
import { loadJaxRuntimeBundle } from './jax-runtime-bundle.js';
import { jaxStartupScript } from './jax-startup-script.js';
import type { RemoteTarget } from './remote-target.js';
import { startupScript } from './worker-contract.js';

/** Puts `bytes` at objects/DIGEST unless it is there already. */
export type StageObject = (digest: Sha256Hex, bytes: Buffer) => Promise<void>;

/** The startup script for the step's nodes, once what it fetches is staged. */
export async function stageWorkerLauncher(
  target: Pick<RemoteTarget, 'worker' | 'workerCommand' | 'hosts' | 'chipsPerHost' | 'oneProgram'>,
  bucket: GcsLocation,
  stage: StageObject,
): Promise<string> {
  switch (target.worker) {
    case 'node':
      return startupScript(target.workerCommand);
    case 'jax': {
      const bundle = loadJaxRuntimeBundle();
      for (const file of bundle.files) await stage(file.digest, file.bytes);
      await stage(bundle.manifestDigest, bundle.manifest);
      const { hosts, chipsPerHost, oneProgram } = target;
      return jaxStartupScript({ bucket, manifest: bundle.manifestDigest, hosts, chipsPerHost, oneProgram });
    }
    default: {
      const unknown: never = target.worker;
      throw new Error(`unknown worker ${String(unknown)}`);
    }
  }
}
