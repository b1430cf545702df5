// Owns saying where a TPU step's memory and FLOP figures came from, for the plan's text and TUI views:
// XLA's pre-flight (compiled now, or cached; batch: auto's search) or the formula, and why.
import type { PreflightOutcome } from './step-placement-plan.js';

/** Where the memory and FLOP figures came from: XLA (compiled now or cached) or the formula, and why. */
export function preflightText(pre: PreflightOutcome): string {
  if (pre.source === 'formula') return `formula estimate (no XLA pre-flight: ${pre.why})`;
  const a = pre.answer;
  const auto = a.batch_search
    ? `; batch: auto chose ${a.per_device_batch}/dev by ${a.batch_search.method} (${a.batch_search.tried.length} compiles)`
    : '';
  return `XLA pre-flight on ${pre.topology}${pre.hosts > 1 ? ` per host x${pre.hosts}` : ''} (${pre.cached ? 'cached' : 'compiled'}, buckets ${a.buckets.map((b) => b.length).join('/')})${auto}`;
}
