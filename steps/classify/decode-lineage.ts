// Owns decoding a lineage from per-level probabilities: the most probable path among those seen in
// training (so a genus sits inside its family), scored by the sum of log-probabilities, with the
// per-level confidence of the chosen labels.

export function decodeLineage(probs: readonly ArrayLike<number>[], paths: readonly number[][]): { path: number[]; confidence: number[] } {
  if (paths.length === 0) {
    const path = probs.map((p) => {
      let best = 0;
      for (let i = 1; i < p.length; i++) if (p[i]! > p[best]!) best = i;
      return best;
    });
    return { path, confidence: path.map((c, l) => probs[l]![c]!) };
  }
  let best = paths[0]!;
  let bestScore = -Infinity;
  for (const path of paths) {
    let score = 0;
    for (let l = 0; l < path.length; l++) score += Math.log(Math.max(probs[l]![path[l]!]!, 1e-30));
    if (score > bestScore) {
      bestScore = score;
      best = path;
    }
  }
  return { path: best, confidence: best.map((c, l) => probs[l]![c]!) };
}
