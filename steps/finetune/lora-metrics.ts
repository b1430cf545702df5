// Owns the `metrics` artifact of finetune/nt-lora, in the convention the run report reads
// (engine/report/metric-points.ts), x column `step`. Two kinds of row: one per optimizer step (level null)
// with the training loss (`train_loss`, the level-weighted sum), learning rate (`lr`), gradient norm and
// tokens/s; and one per evaluation and level (the level is the text qualifier) with the validation loss,
// accuracy and macro-F1 of that level, and the memory per device (MiB, from the compiled step; equal on each
// level's row, so drawn once). A column a row kind does not have is null there.
import type { Table } from 'apache-arrow';
import { arrow } from '../../engine/index.js';

/** One optimizer step, as the trainer records it (metrics.json `steps`). */
export interface LoraStep {
  step: number;
  loss: number;
  lr: number;
  grad_norm: number;
  tokens_per_second: number;
}

/** One evaluation on the validation split (metrics.json `evals`, and the trainer's `eval` event). */
export interface LoraEval {
  step: number;
  levels: { level: string; loss: number | null; accuracy: number; macro_f1: number; examples: number }[];
  lr: number;
  grad_norm: number;
  tokens_per_second: number;
  memory_per_device: number | null;
}

export interface LoraHistory {
  steps: LoraStep[];
  evals: LoraEval[];
}

interface Row {
  step: number;
  train?: LoraStep;
  level?: LoraEval['levels'][number];
  memory?: number | null;
}

export function loraMetricsTable(history: LoraHistory): Table {
  const rows: Row[] = [
    ...history.steps.map((s): Row => ({ step: s.step, train: s })),
    ...history.evals.flatMap((e) => e.levels.map((l): Row => ({ step: e.step, level: l, memory: e.memory_per_device }))),
  ];
  const float = (pick: (r: Row) => number | null | undefined) =>
    arrow.vectorFromArray(
      rows.map((r) => pick(r) ?? null),
      new arrow.Float64(),
    );
  return new arrow.Table({
    step: arrow.vectorFromArray(
      rows.map((r) => r.step),
      new arrow.Int32(),
    ),
    level: arrow.vectorFromArray(
      rows.map((r) => r.level?.level ?? null),
      new arrow.Utf8(),
    ),
    train_loss: float((r) => r.train?.loss),
    lr: float((r) => r.train?.lr),
    grad_norm: float((r) => r.train?.grad_norm),
    tokens_per_second: float((r) => r.train?.tokens_per_second),
    loss: float((r) => r.level?.loss),
    accuracy: float((r) => r.level?.accuracy),
    macro_f1: float((r) => r.level?.macro_f1),
    examples: arrow.vectorFromArray(
      rows.map((r) => r.level?.examples ?? null),
      new arrow.Int32(),
    ),
    memory_per_device_mib: float((r) => (r.memory === undefined || r.memory === null ? null : r.memory / 2 ** 20)),
  });
}
