// The pre-flight stage over inline facts: what it asks the compiler for a multi-host slice (one host's
// topology, the mesh's data axis split over the hosts), how an answer becomes the estimate and a located
// does-not-fit diagnostic with the fixes in the workflow's own terms, the cache, and the fallbacks.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { preflightPlacements, type PreflightFacts } from '../../engine/devices/preflight-placements.js';
import type { PreflightAnswer, PreflightReply, PreflightRequest } from '../../engine/jax/preflight-contract.js';
import { fail, ok, type Result } from '../../engine/util/result.js';
import { placedWorkflow } from '../helpers/placed-workflow.js';

// finetune/nt-lora's defaults as train-step options, as the JAX runtime's tests and bench/lora.py read them.
const NT_LORA_DEFAULTS = JSON.parse(
  readFileSync(new URL('../../runtime/jax/tests/nt_lora_default_options.json', import.meta.url), 'utf8'),
) as { lora: object; train: object };
const TEXT = `version: 1
name: pf
devices:
  pod: { kind: tpu, type: v6e-16, project: p, zone: z }
steps:
  source: { uses: source/parquet, with: { path: in.parquet } }
  tokens: { uses: tokenize/nucleotide-transformer, needs: [source] }
  embed: { uses: embed/nt, needs: [tokens], with: { model: nt }, on: pod, mesh: { data: 4, fsdp: 4 }, batch: { per_device: 64 }, tokens: 512 }
`;

const refused: PreflightAnswer = {
  kind: 'preflight-answer',
  program: 'embed-forward',
  topology: 'v6e:2x4',
  device_kind: 'TPU v6 lite',
  devices: 8,
  mesh: { data: 2, fsdp: 4, tp: 1 },
  precision: 'bf16',
  per_device_batch: 64,
  fits: false,
  buckets: [
    {
      length: 512,
      fits: false,
      compile_seconds: 2,
      xla: {
        message:
          'RESOURCE_EXHAUSTED: Ran out of memory on HBM, the total memory required for HLO temporaries (40.00G) exceeds available HBM (31.25G).',
        required_bytes: 40 * 2 ** 30,
        available_bytes: 31.25 * 2 ** 30,
      },
    },
  ],
  flops_counting: 'rolled',
  fixes: [
    { change: { per_device_batch: 48 }, length: 512, total_bytes: 30 * 2 ** 30 },
    { change: { mesh: { data: 1, fsdp: 8, tp: 1 } }, length: 512, total_bytes: 20 * 2 ** 30 },
  ],
  compilations: 9,
  compile_seconds: 40,
};

async function stage(
  reply: (requests: readonly PreflightRequest[]) => Result<PreflightReply[], string>,
  cache = new Map<string, PreflightAnswer>(),
  text = TEXT,
) {
  const { source, workflow, placed } = placedWorkflow(text);
  const { plans } = placed;
  const asked: PreflightRequest[] = [];
  const facts: PreflightFacts = {
    modelConfig: (path) => (path === 'nt' ? ok({ hidden_size: 1024 }) : fail(`no ${path}`)),
    cached: (request) => cache.get(JSON.stringify(request)),
    remember: (request, answer) => void cache.set(JSON.stringify(request), answer),
    compile: async (requests) => (asked.push(...requests), reply(requests)),
  };
  return { ...(await preflightPlacements(workflow, source, plans, facts)), asked, cache };
}

describe('pre-flight stage', () => {
  it('asks for one host of the slice and reports a refusal at the batch: line with fixes for the whole slice', async () => {
    const { asked, plans, diagnostics, compiled } = await stage(() => ok([refused]));
    expect(asked).toEqual([
      {
        program: 'embed-forward',
        topology: 'v6e:2x4',
        mesh: { data: 2, fsdp: 4, tp: 1 },
        batch: 64,
        max_length: 512,
        precision: 'bf16',
        model: { config: { hidden_size: 1024 } },
        pooling: { pooling: 'mean', include_cls: true, normalize: false },
      },
    ]); // embed/nt's pooling defaults, filled in
    expect(compiled).toBe(1);
    expect(plans.get('embed')!.preflight).toMatchObject({ source: 'xla', cached: false, topology: 'v6e:2x4', hosts: 2 });
    expect(diagnostics).toHaveLength(1);
    const [d] = diagnostics;
    expect(d!.code).toBe('preflight-does-not-fit');
    expect(d!.location).toMatchObject({ line: 8, column: TEXT.split('\n')[7]!.indexOf('{ per_device: 64 }') + 1 });
    expect(d!.message).toBe(
      'step "embed": per-device batch 64 does not fit on v6e:2x4 (TPU v6 lite, mesh { data: 2, fsdp: 4, tp: 1 } per host) at length 512: XLA: ' +
        refused.buckets[0]!.xla!.message,
    );
    // The fix's mesh is one host's; the workflow's mesh is the slice's (data x 2 hosts).
    expect(d!.hint).toBe(
      'checked by compiling: fits with batch: { per_device: 48 } (30.0 GiB per chip); fits with mesh: { data: 2, fsdp: 8, tp: 1 } (20.0 GiB per chip)',
    );
  });

  it("asks for finetune/nt-lora's train step with its settings and batch_size / (data x fsdp x grad_accum) over the whole slice", async () => {
    const lora =
      '  lora: { uses: finetune/nt-lora, needs: [tokens, source], with: { model: nt, batch_size: 64, grad_accum: 2, rank: 8 }, on: pod, mesh: { data: 4, fsdp: 4 }, tokens: 512 }\n';
    const { asked, diagnostics } = await stage(
      (requests) => ok(requests.map((r) => ({ ...refused, program: r.program, per_device_batch: r.batch as number }))),
      new Map(),
      TEXT + lora,
    );
    const train = asked.find((r) => r.program === 'train-step')!;
    // One program over both hosts (jax.distributed): the whole slice's topology and mesh.
    expect(train).toMatchObject({ topology: 'v6e:4x4', mesh: { data: 4, fsdp: 4, tp: 1 }, batch: 2, fixes: false });
    // The step's defaults, but for the two set above: the same file the Python tests and bench read.
    expect(train.options).toEqual({
      ...NT_LORA_DEFAULTS,
      lora: { ...NT_LORA_DEFAULTS.lora, rank: 8 },
      train: { ...NT_LORA_DEFAULTS.train, grad_accum: 2 },
    });
    const refusal = diagnostics.find((d) => d.message.startsWith('step "lora"'))!;
    expect(refusal.hint).toContain('no fixes were compiled (the step sets its own batch)');
  });

  it("estimates finetune/nt-lora by the formula at the step's own per-device batch, not at batch:", () => {
    const lora = (batch: string) =>
      `  lora: { uses: finetune/nt-lora, needs: [tokens, source], with: { model: nt, batch_size: 64, grad_accum: 2 }, on: pod, mesh: { data: 4, fsdp: 4 }${batch}, model_facts: { parameters: 5.0e8, layers: 24, hidden: 1024, heads: 16 } }\n`;
    for (const batch of ['', ', batch: { per_device: 32 }']) {
      const estimate = placedWorkflow(TEXT + lora(batch)).placed.plans.get('lora')!.estimate!;
      expect(estimate.perDeviceBatch).toBe(2); // 64 / (data 4 x fsdp 4 x grad_accum 2)
    }
  });

  it("asks for lengths up to tokens: (1,000 unless set), never past the cap of the step's tokenizer, and estimates at the same", async () => {
    const flow = (tokenizer: string, tokens: string) =>
      TEXT.replace(
        'with: { path: in.parquet } }\n  tokens: { uses: tokenize/nucleotide-transformer, needs: [source] }',
        `with: { path: in.parquet } }\n  tokens: ${tokenizer}`,
      ).replace(', tokens: 512 }', `${tokens}, model_facts: { parameters: 1.0e8 } }`);
    const nt = (with_: string) => `{ uses: tokenize/nucleotide-transformer, needs: [source]${with_} }`;
    const cases: [tokenizer: string, tokens: string, length: number][] = [
      [nt(''), '', 1000], // NT v2's cap is 2,048: the default stands
      [nt(', with: { max_tokens: 256 }'), '', 256],
      [nt(', with: { max_tokens: 256 }'), ', tokens: 512', 256],
      [nt(', with: { version: 1 }'), ', tokens: 4000', 1000], // NT v1's own cap
      [nt(''), ', tokens: 300', 300],
      ['{ uses: tokenize/kmer, needs: [source], with: { k: 4 } }', '', 512],
    ];
    for (const [tokenizer, tokens, length] of cases) {
      const text = flow(tokenizer, tokens);
      expect(text).toContain(`tokens: ${tokenizer}`);
      const { asked, plans } = await stage(() => ok([refused]), new Map(), text);
      expect(asked.map((r) => r.max_length)).toEqual([length]);
      expect(plans.get('embed')!.estimate!.flopsPerSequence).toBe(2 * 1.0e8 * length);
    }
  });

  it('answers a second time from the cache without compiling', async () => {
    const first = await stage(() => ok([refused]));
    const second = await stage(() => fail('the compiler must not run'), first.cache);
    expect(second.asked).toEqual([]);
    expect(second.cached).toBe(1);
    expect(second.plans.get('embed')!.preflight).toMatchObject({ source: 'xla', cached: true });
  });

  it('keeps the formula and says why when the compiler cannot run', async () => {
    const { plans, diagnostics } = await stage(() => fail('the pre-flight compiler did not answer (its Python cannot import jax)'));
    expect(plans.get('embed')!.preflight).toEqual({
      source: 'formula',
      why: 'the pre-flight compiler did not answer (its Python cannot import jax)',
    });
    expect(diagnostics).toEqual([]);
  });
});
