// Owns cycle detection in the step graph: returns one cycle as a closed path (a -> b -> a). Iterative, so a
// chain of any length (a 100,000-step workflow) cannot overflow the stack.

export function findCycle(nodes: readonly string[], edges: ReadonlyMap<string, readonly string[]>): string[] | undefined {
  const state = new Map<string, 'visiting' | 'done'>();
  for (const start of nodes) {
    if (state.has(start)) continue;
    // The path from `start`, each node with the position of the next edge to follow.
    const path: string[] = [start];
    const next: number[] = [0];
    state.set(start, 'visiting');
    while (path.length > 0) {
      const node = path.at(-1)!;
      const out = edges.get(node) ?? [];
      const i = next[next.length - 1]!;
      if (i === out.length) {
        state.set(node, 'done');
        path.pop();
        next.pop();
        continue;
      }
      next[next.length - 1] = i + 1;
      const target = out[i]!;
      const seen = state.get(target);
      if (seen === 'visiting') return [...path.slice(path.indexOf(target)), target];
      if (seen === undefined) {
        state.set(target, 'visiting');
        path.push(target);
        next.push(0);
      }
    }
  }
  return undefined;
}
