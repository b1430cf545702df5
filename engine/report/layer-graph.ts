// Owns placing a workflow's steps for drawing: columns by longest path from a source step, rows in
// workflow order within a column. Pure; the report's graph chart draws these positions.

export interface PlacedNode {
  id: string;
  column: number;
  row: number;
}

export function layerGraph(nodes: readonly string[], edges: readonly { from: string; to: string }[]): PlacedNode[] {
  const column = new Map<string, number>();
  const depth = (id: string, seen: ReadonlySet<string>): number => {
    const known = column.get(id);
    if (known !== undefined) return known;
    // A checked workflow has no cycle; `seen` keeps a hand-edited journal from recursing forever.
    const parents = edges.filter((e) => e.to === id && !seen.has(e.from) && nodes.includes(e.from));
    const d = parents.length === 0 ? 0 : 1 + Math.max(...parents.map((p) => depth(p.from, new Set([...seen, id]))));
    column.set(id, d);
    return d;
  };
  const rows = new Map<number, number>();
  return nodes.map((id) => {
    const c = depth(id, new Set([id]));
    const row = rows.get(c) ?? 0;
    rows.set(c, row + 1);
    return { id, column: c, row };
  });
}
