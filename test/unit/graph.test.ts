import { describe, expect, it } from 'vitest';
import { findCycle } from '../../engine/graph/find-cycle.js';
import { topoSort } from '../../engine/graph/topo-sort.js';

describe('graph', () => {
  it('finds a cycle as a closed path', () => {
    expect(
      findCycle(
        ['a', 'b', 'c'],
        new Map([
          ['a', ['b']],
          ['b', ['c']],
          ['c', ['a']],
        ]),
      ),
    ).toEqual(['a', 'b', 'c', 'a']);
    expect(findCycle(['a', 'b'], new Map([['a', ['b']]]))).toBeUndefined();
  });

  it('sorts dependencies first and keeps file order among independent steps', () => {
    expect(
      topoSort(
        ['d', 'c', 'b', 'a'],
        new Map([
          ['d', ['a']],
          ['b', ['c']],
        ]),
      ),
    ).toEqual(['c', 'b', 'a', 'd']);
  });

  it('sorts 10,000 chained steps', () => {
    const nodes = Array.from({ length: 10_000 }, (_, i) => `s${i}`);
    const deps = new Map(nodes.map((n, i) => [n, i > 0 ? [`s${i - 1}`] : []]));
    expect(topoSort([...nodes].reverse(), deps)).toEqual(nodes);
  });
});
