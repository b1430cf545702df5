// bench/yaml-parse: why Strand has two YAML parsers. parseYamlSource reads a file with js-yaml and
// builds the `yaml` library's positioned Document only when a diagnostic needs a position; a file with
// an alias (or a syntax error) goes through `yaml` alone. Both paths here read plan-scale's workflow of
// 10,000 steps, the second with one alias added to force it.
import { parseYamlSource } from '../engine/workflow/yaml-source.js';
import type { BenchResult } from './bench-result.js';
import { timeIt } from './bench-tools.js';
import { strandWorkflow } from './plan-scale.js';

export async function yamlParse(): Promise<BenchResult> {
  const text = strandWorkflow(10_000);
  const withAlias = `${text}x-note: &note bench\nx-again: *note\n`;
  const parse = (t: string): void => {
    if (parseYamlSource('flow.yaml', t).source === undefined) throw new Error('bench workflow does not parse');
  };
  const fast = await timeIt(() => parse(text));
  const positioned = await timeIt(() => parse(withAlias));
  return {
    name: 'yaml-parse',
    figures: [
      { label: 'parseYamlSource, 10000 steps, js-yaml path', value: fast, unit: 'ms' },
      { label: 'parseYamlSource, 10000 steps, `yaml` path (one alias)', value: positioned, unit: 'ms' },
    ],
    ratios: [{ label: '`yaml` path / js-yaml path, 10000 steps', value: positioned / fast }],
    notes: [],
  };
}
