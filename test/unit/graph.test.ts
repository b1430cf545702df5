import { describe, expect, it } from 'vitest';
import { findCycle } from '../../engine/graph/find-cycle.js';
import { topoSort } from '../../engine/graph/topo-sort.js';
import { findExpressions, resolveParams } from '../../engine/workflow/expressions.js';

describe('graph', () => {
  it('finds a cycle as a closed path', () => {
    expect(findCycle(['a', 'b', 'c'], new Map([['a', ['b']], ['b', ['c']], ['c', ['a']]]))).toEqual(['a', 'b', 'c', 'a']);
    expect(findCycle(['a', 'b'], new Map([['a', ['b']]]))).toBeUndefined();
  });

  it('sorts dependencies first and keeps file order among independent steps', () => {
    expect(topoSort(['d', 'c', 'b', 'a'], new Map([['d', ['a']], ['b', ['c']]]))).toEqual(['c', 'b', 'a', 'd']);
  });

  it('sorts 10,000 chained steps', () => {
    const nodes = Array.from({ length: 10_000 }, (_, i) => `s${i}`);
    const deps = new Map(nodes.map((n, i) => [n, i > 0 ? [`s${i - 1}`] : []]));
    expect(topoSort([...nodes].reverse(), deps)).toEqual(nodes);
  });
});

describe('expressions', () => {
  it('parses both forms and flags others', () => {
    expect(findExpressions('${{ params.a }}-${{ steps.s.outputs.p }}-${{ nope }}').map((m) => m.expression ?? null)).toEqual([
      { kind: 'param', name: 'a' },
      { kind: 'step-output', step: 's', port: 'p' },
      null,
    ]);
    expect(findExpressions('x ${{ params.a').map((m) => m.source)).toEqual(['${{ params.a']);
  });

  it('keeps the type of a whole-string param and interpolates otherwise', () => {
    expect(resolveParams({ k: '${{ params.k }}', p: 'data/${{ params.k }}.fa', list: ['${{ params.b }}'] }, { k: 6, b: true })).toEqual({ k: 6, p: 'data/6.fa', list: [true] });
  });
});
