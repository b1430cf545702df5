// bench/yaml-parse: why Strand has three YAML readers. parseYamlSource reads a file of plain mappings
// with parseSimpleYaml, anything else with js-yaml, and builds the `yaml` library's positioned Document only
// when a diagnostic needs a position; a file with an alias (or a syntax error) goes through `yaml` alone.
// All three paths here read plan-scale's workflow of 10,000 steps: as generated, with one block sequence
// added to force js-yaml, and with one alias added to force `yaml`.
import { parseYamlSource } from '../engine/workflow/yaml-source.js';
import type { BenchResult } from './bench-result.js';
import { timeIt } from './bench-tools.js';
import { strandWorkflow } from './plan-scale.js';

export async function yamlParse(): Promise<BenchResult> {
  const text = strandWorkflow(10_000);
  const withSequence = `${text}x-list:\n  - bench\n`;
  const withAlias = `${text}x-note: &note bench\nx-again: *note\n`;
  const parse = (t: string): void => {
    if (parseYamlSource('flow.yaml', t).source === undefined) throw new Error('bench workflow does not parse');
  };
  const simple = await timeIt(() => parse(text));
  const fast = await timeIt(() => parse(withSequence));
  const positioned = await timeIt(() => parse(withAlias));
  return {
    name: 'yaml-parse',
    figures: [
      { label: 'parseYamlSource, 10000 steps, parseSimpleYaml path', value: simple, unit: 'ms' },
      { label: 'parseYamlSource, 10000 steps, js-yaml path (one block sequence)', value: fast, unit: 'ms' },
      { label: 'parseYamlSource, 10000 steps, `yaml` path (one alias)', value: positioned, unit: 'ms' },
    ],
    ratios: [
      { label: '`yaml` path / js-yaml path, 10000 steps', value: positioned / fast },
      { label: 'js-yaml path / parseSimpleYaml path, 10000 steps', value: fast / simple },
    ],
    notes: [],
  };
}
