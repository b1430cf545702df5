// Test helper: the JAX jobs the engine builds from checked workflows, committed as runtime/jax/tests/golden/*.json
// (test/integration/jax-job-golden.test.ts keeps them equal to the builders; the Python tests parse and run them).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { JaxJob } from '../../engine/jax/jax-job.js';
import { REPO } from './project.js';

export const GOLDEN_JOBS = join(REPO, 'runtime/jax/tests/golden');

export function goldenJob<T extends JaxJob>(name: 'embed-job.json' | 'train-job.json'): T {
  return JSON.parse(readFileSync(join(GOLDEN_JOBS, name), 'utf8')) as T;
}
