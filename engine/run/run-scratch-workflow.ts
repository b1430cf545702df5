// Owns running a small workflow built in memory — a CLI verb's source → tokenize (→ embed) — through the
// same checkWorkflow and runWorkflow as `strand run`, against a throwaway state directory: the verb gets
// exactly what the steps produce, and the project's own cache is never touched.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import type { InputArtifact } from '../plugin-api/step-context.js';
import type { StepPlugin } from '../plugin-api/step-plugin.js';
import { listGcsObjects, type ObjectFacts } from '../load/list-gcs-objects.js';
import type { ArtifactManifest } from '../plan/step-record.js';
import { StrandState } from '../store/strand-state.js';
import { fail, ok, type Result } from '../util/result.js';
import type { Sha256Hex } from '../util/sha256.js';
import { checkWorkflow } from '../workflow/check-workflow.js';
import { placeWorkflow } from '../devices/place-workflow.js';
import { localMachineFacts } from '../load/machine-facts.js';
import { parseYamlSource } from '../workflow/yaml-source.js';
import { runWorkflow } from './run-workflow.js';
import { artifactReader } from './step-context.js';

export interface ScratchStep {
  uses: string;
  needs?: string[];
  with?: Record<string, unknown>;
  /** A device of the scratch workflow's `devices` (a search query embedded with JAX on this machine's CPU). */
  on?: string;
  precision?: 'fp32' | 'bf16';
}

export interface ScratchWorkflow {
  name: string;
  steps: Record<string, ScratchStep>;
  /** Devices the steps are placed on (`on:`), as a workflow file declares them; placed as loading places them. */
  devices?: Record<string, Record<string, unknown>>;
  /** Files written into the scratch directory before the run (a search query as FASTA), by name. */
  files?: Record<string, string>;
}

export interface ScratchOptions {
  plugins: readonly StepPlugin[];
  /** Where relative paths in params resolve (default: the scratch directory, where `files` are). */
  workdir?: string;
  /** Cloud Storage, for a workflow naming gs:// paths (listed before the run, as loading does). */
  objects?: ObjectFacts;
  now: () => Date;
}

export type ScratchFailure =
  { kind: 'invalid-workflow'; diagnostics: Diagnostic[] } | { kind: 'step-failed'; step: string; message: string; hint?: string };

/** An output artifact of a step of the finished run. */
export type ScratchOutput = (step: string, port: string) => InputArtifact;

/** Checks and runs `workflow`, then hands its outputs to `read` before the scratch directory goes. */
export async function runScratchWorkflow<T>(
  workflow: ScratchWorkflow,
  options: ScratchOptions,
  read: (output: ScratchOutput) => Promise<T>,
): Promise<Result<T, ScratchFailure>> {
  const { name, steps, devices } = workflow;
  const parsed = parseYamlSource(`<${name}>`, JSON.stringify({ version: 1, name, ...(devices ? { devices } : {}), steps }));
  const source = parsed.source;
  const checked = source && checkWorkflow({ source, plugins: new Map(options.plugins.map((p) => [p.id, p])) });
  if (source === undefined || checked?.workflow === undefined)
    return fail({ kind: 'invalid-workflow', diagnostics: checked?.diagnostics ?? parsed.diagnostics });
  // Steps on a device compute as loading would place them (the runtime, the mesh, the precision).
  const placed = devices === undefined ? undefined : placeWorkflow(checked.workflow, source, localMachineFacts(options.workdir ?? '.'));
  const refused = placed?.diagnostics.filter((d) => d.severity === 'error') ?? [];
  if (refused.length > 0) return fail({ kind: 'invalid-workflow', diagnostics: refused });
  const listed = options.objects === undefined ? undefined : await listGcsObjects(checked.workflow, source, options.objects);
  if (listed?.ok === false) return fail({ kind: 'invalid-workflow', diagnostics: listed.error });
  const dir = mkdtempSync(join(tmpdir(), 'strand-scratch-'));
  try {
    for (const [name, text] of Object.entries(workflow.files ?? {})) writeFileSync(join(dir, name), text);
    const state = new StrandState(join(dir, 'state'), options.workdir ?? dir);
    state.listing = listed?.value;
    const keys = new Map<string, Sha256Hex>();
    let failure: ScratchFailure | undefined;
    const status = await runWorkflow({
      workflow: checked.workflow,
      state,
      emit: (event) => {
        if (event.kind === 'step-finished' || event.kind === 'step-cached') keys.set(event.step, event.key as Sha256Hex);
        if (event.kind === 'step-failed')
          failure ??= {
            kind: 'step-failed',
            step: event.step,
            message: event.message,
            ...(event.hint !== undefined ? { hint: event.hint } : {}),
          };
      },
      signal: new AbortController().signal,
      jobs: 1,
      now: options.now,
      runId: workflow.name,
      ...(placed !== undefined ? { placements: new Map([...placed.plans].map(([id, plan]) => [id, plan.run])) } : {}),
    });
    if (failure !== undefined) return fail(failure);
    if (status !== 'ok') throw new Error(`bug: the ${workflow.name} run ended ${status} without a failed step`);
    return ok(
      await read((step, port) => {
        const digest = state.record(keys.get(step)!)?.outputs[port];
        if (digest === undefined) throw new Error(`bug: step ${step} of ${workflow.name} has no output ${port}`);
        return artifactReader(`${step}.${port}`, state.objects.getJson<ArtifactManifest>(digest), async (d) => state.objects.get(d));
      }),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
