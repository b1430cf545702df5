// Test helper: the rows of a step's output, read from a project's store as the report reads them (the step's
// record from its step-finished event, the output's manifest, each shard's Arrow IPC table).
import { join } from 'node:path';
import type { RunEvent } from '../../engine/events/run-event.js';
import type { ArtifactManifest } from '../../engine/plan/step-record.js';
import { StrandState } from '../../engine/store/strand-state.js';
import { arrow } from '../../engine/util/arrow.js';
import type { Sha256Hex } from '../../engine/util/sha256.js';

export type OutputRow = Record<string, number | string | null>;

export function outputRows(root: string, events: readonly RunEvent[], step: string, port: string): OutputRow[] {
  const state = new StrandState(join(root, '.strand'), root);
  const finished = events.find((e): e is Extract<RunEvent, { kind: 'step-finished' }> => e.kind === 'step-finished' && e.step === step);
  if (finished === undefined) throw new Error(`${step} did not finish`);
  const manifest = state.objects.getJson<ArtifactManifest>(state.record(finished.key as Sha256Hex)!.outputs[port]!);
  return manifest.shards.flatMap((shard) =>
    arrow
      .tableFromIPC(state.objects.get(shard.digest))
      .toArray()
      .map((row) => (row as { toJSON(): OutputRow }).toJSON()),
  );
}
