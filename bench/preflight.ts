// bench/preflight: the formula's memory estimate (engine/devices/estimate-placement.ts) against XLA's
// compiled figures (the pre-flight: runtime/jax preflight.py, libtpu, no TPU) for NT-2.5B shapes (v1: 32
// layers, hidden 2,560, 20 heads, FFN 10,240, 1,000 tokens, bf16) over a grid of slices, meshes and
// per-device batches (the issue's: v5litepod-1 at 256 and 512, v5litepod-8 fsdp 8 at 128), and a smaller
// NT v2 (500M shape); XLA's FLOPs per sequence against 2 x parameters x tokens; and the utilisation the
// seeds' anchor (NT-2.5B on a v3-8 at 1,000 tokens, 45,000-80,000 sequences an hour) implies with XLA's
// FLOPs. Only the longest bucket (1,000) is compiled; each NT-2.5B compile takes minutes here.
import { loadDeviceCatalog, resolvePlacement, type Placement } from '../engine/devices/device-catalog.js';
import { estimatePlacement, type Mesh } from '../engine/devices/estimate-placement.js';
import type { PreflightAnswer, PreflightRequest } from '../engine/jax/preflight-contract.js';
import { runPreflight } from '../engine/jax/run-preflight.js';
import type { BenchResult } from './bench-result.js';
import { NT_2_5B, NT_500M_V2 } from './nt-configs.js';

function parameters(c: typeof NT_2_5B | typeof NT_500M_V2): number {
  const h = c.hidden_size;
  const f = c.intermediate_size;
  const glu = 'add_bias_fnn' in c && !c.add_bias_fnn;
  const layer = 4 * h * h + 4 * h + (glu ? 3 * h * f : 2 * h * f + f + h) + 4 * h;
  return (
    c.vocab_size * h + (c.position_embedding_type === 'absolute' ? c.max_position_embeddings * h : 0) + c.num_hidden_layers * layer + 2 * h
  );
}

const GRID: { model: string; config: typeof NT_2_5B | typeof NT_500M_V2; type: string; topology: string; mesh: Mesh; batch: number }[] = [
  { model: 'NT-2.5B', config: NT_2_5B, type: 'v5litepod-1', topology: 'v5e:1x1', mesh: { data: 1, fsdp: 1, tp: 1 }, batch: 256 },
  { model: 'NT-2.5B', config: NT_2_5B, type: 'v5litepod-1', topology: 'v5e:1x1', mesh: { data: 1, fsdp: 1, tp: 1 }, batch: 512 },
  { model: 'NT-2.5B', config: NT_2_5B, type: 'v5litepod-8', topology: 'v5e:2x4', mesh: { data: 1, fsdp: 8, tp: 1 }, batch: 128 },
  { model: 'NT-2.5B', config: NT_2_5B, type: 'v3-8', topology: 'v3:2x2', mesh: { data: 8, fsdp: 1, tp: 1 }, batch: 8 },
  { model: 'NT-500M-v2', config: NT_500M_V2, type: 'v5litepod-1', topology: 'v5e:1x1', mesh: { data: 1, fsdp: 1, tp: 1 }, batch: 64 },
];

const TOKENS = 1000;
const ANCHOR = { low: 45_000, high: 80_000 };
const gib = (b: number): number => Number((b / 2 ** 30).toFixed(2));

export async function preflightBench(): Promise<BenchResult> {
  const catalog = loadDeviceCatalog();
  const requests: PreflightRequest[] = GRID.map((g) => ({
    program: 'embed-forward',
    topology: g.topology,
    mesh: g.mesh,
    batch: g.batch,
    max_length: TOKENS,
    precision: 'bf16',
    model: { config: g.config },
    fixes: false,
    longest_only: true,
  }));
  const started = Date.now();
  const replies = await runPreflight(requests, process.env);
  if (!replies.ok) throw new Error(replies.error);
  const figures: BenchResult['figures'] = [{ label: 'pre-flight wall time for the grid', value: (Date.now() - started) / 1000, unit: 's' }];
  const ratios: BenchResult['ratios'] = [];
  const notes: string[] = [];
  GRID.forEach((g, i) => {
    const reply = replies.value[i]!;
    const label = `${g.model} ${g.type} mesh ${g.mesh.data}x${g.mesh.fsdp}x${g.mesh.tp} batch ${g.batch}/dev`;
    if (reply.kind !== 'preflight-answer') return void notes.push(`${label}: ${reply.reason}: ${reply.message}`);
    const answer: PreflightAnswer = reply;
    const placed = resolvePlacement({ kind: 'tpu', type: g.type }, catalog, { cores: 2, memoryBytes: 2 ** 34 });
    const placement: Placement = placed.ok
      ? placed.value
      : (() => {
          throw new Error(placed.error);
        })();
    const p = parameters(g.config);
    const formula = estimatePlacement({
      placement,
      mesh: g.mesh,
      batch: { per_device: g.batch },
      precision: 'bf16',
      model: {
        parameters: p,
        layers: g.config.num_hidden_layers,
        hidden: g.config.hidden_size,
        heads: g.config.num_attention_heads,
        ffn: g.config.intermediate_size,
      },
      tokens: TOKENS,
      training: false,
    });
    const bucket = answer.buckets.at(-1)!;
    const xlaBytes = bucket.memory?.total_bytes ?? bucket.xla?.required_bytes;
    figures.push({ label: `${label}: formula total`, value: gib(formula.memory.total ?? 0), unit: 'GiB' });
    if (xlaBytes !== undefined)
      figures.push({ label: `${label}: XLA ${bucket.fits ? 'total' : 'required (refused)'}`, value: gib(xlaBytes), unit: 'GiB' });
    if (bucket.memory)
      figures.push({
        label: `${label}: XLA arguments / temporaries`,
        value: gib(bucket.memory.argument_bytes),
        unit: `GiB / ${gib(bucket.memory.temp_bytes)} GiB`,
      });
    if (xlaBytes !== undefined && formula.memory.total !== undefined)
      ratios.push({ label: `${label}: formula / XLA memory`, value: Number((formula.memory.total / xlaBytes).toFixed(3)) });
    notes.push(
      `${label}: XLA ${bucket.fits ? 'fits' : `refuses: ${bucket.xla?.message ?? 'over the limit'}`}; formula ${formula.problems.some((q) => q.code === 'memory-exceeded') ? 'refuses' : 'fits'} (limit ${gib(formula.memory.limit)} GiB); compile ${bucket.compile_seconds} s`,
    );
    if (bucket.flops) {
      ratios.push({
        label: `${g.model}: XLA FLOPs per sequence / (2 x parameters x tokens)`,
        value: Number((bucket.flops.per_sequence / (2 * p * TOKENS)).toFixed(3)),
      });
      figures.push({
        label: `${g.model}: XLA FLOPs per sequence at ${TOKENS} tokens (${answer.flops_counting.split(':')[0]})`,
        value: bucket.flops.per_sequence,
        unit: 'FLOP',
      });
      figures.push({
        label: `${g.model}: rolled cost_analysis FLOPs per sequence (scan body once)`,
        value: (bucket.flops.rolled_per_device * answer.devices) / (g.batch * g.mesh.data * g.mesh.fsdp),
        unit: 'FLOP',
      });
      if (g.type === 'v3-8') {
        const peak = placement.flopsPerDevice * placement.devices;
        for (const [name, perHour] of Object.entries(ANCHOR))
          ratios.push({
            label: `NT-2.5B v3-8 anchor ${perHour.toLocaleString('en-US')} seq/h: implied utilisation (XLA FLOPs / bf16 peak ${peak / 1e12} TFLOP/s)`,
            value: Number(((perHour * bucket.flops.per_sequence) / 3600 / peak).toFixed(3)),
            target: name,
          });
      }
    }
  });
  return { name: 'preflight', figures, ratios, notes };
}
