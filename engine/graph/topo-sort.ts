// Owns topological ordering of steps: dependencies first, ties broken by the order given (file order),
// so plans read in the order users wrote them. Kahn's algorithm: linear in nodes + edges.

/** `dependencies.get(x)` lists what x depends on. Assumes no cycle (checked before). */
export function topoSort(nodes: readonly string[], dependencies: ReadonlyMap<string, readonly string[]>): string[] {
  // Works on file positions (numbers), not names: one name lookup per edge, then arrays only.
  const position = new Map<string, number>();
  nodes.forEach((n, i) => position.set(n, i));
  const positions = nodes.map((node) => {
    const on: number[] = [];
    for (const dep of dependencies.get(node) ?? []) {
      const d = position.get(dep);
      if (d !== undefined) on.push(d);
    }
    return on;
  });
  return topoSortPositions(positions).map((i) => nodes[i]!);
}

/**
 * topoSort of nodes named by position: `dependencies[i]` lists the positions node i depends on. With a cycle,
 * the order leaves out the nodes on it and those that depend on them.
 */
export function topoSortPositions(dependencies: readonly (readonly number[] | undefined)[]): number[] {
  const count = dependencies.length;
  const remaining = new Int32Array(count);
  // Who depends on each node, in one array (node d's dependents from first[d] to first[d + 1]), not
  // 100,000 small arrays; each node's in file order, as the lists were filled.
  const first = new Int32Array(count + 1);
  for (let i = 0; i < count; i++) {
    for (const d of dependencies[i] ?? []) {
      remaining[i]!++;
      first[d + 1]!++;
    }
  }
  for (let d = 0; d < count; d++) first[d + 1]! += first[d]!;
  const dependents = new Int32Array(first[count]!);
  const filled = first.slice(0, count);
  for (let i = 0; i < count; i++) for (const d of dependencies[i] ?? []) dependents[filled[d]!++] = i;
  // A binary heap on file position keeps ties in file order without sorting at every step.
  const heap: number[] = [];
  const push = (i: number): void => {
    let c = heap.length;
    heap.push(i);
    while (c > 0) {
      const p = (c - 1) >> 1;
      if (heap[p]! <= i) break;
      heap[c] = heap[p]!;
      c = p;
    }
    heap[c] = i;
  };
  const pop = (): number => {
    const top = heap[0]!;
    const last = heap.pop()!;
    const n = heap.length;
    if (n > 0) {
      let p = 0;
      for (;;) {
        const l = 2 * p + 1;
        if (l >= n) break;
        const m = l + 1 < n && heap[l + 1]! < heap[l]! ? l + 1 : l;
        if (heap[m]! >= last) break;
        heap[p] = heap[m]!;
        p = m;
      }
      heap[p] = last;
    }
    return top;
  };
  for (let i = 0; i < count; i++) if (remaining[i] === 0) push(i);
  const order: number[] = [];
  while (heap.length > 0) {
    const i = pop();
    order.push(i);
    for (let k = first[i]!; k < first[i + 1]!; k++) {
      const next = dependents[k]!;
      if (--remaining[next]! === 0) push(next);
    }
  }
  return order;
}
