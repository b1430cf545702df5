import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { findCycle } from '../../engine/graph/find-cycle.js';
import { topoSort, topoSortPositions } from '../../engine/graph/topo-sort.js';

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

  it('follows a chain of 200,000 steps without running out of stack, and finds the cycle that closes it', () => {
    const nodes = Array.from({ length: 200_000 }, (_, i) => `s${i}`);
    const chain = new Map(nodes.slice(1).map((n, i) => [n, [nodes[i]!]]));
    expect(findCycle(nodes.toReversed(), chain)).toBeUndefined();
    chain.set('s0', ['s199999']);
    const cycle = findCycle(nodes, chain)!;
    expect([cycle.length, cycle[0], cycle.at(-1)]).toEqual([200_001, 's0', 's0']);
  });

  it('reports a self-loop and a cycle reached from a node outside it', () => {
    expect(findCycle(['a'], new Map([['a', ['a']]]))).toEqual(['a', 'a']);
    expect(
      findCycle(
        ['x', 'a', 'b'],
        new Map([
          ['x', ['a']],
          ['a', ['b']],
          ['b', ['a']],
        ]),
      ),
    ).toEqual(['a', 'b', 'a']);
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

  it('orders by position as repeatedly taking the first step whose dependencies are done (random graphs, cycles too)', () => {
    fc.assert(
      fc.property(
        fc.nat({ max: 30 }).chain((n) => fc.tuple(fc.constant(n), fc.array(fc.tuple(fc.nat(n), fc.nat(n)), { maxLength: 60 }))),
        ([n, pairs]) => {
          const deps = Array.from({ length: n + 1 }, (_, i) => pairs.filter(([from]) => from === i).map(([, to]) => to));
          const order: number[] = [];
          const done = new Set<number>();
          for (;;) {
            const next = deps.findIndex((on, i) => !done.has(i) && on.every((d) => done.has(d)));
            if (next === -1) break;
            order.push(next);
            done.add(next);
          }
          expect(topoSortPositions(deps)).toEqual(order);
        },
      ),
      { numRuns: 2000, seed: 27 },
    );
  });
});
