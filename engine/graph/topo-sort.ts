// Owns topological ordering of steps: dependencies first, ties broken by the order given (file order),
// so plans read in the order users wrote them. Kahn's algorithm: linear in nodes + edges.

/** `dependencies.get(x)` lists what x depends on. Assumes no cycle (checked before). */
export function topoSort(nodes: readonly string[], dependencies: ReadonlyMap<string, readonly string[]>): string[] {
  const position = new Map(nodes.map((n, i) => [n, i]));
  const dependents = new Map<string, string[]>(nodes.map((n) => [n, []]));
  const remaining = new Map<string, number>();
  for (const node of nodes) {
    const deps = (dependencies.get(node) ?? []).filter((d) => position.has(d));
    remaining.set(node, deps.length);
    for (const dep of deps) dependents.get(dep)!.push(node);
  }
  // A binary heap on file position keeps ties in file order without sorting at every step.
  const heap: number[] = [];
  const push = (i: number): void => {
    heap.push(i);
    let c = heap.length - 1;
    while (c > 0) {
      const p = (c - 1) >> 1;
      if (heap[p]! <= heap[c]!) break;
      [heap[p], heap[c]] = [heap[c]!, heap[p]!];
      c = p;
    }
  };
  const pop = (): number => {
    const top = heap[0]!;
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      let p = 0;
      for (;;) {
        const l = 2 * p + 1;
        const r = l + 1;
        let m = p;
        if (l < heap.length && heap[l]! < heap[m]!) m = l;
        if (r < heap.length && heap[r]! < heap[m]!) m = r;
        if (m === p) break;
        [heap[p], heap[m]] = [heap[m]!, heap[p]!];
        p = m;
      }
    }
    return top;
  };
  nodes.forEach((n, i) => remaining.get(n) === 0 && push(i));
  const order: string[] = [];
  while (heap.length > 0) {
    const node = nodes[pop()]!;
    order.push(node);
    for (const next of dependents.get(node)!) {
      const left = remaining.get(next)! - 1;
      remaining.set(next, left);
      if (left === 0) push(position.get(next)!);
    }
  }
  return order;
}
