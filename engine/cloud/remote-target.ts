// Owns deciding, before a run starts, which steps go to a remote device and with what: the node to
// create (type, image, spot, project, zone, bucket), which worker the hosts run (`strand worker`, or the JAX
// worker for a plugin with JAX facts), and the step's resolved placement its job is built from. A training
// step (`remoteTraining`) runs as one JAX program over every host of its slice (`oneProgram`); a shard-parallel
// step runs one program per host, and may run on several nodes at once (`replicas:`, the JAX worker's steps
// only). Steps that cannot run remotely are refused here,
// with the reason and the fix, before anything is staged or created. Pure: the placement plans arrive as values.
import type { StepPlacementPlan } from '../devices/step-placement-plan.js';
import type { RunPlacement } from '../plugin-api/run-placement.js';
import type { StepPlugin } from '../plugin-api/step-plugin.js';
import type { Workflow } from '../workflow/workflow.js';
import { parseGcsUri } from './gcs-uri.js';
import type { JobSpec } from './worker-contract.js';

export interface RemoteTarget {
  /** The device's name in the workflow. */
  name: string;
  label: string;
  acceleratorType: string;
  project: string;
  zone: string;
  bucket: string;
  spot: boolean;
  keep: boolean;
  runtimeVersion: string;
  workerCommand: string;
  /** What runs on the hosts: `strand worker` (Node.js on the image), or the JAX worker the startup script installs. */
  worker: 'node' | 'jax';
  /** Nodes the step runs on at once (`replicas:`), their hosts claiming shards as they free up. */
  replicas: number;
  /** Hosts of the slice and chips on each, from the catalog. */
  hosts: number;
  chipsPerHost: number;
  /** Whether the hosts run one JAX program over the whole slice (a training job, jax.distributed) rather than
   * one program each (the JAX startup script then keeps each host's JAX alone on its chips). */
  oneProgram: boolean;
  maxAttempts: number;
  /** Minutes without a finished shard or a host report before the step fails (a host that never started). */
  stallMinutes: number;
  placement: JobSpec['placement'];
  /** The step's resolved placement, which its JAX job is built from. */
  run: RunPlacement;
}

/** The job spec's placement: the step's resolved placement, as the worker contract names it. */
function jobPlacement(run: RunPlacement): JobSpec['placement'] {
  return { device: run.device, mesh: run.mesh, perDeviceBatch: run.perDeviceBatch, globalBatch: run.globalBatch, precision: run.precision };
}

/** A step placed on a device where this version cannot run it: the reason and the fix, in one message. */
export interface RemoteProblem {
  step: string;
  message: string;
}

export function resolveRemoteTargets(
  workflow: Workflow,
  plans: ReadonlyMap<string, StepPlacementPlan>,
  builtins: readonly StepPlugin[],
): { targets: Map<string, RemoteTarget>; problems: RemoteProblem[] } {
  const targets = new Map<string, RemoteTarget>();
  const problems: RemoteProblem[] = [];
  for (const step of workflow.steps) {
    const name = step.placement.on;
    const device = name === undefined ? undefined : workflow.devices[name];
    if (device === undefined || device.kind === 'cpu') continue;
    const where = `step "${step.id}" (on: ${name})`;
    if (device.kind === 'gpu') {
      if (step.plugin.runtimes?.includes('jax')) continue; // JAX with the CUDA plugin on this machine's GPUs (embed/nt)
      problems.push({
        step: step.id,
        message: `${where}: this version has no GPU executor; \`strand plan\` checks GPU placements, and the step can run here without on:`,
      });
      continue;
    }
    const remoteKind = (p: StepPlugin): boolean => p.shardParallel !== undefined || p.remoteTraining === true;
    if (!remoteKind(step.plugin) || !builtins.includes(step.plugin)) {
      problems.push({
        step: step.id,
        message: `${where}: ${step.plugin.id} runs on the local machine only; remote devices run the built-in shard-parallel and training steps (${builtins
          .filter(remoteKind)
          .map((p) => p.id)
          .join(', ')})`,
      });
      continue;
    }
    const missing = (['project', 'zone', 'bucket'] as const).filter((k) => !device[k]);
    if (missing.length > 0) {
      problems.push({
        step: step.id,
        message: `device "${name}" needs ${missing.map((k) => `${k}:`).join(', ')} to run ${step.id} on Cloud TPU (e.g. project: my-project, zone: us-central2-b, bucket: gs://my-bucket/strand)`,
      });
      continue;
    }
    const plan = plans.get(step.id);
    if (plan === undefined || parseGcsUri(device.bucket!) === undefined) continue; // reported by validation
    const worker = step.plugin.jax !== undefined ? 'jax' : 'node';
    const hosts = plan.placement.hosts;
    const replicas = plan.placement.replicas;
    if (replicas > 1 && (step.plugin.remoteTraining === true || worker !== 'jax')) {
      problems.push({
        step: step.id,
        message: `${where}: replicas: ${replicas} runs a shard-parallel step of the JAX worker (embed/nt) over many nodes, whose hosts claim shards; ${step.plugin.id} ${step.plugin.remoteTraining === true ? 'is one training job on one slice' : 'runs on `strand worker`, whose hosts split shards by index'}: use a device without replicas:`,
      });
      continue;
    }
    targets.set(step.id, {
      name: name!,
      label: plan.placement.label,
      acceleratorType: device.type!,
      project: device.project!,
      zone: device.zone!,
      bucket: device.bucket!,
      spot: device.spot === true,
      keep: device.keep === true,
      runtimeVersion: device.runtime_version ?? plan.placement.runtimeVersion ?? 'tpu-ubuntu2204-base',
      workerCommand: device.worker_command ?? 'strand',
      worker,
      replicas,
      hosts,
      oneProgram: step.plugin.remoteTraining === true,
      chipsPerHost: Math.max(1, Math.round(plan.placement.chips / hosts)),
      maxAttempts: device.max_attempts ?? 5,
      stallMinutes: device.stall_minutes ?? 30,
      placement: jobPlacement(plan.run),
      run: plan.run,
    });
  }
  return { targets, problems };
}
