// vitest's sequencer: the order test files start in. Files run side by side on a few workers, so the run ends
// when its last file does; if a file of several minutes starts late it runs alone at the end while the other
// workers idle. vitest starts the longest files first when it has their durations from an earlier run here
// (node_modules/.vite); without them (a fresh clone, CI) it starts larger files first, and the longest files
// are not the largest: they wait on JAX processes and emulated TPU slices. So without durations, the files
// measured longest start first (a stale list costs time, never a result), then vitest's order.
import { relative } from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/** The longest files, longest first (`vitest run --reporter=json`, this machine, 2026-12-06). */
const LONGEST = [
  'test/integration/lora-on-tpu.test.ts',
  'test/e2e/multihost-training.test.ts',
  'test/e2e/preflight.test.ts',
  'test/e2e/jax-on-tpu.test.ts',
  'test/e2e/jax-runtime.test.ts',
  'test/e2e/lora.test.ts',
  'test/e2e/cloud-tpu.test.ts',
  'test/e2e/cli.test.ts',
];

export default class LongFilesFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const path = (file: TestSpecification) => relative(this.ctx.config.root, file.moduleId);
    const known = sorted.every((file) => this.ctx.cache.getFileTestResults(`${file.project.name}:${path(file)}`));
    if (known) return sorted;
    const rank = (file: TestSpecification) => {
      const at = LONGEST.indexOf(path(file));
      return at === -1 ? LONGEST.length : at;
    };
    return sorted
      .map((file, at) => ({ file, at }))
      .sort((a, b) => rank(a.file) - rank(b.file) || a.at - b.at)
      .map(({ file }) => file);
  }
}
