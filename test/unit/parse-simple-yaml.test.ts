// parseSimpleYaml against its oracle, js-yaml (core schema): wherever it answers, the answer is js-yaml's,
// on the repository's YAML, on generated documents full of constructs at the edge of its subset, and on
// those documents and the workflows with characters inserted, deleted and replaced.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { load, CORE_SCHEMA } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { parseSimpleYaml } from '../../engine/workflow/parse-simple-yaml.js';
import { strandWorkflow } from '../../bench/plan-scale.js';
import { REPO } from '../helpers/project.js';

const FILES = ['quickstart', 'gc-content', 'taxonomy', 'lora', 'novelty', 'recipe-embed'].map((name) =>
  readFileSync(join(REPO, 'workflows', `${name}.yaml`), 'utf8'),
);
FILES.push(readFileSync(join(REPO, 'recipes', 'nt-embed.yaml'), 'utf8'), strandWorkflow(300));

/** js-yaml's value, or the error it throws. */
function oracle(text: string): { value: unknown } | { error: string } {
  try {
    return { value: load(text, { schema: CORE_SCHEMA }) };
  } catch (error) {
    return { error: (error as Error).message };
  }
}

/** Checks one text; true when parseSimpleYaml answered. */
function agrees(text: string): boolean {
  const fast = parseSimpleYaml(text);
  if (fast === undefined) return false;
  // isDeepStrictEqual compares prototypes, not `constructor` properties (a key like any other here).
  const expected = oracle(text);
  if (!('value' in expected) || !isDeepStrictEqual(expected.value, fast.value))
    expect({ text, fast: fast.value }).toEqual({ text, ...expected });
  return true;
}

const KEYS = [
  ...'abcdefghijklmnop'.split(''),
  'name',
  'steps',
  's1',
  'with',
  'uses',
  'true',
  'True',
  'null',
  'NULL',
  '1',
  '007',
  '0x1F',
  '0o7',
  '1e3',
  '1_0',
];
const MORE_KEYS = ['.5', 'a.b', 'a-b', '__proto__', 'constructor', 'toString', '-a', 'a b', '"q"', "'s'", '? a', '~', '<<'];
const SCALARS = [
  ...['x', 'source/fasta', './noop.mjs', 'workflows/data/sample.fasta.gz', 'a b', 'a#b', 'a:b', 'http://x/y', '-1', '-x', '+1'],
  ...['', '~', 'null', 'Null', 'TRUE', 'false', 'yes', 'no', '0', '007', '0o17', '0x1F', '0b11', '1_000', '1.5e3', '.5', '-.5'],
  ...['.inf', '-.Inf', '.NaN', '1e400', '12345678901234567890', '"q"', '"${{ steps.s0.outputs.out }}"', "'s'", '"a #b"', '"a: b"'],
];
const EDGY = [
  ...["'it''s'", '"a\\"b"', '"a\\nb"', 'x: y', 'a #b', '-', '- x', '?x', ':x', 'x:', '&a x', '*a', '!!str x', '|', '>', '%x'],
  ...['@x', '`x', 'a, b', 'a]', 'a}', '{a}', '{a: }', '{a:1}', '{a: 1,}', '[a,]', '[a, , b]', '{ }', '[ ]', '[a: b]', '{"a": 1}'],
  ...['[a, [b, {c: d}], {e: [f]}]', '{a: [b, c], d: {e: f}}', '{ a : 1 }', '[a #b]', '{a: b c}', '[-1, -x, - y]', '"x" y'],
];
const scalar = fc.oneof({ weight: 12, arbitrary: fc.constantFrom(...SCALARS) }, { weight: 1, arbitrary: fc.constantFrom(...EDGY) });
const key = fc.oneof({ weight: 12, arbitrary: fc.constantFrom(...KEYS) }, { weight: 1, arbitrary: fc.constantFrom(...MORE_KEYS) });
const flowValue: fc.Arbitrary<string> = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, scalar, tie('map'), tie('seq')),
  map: fc
    .array(fc.tuple(key, tie('value'), fc.constantFrom('', ' ')), { maxLength: 3 })
    .map((entries) => `{${entries.map(([k, v, pad]) => `${pad}${k}: ${v as string}`).join(',')} }`),
  seq: fc.array(tie('value'), { maxLength: 3 }).map((items) => `[${items.join(', ')}]`),
})).value as fc.Arbitrary<string>;
const comment = fc.constantFrom('', '', ' # note', '  #x', '#tight');

/** A block mapping at `indent`, with blank and comment lines between its entries. */
const blockMap = (indent: number, depth: number): fc.Arbitrary<string[]> =>
  fc
    .array(
      fc.oneof(
        fc.tuple(key, fc.oneof(scalar, flowValue), comment).map(([k, v, c]) => [`${' '.repeat(indent)}${k}: ${v}${c}`]),
        depth < 3
          ? fc
              .tuple(key, fc.constantFrom(2, 4, 1), comment, fc.constantFrom<string[]>([], [''], ['# c'], ['      # deep']))
              .chain(([k, step, c, between]) =>
                blockMap(indent + step, depth + 1).map((inner) => [`${' '.repeat(indent)}${k}:${c}`, ...between, ...inner]),
              )
          : fc.constant([`${' '.repeat(indent)}x: 1`]),
        fc.constantFrom(
          [''],
          ['   '],
          ['# top'],
          [''],
          ['   '],
          ['# top'],
          [`${' '.repeat(indent + 2)}continued`],
          [`${' '.repeat(indent)}- item`],
        ),
      ),
      { minLength: 1, maxLength: 5 },
    )
    .map((lines) => lines.flat());

const EDIT_CHARS = ' \n#:,-{}[]"\'&*!|>?%@`~\\\t\rx1.é'.split('');
const edits = fc.array(fc.tuple(fc.nat(), fc.nat({ max: 2 }), fc.constantFrom(...EDIT_CHARS)), { minLength: 1, maxLength: 3 });
function edit(text: string, changes: [number, number, string][]): string {
  let out = text;
  for (const [at, kind, c] of changes) {
    const i = at % (out.length + 1);
    out =
      kind === 0
        ? out.slice(0, i) + c + out.slice(i)
        : kind === 1
          ? out.slice(0, i) + out.slice(i + 1)
          : out.slice(0, i) + c + out.slice(i + 1);
  }
  return out;
}

describe('parseSimpleYaml', () => {
  it("reads the repository's workflows and plan-scale's generated one as js-yaml does", () => {
    for (const text of FILES.filter((t) => !t.includes('\t'))) agrees(text);
    expect(FILES.filter((text) => parseSimpleYaml(text) !== undefined).length).toBeGreaterThanOrEqual(6);
  });

  it('answers only with js-yaml’s value (generated documents at the edge of the subset)', () => {
    let answered = 0;
    fc.assert(
      fc.property(blockMap(0, 0), fc.boolean(), (lines, newline) => {
        if (agrees(lines.join('\n') + (newline ? '\n' : ''))) answered++;
      }),
      { numRuns: 5000, seed: 27 },
    );
    expect(answered).toBeGreaterThan(700);
  });

  it('answers only with js-yaml’s value (documents and workflows with characters edited)', () => {
    let answered = 0;
    fc.assert(
      fc.property(
        fc.oneof(
          fc.constantFrom(...FILES),
          blockMap(0, 0).map((l) => l.join('\n')),
        ),
        edits,
        (text, changes) => {
          if (agrees(edit(text, changes))) answered++;
        },
      ),
      { numRuns: 5000, seed: 2027 },
    );
    expect(answered).toBeGreaterThan(700);
  });

  it('resolves plain scalars as js-yaml does, whatever their first character', () => {
    const suffixes = ['', '1', '0', '.5', 'e3', '_1', 'x', 'rue', 'RUE', 'alse', 'ull', 'ULL', 'inf', 'nan', 'NaN', 'x1f', 'o7', 'b1'];
    for (let code = 0x21; code < 0x7f; code++)
      for (const suffix of suffixes) {
        const scalar = String.fromCharCode(code) + suffix;
        agrees(`a: ${scalar}\n${scalar}: b\nc: [${scalar}]\n`);
      }
  });

  it('leaves what it cannot be sure of to js-yaml', () => {
    for (const text of [
      '',
      '# only a comment\n',
      'a: 1\na: 2\n',
      'a: &x 1\nb: *x\n',
      'a: "x\\ty"\n',
      'a: |\n  text\n',
      'a:\n  - 1\n',
      'a: b\n  c\n',
      'a: {b: 1,\n  c: 2}\n',
      '---\na: 1\n',
      'a: é\n',
      'a:\tb\n',
      '__proto__: 1\n',
    ])
      expect(parseSimpleYaml(text), JSON.stringify(text)).toBeUndefined();
  });
});
