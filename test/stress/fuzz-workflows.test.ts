// Fuzzed workflow files: thousands of broken variants of the workflows in workflows/ (deleted and
// duplicated lines, bad indentation, wrong types, huge values, non-UTF-8 bytes, anchors and aliases,
// cycles, unknown steps). Every one loads without an exception and, if invalid, gives at least one
// `path:line:column: error:` diagnostic; a sample goes through the real CLI (exit 1, no stack trace).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { builtinSteps } from '../../steps/index.js';
import { formatDiagnostics } from '../../engine/diagnostics/format-diagnostic.js';
import { loadWorkflow } from '../../engine/load/load-workflow.js';
import { REPO, removeProjects, runCli, writeProject } from '../helpers/project.js';

afterAll(removeProjects);

const SEEDS = ['quickstart.yaml', 'gc-content.yaml', 'recipe-embed.yaml'].map((f) => readFileSync(join(REPO, 'workflows', f), 'utf8'));
const RUNS = Number(process.env.STRAND_FUZZ_RUNS ?? 2000);

const weird = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.constantFrom(
    '1e309',
    '-1',
    '0',
    'true',
    'null',
    '~',
    '[]',
    '{}',
    '"',
    "'",
    '&x',
    '*x',
    '${{',
    '${{ params.nope }}',
    '${{ steps.x.outputs.y }}',
    '\t',
    ': :',
    '- -',
    'a'.repeat(10_000),
    '\uFFFD\uFFFD',
    '\u0000',
  ),
  fc.integer(),
  fc.double({ noNaN: false }).map(String),
);

type Mutation = (lines: string[]) => string[];
const at = (lines: string[], i: number) => Math.abs(i) % Math.max(1, lines.length);

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.nat().map((i) => (lines: string[]) => lines.filter((_, j) => j !== at(lines, i))),
  fc.nat().map((i) => (lines: string[]) => lines.flatMap((l, j) => (j === at(lines, i) ? [l, l] : [l]))),
  fc.tuple(fc.nat(), fc.constantFrom('  ', ' ', '\t', '    ')).map(
    ([i, pad]) =>
      (lines: string[]) =>
        lines.map((l, j) => (j === at(lines, i) ? pad + l : l)),
  ),
  fc.nat().map((i) => (lines: string[]) => lines.map((l, j) => (j === at(lines, i) ? l.trimStart() : l))),
  fc.tuple(fc.nat(), weird).map(
    ([i, value]) =>
      (lines: string[]) =>
        lines.map((l, j) => (j === at(lines, i) ? l.replace(/: .*$/, `: ${value}`) : l)),
  ),
  fc.tuple(fc.nat(), weird).map(
    ([i, value]) =>
      (lines: string[]) =>
        lines.map((l, j) => (j === at(lines, i) ? l.replace(/\b(\w+)\b/, String(value)) : l)),
  ),
  fc
    .nat()
    .map((i) => (lines: string[]) => [...lines.slice(0, at(lines, i)), 'x: &anchor [1, 2, 3]', 'y: *anchor', ...lines.slice(at(lines, i))]),
  fc.constant((lines: string[]) => lines.map((l) => l.replace('needs: [source]', 'needs: [source, vectors]'))),
  fc.constant((lines: string[]) => lines.map((l) => l.replace(/needs: \[(\w+)/, 'needs: [$1x'))),
  fc.constant((lines: string[]) => lines.map((l) => l.replace(/uses: \S+/, 'uses: nope/nope'))),
);

async function check(text: string): Promise<void> {
  const file = 'fuzzed.yaml';
  const dir = writeProject({ [file]: text });
  const loaded = await loadWorkflow(join(dir, file), { builtins: builtinSteps, workdir: REPO, env: {} });
  if (!loaded.ok) {
    const { diagnostics, texts } = loaded.error;
    expect(diagnostics.some((d) => d.severity === 'error')).toBe(true);
    for (const d of diagnostics) {
      expect(d.location.line).toBeGreaterThanOrEqual(1);
      expect(d.location.column).toBeGreaterThanOrEqual(1);
    }
    expect(formatDiagnostics(diagnostics, (f) => texts.get(f))).toMatch(/^.+:\d+:\d+: error: .+/m);
  } else {
    expect(loaded.value.diagnostics.every((d) => d.severity === 'warning')).toBe(true);
  }
}

describe('fuzzed workflow files', () => {
  it(`load without an exception and locate every error (${RUNS} variants)`, async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: SEEDS.length - 1 }), fc.array(mutation, { minLength: 1, maxLength: 4 }), async (seed, mutations) => {
        const lines = mutations.reduce((ls, m) => m(ls), SEEDS[seed]!.split('\n'));
        await check(lines.join('\n'));
      }),
      { numRuns: RUNS, seed: Number(process.env.STRAND_FUZZ_SEED ?? 20261123) },
    );
  });

  it('refuses a billion-laughs alias bomb', async () => {
    const lines = ['version: 1', 'name: bomb', 'a0: &a0 [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 10; i++)
      lines.push(
        `a${i}: &a${i} [${Array(10)
          .fill(`*a${i - 1}`)
          .join(', ')}]`,
      );
    lines.push('steps:', '  s: { uses: source/fasta, with: { path: "*a9" } }');
    const dir = writeProject({ 'bomb.yaml': lines.join('\n') });
    const loaded = await loadWorkflow(join(dir, 'bomb.yaml'), { builtins: builtinSteps, workdir: REPO, env: {} });
    expect(!loaded.ok && loaded.error.diagnostics.map((d) => d.code)).toEqual(['yaml-alias-limit']);
  });

  it('loads non-UTF-8 bytes as replacement characters and reports the damage', async () => {
    const bytes = Buffer.concat([Buffer.from(SEEDS[0]!.slice(0, 200)), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from(SEEDS[0]!.slice(200))]);
    const dir = writeProject({ 'bytes.yaml': bytes });
    const result = runCli(['validate', 'bytes.yaml'], dir);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/^bytes.yaml:\d+:\d+: error: /m);
  });

  it('exits 1 with located errors and no stack trace through the real CLI', () => {
    const samples = fc.sample(fc.tuple(fc.nat({ max: SEEDS.length - 1 }), fc.array(mutation, { minLength: 1, maxLength: 3 })), {
      numRuns: 12,
      seed: 7,
    });
    for (const [seed, mutations] of samples) {
      const text = mutations.reduce((ls, m) => m(ls), SEEDS[seed]!.split('\n')).join('\n');
      const dir = writeProject({ 'f.yaml': text });
      const result = runCli(['validate', 'f.yaml'], dir);
      expect([0, 1]).toContain(result.status);
      expect(result.stderr).not.toMatch(/internal-error|\n\s+at .+\.js:\d+/);
      if (result.status === 1) expect(result.stderr).toMatch(/^f.yaml:\d+:\d+: error: /m);
    }
  });
});
