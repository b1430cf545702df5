// A remote step whose hosts never report, run in this process against the local GCS and TPU servers with
// a clock the test moves: once both hosts have exited without a word, the clock passes stall_minutes
// (the default, 30) and the engine's next poll must fail the step and delete the node. No real timeout
// decides the outcome.
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { builtinSteps } from '../../steps/index.js';
import { cloudServices } from '../../engine/cloud/remote-services.js';
import { runRemoteStep } from '../../engine/cloud/run-remote-step.js';
import { plainSink } from '../../engine/events/plain-sink.js';
import type { RunEvent } from '../../engine/events/run-event.js';
import { runWorkflow } from '../../engine/run/run-workflow.js';
import { StrandState } from '../../engine/store/strand-state.js';
import { loadWorkflow } from '../../engine/load/load-workflow.js';
import { useLocalCloud } from '../helpers/local-cloud.js';
import { copyFromRepo, removeProjects, writeProject } from '../helpers/project.js';

const cloud = useLocalCloud();
afterEach(removeProjects);

const FLOW = `version: 1
name: tpu-embed
devices:
  pod: { kind: tpu, type: v4-16, project: test-project, zone: us-central2-b, bucket: gs://strand-test/strand, worker_command: "true" }
steps:
  source: { uses: source/parquet, with: { path: workflows/data/sample.parquet, shard_rows: 100 } }
  tokens: { uses: tokenize/nucleotide-transformer, needs: [source], with: { version: 2 } }
  embed: { uses: embed/onnx, needs: [tokens], with: { model: models/tiny-nt.onnx }, on: pod, mesh: { data: 8 }, batch: { per_device: 4 } }
`;

describe('remote step stall', () => {
  it('fails, and deletes the node, when its hosts stay silent for stall_minutes', async () => {
    const root = writeProject({ 'flow.yaml': FLOW });
    copyFromRepo(root, 'workflows/data/sample.parquet', 'models/tiny-nt.onnx');
    const loaded = await loadWorkflow(join(root, 'flow.yaml'), { builtins: builtinSteps, workdir: root });
    if (!loaded.ok) throw new Error(JSON.stringify(loaded.error.diagnostics));
    expect(loaded.value.diagnostics).toEqual([]);
    const {
      workflow,
      remote: { targets },
    } = loaded.value;
    const state = new StrandState(join(root, '.strand'), root);

    let clock = Date.UTC(2026, 0, 1);
    const now = (): Date => new Date(clock);
    const events: RunEvent[] = [];
    const emit = (event: RunEvent): void => {
      events.push(event);
      // The engine starts its stall clock as it logs that the node is READY.
      if (event.kind === 'step-log' && event.message.includes('is READY'))
        void cloud.tpu.hostsExited().then(() => (clock += 30 * 60_000 + 1));
    };
    const status = await runWorkflow({
      workflow: workflow,
      state,
      emit,
      signal: new AbortController().signal,
      jobs: 2,
      now,
      runId: 'stall',
      remote: {
        steps: new Set(targets.keys()),
        execute: (step, unit) =>
          runRemoteStep({
            step,
            ...unit,
            workflowName: workflow.name,
            target: targets.get(step.id)!,
            objects: state.objects,
            workdir: root,
            listing: state.listing,
            fileDigest: () => undefined,
            services: cloudServices(targets.get(step.id)!, cloud.settings(), now),
            emit,
          }),
      },
    });

    expect(status).toBe('failed');
    const failed: string[] = [];
    const sink = plainSink((text) => failed.push(text));
    for (const event of events.filter((e) => e.kind === 'step-failed')) sink.onEvent(event);
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatch(
      /FAILED +embed: no marker landed and no host reported on strand-[0-9a-f]{12}-1 for 30 min \(2 of 2 hosts silent\)/,
    );
    expect(failed[0]).toContain("hint: check the hosts' startup-script output");
    expect(cloud.tpu.nodes.size).toBe(0);
    expect(cloud.tpu.hostExits.map((h) => h.code)).toEqual([0, 0]);
  });
});
