// Owns asking a Python environment what JAX can do there, for `strand doctor`: whether jax imports, its
// version, the platform and device count it sees, and whether the TPU (libtpu) and CUDA plugins are
// installed. One short child process; no model is loaded.
import { spawnSync } from 'node:child_process';
import { findPython, pythonEnv } from './jax-process.js';

export interface JaxProbe {
  python?: string;
  /** Where the interpreter came from. */
  from?: 'STRAND_PYTHON' | 'venv';
  /** Why JAX is not usable (no environment, jax does not import). */
  problem?: string;
  jax?: string;
  /** The default backend jax picks with nothing forced (cpu, tpu, gpu). */
  platform?: string;
  devices?: number;
  /** CPU devices with the host split the way `devices: 8` would split it. */
  hostDevices?: number;
  libtpu: boolean;
  cuda: boolean;
}

const SCRIPT = `
import importlib.util, json, os
found = lambda m: importlib.util.find_spec(m) is not None
out = {"libtpu": found("libtpu"), "cuda": found("jax_cuda12_plugin") or found("jax_cuda13_plugin")}
try:
    import jax
    out.update(jax=jax.__version__, platform=jax.default_backend(), devices=jax.device_count(), host=len(jax.devices("cpu")))
except Exception as error:
    out["problem"] = f"{type(error).__name__}: {error}".splitlines()[0]
print(json.dumps(out))
`;

export function probeJax(env: Record<string, string | undefined>): JaxProbe {
  const found = findPython(env);
  if ('error' in found) return { problem: found.error, libtpu: false, cuda: false };
  const run = spawnSync(found.python, ['-c', SCRIPT], {
    encoding: 'utf8',
    env: { ...pythonEnv(env), XLA_FLAGS: '--xla_force_host_platform_device_count=8' },
    timeout: 120_000,
  });
  const base = { python: found.python, from: found.from };
  if (run.error !== undefined)
    return {
      ...base,
      problem: `cannot start ${found.python}: ${(run.error as NodeJS.ErrnoException).code ?? run.error.message}`,
      libtpu: false,
      cuda: false,
    };
  try {
    const out = JSON.parse(run.stdout.trim().split('\n').at(-1) ?? '') as {
      jax?: string;
      platform?: string;
      devices?: number;
      host?: number;
      libtpu: boolean;
      cuda: boolean;
      problem?: string;
    };
    return {
      ...base,
      libtpu: out.libtpu,
      cuda: out.cuda,
      ...(out.problem !== undefined ? { problem: out.problem } : {}),
      ...(out.jax !== undefined ? { jax: out.jax, platform: out.platform!, devices: out.devices!, hostDevices: out.host! } : {}),
    };
  } catch {
    return {
      ...base,
      problem: `${found.python} did not answer (${run.stderr.trim().split('\n').at(-1) ?? `exit ${run.status}`})`,
      libtpu: false,
      cuda: false,
    };
  }
}
