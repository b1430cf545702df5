// `strand plan --json` of a big workflow writes its JSON in pieces, and waits for stdout to take each one
// where stdout holds output back (a pipe whose reader is slower), so the whole text never sits in memory.
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fastaWorkflow } from '../../bench/plan-scale.js';
import type { CliIo } from '../../engine/cli/command.js';
import { planCommand } from '../../engine/cli/commands/plan.js';
import { parseArgs } from '../../engine/cli/parse-args.js';
import { copyFromRepo, removeProjects, writeProject } from '../helpers/project.js';

afterAll(removeProjects);

function project(): string {
  const dir = writeProject({ 'flow.yaml': fastaWorkflow(1200) });
  copyFromRepo(dir, 'workflows/data/sample.fasta.gz');
  return dir;
}

function io(dir: string, out: string[], drain?: () => Promise<void>): CliIo {
  return { stdout: (text) => void out.push(text), stderr: () => undefined, cwd: dir, env: {}, isTTY: false, ...(drain ? { drain } : {}) };
}

describe('plan --json output', () => {
  it('writes the next piece only once stdout has drained the last', async () => {
    const dir = project();
    const chunks: string[] = [];
    let asked!: () => void;
    const firstDrain = new Promise<void>((resolve) => (asked = resolve));
    let release!: () => void;
    let drains = 0;
    const drain = (): Promise<void> => {
      drains += 1;
      if (drains > 1) return Promise.resolve();
      asked();
      return new Promise((resolve) => (release = resolve));
    };
    const running = planCommand.run(parseArgs([join(dir, 'flow.yaml'), '--json'], planCommand.flags), io(dir, chunks, drain));
    // (A plan that failed would end before asking.)
    await Promise.race([firstDrain, running]);
    expect(chunks).toHaveLength(1);
    release();
    expect(await running).toBe(0);
    expect(drains).toBe(chunks.length);

    const whole: string[] = [];
    expect(await planCommand.run(parseArgs([join(dir, 'flow.yaml'), '--json'], planCommand.flags), io(dir, whole))).toBe(0);
    expect(chunks.join('')).toBe(whole.join(''));
    expect((JSON.parse(whole.join('')) as { steps: unknown[] }).steps).toHaveLength(1200);
  });
});
