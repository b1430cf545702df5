// Owns `strand doctor`: which runtimes can compute here (onnxruntime always; JAX when its Python
// environment imports jax; the TPU and GPU plugins when installed) and how to get the others.
import { createRequire } from 'node:module';
import { EXIT_OK, JSON_FLAG, type Command } from '../command.js';
import { has } from '../parse-args.js';
import { JAX_SETUP_COMMAND } from '../../jax/jax-process.js';
import type { JaxProbe } from '../../jax/probe-jax.js';

export interface RuntimeStatus {
  runtime: 'onnxruntime' | 'jax' | 'jax-tpu' | 'xla-preflight' | 'jax-gpu';
  ready: boolean;
  detail: string;
  /** How to get it, when it is not ready. */
  fix?: string;
  /** What it runs. */
  runs: string;
}

/** The report, from what the probe found (pure). */
export function runtimeStatuses(onnxVersion: string, jax: JaxProbe): RuntimeStatus[] {
  const jaxReady = jax.jax !== undefined;
  const where = jax.from === 'STRAND_PYTHON' ? `STRAND_PYTHON=${jax.python}` : (jax.python ?? 'runtime/jax/.venv');
  return [
    { runtime: 'onnxruntime', ready: true, detail: `onnxruntime-node ${onnxVersion}, CPU`, runs: 'embed/onnx; embed/nt on kind: cpu' },
    jaxReady
      ? {
          runtime: 'jax',
          ready: true,
          detail: `jax ${jax.jax} in ${where}: platform ${jax.platform}${jax.platform === 'cpu' ? '' : ` (${jax.devices} devices)`}; the CPU splits into XLA host devices (checked: ${jax.hostDevices} of 8 asked)`,
          runs: 'embed/nt on kind: cpu, runtime: jax',
        }
      : {
          runtime: 'jax',
          ready: false,
          detail: jax.problem ?? 'not set up',
          fix: `${JAX_SETUP_COMMAND} (or STRAND_PYTHON=/path/to/python with jax and runtime/jax installed)`,
          runs: 'embed/nt on kind: cpu, runtime: jax',
        },
    jax.libtpu
      ? {
          runtime: 'jax-tpu',
          ready: jaxReady && jax.platform === 'tpu',
          detail: `libtpu installed${jax.platform === 'tpu' ? `, ${jax.devices} TPU devices` : '; no TPU attached here'}`,
          runs: 'embed/nt on kind: tpu (on a TPU VM)',
        }
      : {
          runtime: 'jax-tpu',
          ready: false,
          detail: 'libtpu not installed',
          fix: 'on a TPU VM: runtime/jax/.venv/bin/pip install "jax[tpu]==0.10.2"',
          runs: 'embed/nt on kind: tpu',
        },
    jaxReady && jax.libtpu
      ? {
          runtime: 'xla-preflight',
          ready: true,
          detail: 'libtpu builds TPU topologies without a TPU',
          runs: 'strand plan / run: XLA compiles TPU steps for their topology (else the formula)',
        }
      : {
          runtime: 'xla-preflight',
          ready: false,
          detail: jaxReady ? 'libtpu not installed' : 'needs the JAX runtime',
          fix: JAX_SETUP_COMMAND,
          runs: 'strand plan / run: XLA compiles TPU steps for their topology (else the formula)',
        },
    jax.cuda
      ? {
          runtime: 'jax-gpu',
          ready: jaxReady && jax.platform === 'gpu',
          detail: `CUDA plugin installed${jax.platform === 'gpu' ? `, ${jax.devices} GPUs` : '; no GPU visible'}`,
          runs: 'embed/nt on kind: gpu',
        }
      : {
          runtime: 'jax-gpu',
          ready: false,
          detail: 'CUDA plugin not installed',
          fix: 'on a machine with NVIDIA GPUs: runtime/jax/.venv/bin/pip install "jax[cuda12]==0.10.2"',
          runs: 'embed/nt on kind: gpu',
        },
  ];
}

export function formatStatuses(statuses: readonly RuntimeStatus[]): string {
  const width = Math.max(...statuses.map((s) => s.runtime.length));
  return statuses
    .map(
      (s) =>
        `${s.runtime.padEnd(width)}  ${s.ready ? 'ready  ' : 'missing'}  ${s.detail}\n${' '.repeat(width + 11)}runs ${s.runs}${s.fix ? `\n${' '.repeat(width + 11)}get it: ${s.fix}` : ''}\n`,
    )
    .join('');
}

export const doctorCommand: Command = {
  usage: 'strand doctor [--json]',
  flags: [JSON_FLAG],
  async run(args, io) {
    const { probeJax } = await import('../../jax/probe-jax.js');
    const onnx = (createRequire(import.meta.url)('onnxruntime-node/package.json') as { version: string }).version;
    const statuses = runtimeStatuses(onnx, probeJax(io.env));
    io.stdout(has(args, 'json') ? JSON.stringify({ runtimes: statuses }, null, 2) + '\n' : formatStatuses(statuses));
    return EXIT_OK;
  },
};
