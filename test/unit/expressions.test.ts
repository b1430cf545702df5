import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  expressionsIn,
  findExpressions,
  formatStepOutput,
  locateExpression,
  parseReference,
  resolveParams,
  substituteParams,
} from '../../engine/workflow/expressions.js';
import { mapStrings } from '../../engine/workflow/map-strings.js';
import { yamlSource } from '../helpers/fake-source.js';

describe('expressions', () => {
  it('parses the three forms and flags others', () => {
    expect(
      findExpressions('${{ params.a }}-${{ steps.s.outputs.p }}-${{ inputs.i }}-${{ nope }}').map((m) => m.expression ?? null),
    ).toEqual([{ kind: 'param', name: 'a' }, { kind: 'step-output', step: 's', port: 'p' }, { kind: 'recipe-input', port: 'i' }, null]);
    expect(findExpressions('x ${{ params.a').map((m) => m.source)).toEqual(['${{ params.a']);
  });

  it('reads a string as a reference only when it is exactly one expression', () => {
    expect(parseReference('${{ steps.embed.tok.outputs.tokens }}')).toEqual({ kind: 'step-output', step: 'embed.tok', port: 'tokens' });
    expect(parseReference('${{ steps.a.outputs.b }} ')).toBeUndefined();
    expect(parseReference('${{ params.a }}${{ params.b }}')).toBeUndefined();
    expect(parseReference(7)).toBeUndefined();
  });

  it('writes a step-output reference that reads back as the same wire', () => {
    const id = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_-]*$/);
    fc.assert(
      fc.property(fc.array(id, { minLength: 1, maxLength: 3 }), id, (parts, port) => {
        const wire = { step: parts.join('.'), port };
        expect(parseReference(formatStepOutput(wire))).toEqual({ kind: 'step-output', ...wire });
      }),
      { seed: 12 },
    );
  });

  it('keeps the type of a whole-string param and interpolates otherwise', () => {
    expect(resolveParams({ k: '${{ params.k }}', p: 'data/${{ params.k }}.fa', list: ['${{ params.b }}'] }, { k: 6, b: true })).toEqual({
      k: 6,
      p: 'data/6.fa',
      list: [true],
    });
    expect(substituteParams('${{ params.opts }}', { opts: { a: 1 } })).toEqual({ a: 1 });
  });

  it('leaves unknown params, other expressions and unclosed text as written', () => {
    expect(substituteParams('${{ params.x }}/${{ params.k }}/${{ steps.s.outputs.p }}/${{ params.k', { k: 2 })).toBe(
      '${{ params.x }}/2/${{ steps.s.outputs.p }}/${{ params.k',
    );
    expect(substituteParams('${{params.k}}${{ params.k }}', { k: 'ab' })).toBe('abab');
    expect(substituteParams('plain', { k: 1 })).toBe('plain');
  });

  it('does not take names of Object properties for param values', () => {
    expect(substituteParams('${{ params.toString }}', {})).toBe('${{ params.toString }}');
    expect(substituteParams('a ${{ params.constructor }}', {})).toBe('a ${{ params.constructor }}');
  });

  it('finds every expression in a value with the path of its string', () => {
    const found = expressionsIn({ a: ['x ${{ params.k }}'], b: { c: '${{ nope }} ${{ params.j }}' }, d: 3 }, ['with']);
    expect(found.map(({ path, match }) => [path, match.source])).toEqual([
      [['with', 'a', 0], '${{ params.k }}'],
      [['with', 'b', 'c'], '${{ nope }}'],
      [['with', 'b', 'c'], '${{ params.j }}'],
    ]);
  });

  it('locates an expression inside its string', () => {
    const source = yamlSource('with:\n  path: "data/${{ params.name }}.fa"\n');
    const [found] = expressionsIn((source.value as { with: unknown }).with, ['with']);
    expect(locateExpression(source, found!.path, found!.match)).toEqual({ file: 'flow.yaml', line: 2, column: 15, length: 18 });
  });

  it('reads a reference as the one whole expression findExpressions finds in it (random strings)', () => {
    const whole = (text: string) => {
      const matches = findExpressions(text);
      return matches.length === 1 && matches[0]!.length === text.length ? matches[0]!.expression : undefined;
    };
    const piece = fc.constantFrom('${{', '}}', '}', '{', ' ', 'steps.a.outputs.b', 'params.p', 'inputs.i', '.', 'a', '\n', '\u2028', '$');
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 8 }), (pieces) => {
        const text = pieces.join('');
        expect(parseReference(text)).toEqual(whole(text));
      }),
      { numRuns: 5000, seed: 27 },
    );
    expect(parseReference('${{ steps.s1.outputs.out }}')).toEqual({ kind: 'step-output', step: 's1', port: 'out' });
  });

  it('substitutes params into every string of a value, and copies one without expressions (random values)', () => {
    const text = fc.oneof(
      fc.string({ maxLength: 6 }),
      fc.constantFrom('${{ params.k }}', 'x-${{ params.s }}', '${{ params.nope }}', '${{'),
    );
    const json = fc.letrec((tie) => ({
      value: fc.oneof({ depthSize: 'small' }, text, fc.integer(), fc.constant(null), tie('list'), tie('map')),
      list: fc.array(tie('value'), { maxLength: 3 }),
      map: fc.dictionary(fc.string({ maxLength: 3 }), tie('value'), { maxKeys: 3 }),
    })).value;
    const values = { k: 6, s: 'x' };
    fc.assert(
      fc.property(json, (value) => {
        expect(resolveParams(value, values)).toStrictEqual(mapStrings(value, (t) => substituteParams(t, values)));
      }),
      { numRuns: 1000, seed: 27 },
    );
  });
});
