// Owns the `metrics` artifact of finetune/nt-lora, in the convention the run report reads
// (engine/report/metric-points.ts): one row per evaluation and level, x column `step`, the level as the text
// qualifier; loss, accuracy and macro-F1 per level, and the learning rate (`lr`), gradient norm, tokens/s and
// memory per device (MiB, from the compiled step) repeated on each level's row (drawn once).
import type { Table } from 'apache-arrow';
import { arrow } from '../../engine/index.js';

export interface LoraEval {
  step: number;
  levels: { level: string; loss: number | null; accuracy: number; macro_f1: number; examples: number }[];
  lr: number;
  grad_norm: number;
  tokens_per_second: number;
  memory_per_device: number | null;
}

export function loraMetricsTable(evals: readonly LoraEval[]): Table {
  const rows = evals.flatMap((e) => e.levels.map((l) => ({ e, l })));
  const float = (values: (number | null)[]) => arrow.vectorFromArray(values, new arrow.Float64());
  return new arrow.Table({
    step: arrow.vectorFromArray(rows.map((r) => r.e.step), new arrow.Int32()),
    level: arrow.vectorFromArray(rows.map((r) => r.l.level), new arrow.Utf8()),
    loss: float(rows.map((r) => r.l.loss)),
    accuracy: float(rows.map((r) => r.l.accuracy)),
    macro_f1: float(rows.map((r) => r.l.macro_f1)),
    examples: arrow.vectorFromArray(rows.map((r) => r.l.examples), new arrow.Int32()),
    lr: float(rows.map((r) => r.e.lr)),
    grad_norm: float(rows.map((r) => r.e.grad_norm)),
    tokens_per_second: float(rows.map((r) => r.e.tokens_per_second)),
    memory_per_device_mib: float(rows.map((r) => (r.e.memory_per_device === null ? null : r.e.memory_per_device / 2 ** 20))),
  });
}
