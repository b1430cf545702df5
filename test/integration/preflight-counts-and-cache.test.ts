// What the pre-flight keeps on disk and what plan counts before anything runs: compile answers cached by
// the whole request and the compiler's identity (a changed request, compiler or corrupt entry is a miss),
// and FASTA records counted, or estimated from bytes past the threshold, saying which.
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { localDataFiles } from '../../engine/data/local-data-files.js';
import type { PreflightAnswer, PreflightRequest } from '../../engine/jax/preflight-contract.js';
import { PreflightCache } from '../../engine/store/preflight-cache.js';
import { countFastaRecords } from '../../steps/source/count-fasta-records.js';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));
const temp = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'strand-preflight-'));
  dirs.push(d);
  return d;
};

const request: PreflightRequest = {
  program: 'embed-forward',
  topology: 'v5e:1x1',
  mesh: { data: 1, fsdp: 1, tp: 1 },
  batch: 8,
  max_length: 64,
  precision: 'bf16',
  model: { config: { hidden_size: 64 } },
};
const answer: PreflightAnswer = {
  kind: 'preflight-answer',
  program: 'embed-forward',
  topology: 'v5e:1x1',
  device_kind: 'TPU v5 lite',
  devices: 1,
  mesh: { data: 1, fsdp: 1, tp: 1 },
  precision: 'bf16',
  per_device_batch: 8,
  fits: true,
  buckets: [
    {
      length: 64,
      fits: true,
      compile_seconds: 1.5,
      memory: { argument_bytes: 10, output_bytes: 2, temp_bytes: 3, alias_bytes: 0, generated_code_bytes: 1, total_bytes: 15 },
    },
  ],
  flops_counting: 'rolled',
  fixes: [],
  compilations: 1,
  compile_seconds: 1.5,
};

describe('pre-flight cache', () => {
  it('answers the same request, and misses a changed request, another compiler or a corrupt entry', () => {
    const dir = temp();
    const cache = new PreflightCache(dir, 'compiler-a');
    expect(cache.get(request)).toBeUndefined();
    cache.put(request, answer);
    expect(cache.get(request)).toEqual(answer);
    expect(cache.get({ ...request, batch: 16 })).toBeUndefined();
    expect(cache.get({ ...request, model: { config: { hidden_size: 128 } } })).toBeUndefined();
    expect(new PreflightCache(dir, 'compiler-b').get(request)).toBeUndefined();
    const [entry] = readdirSync(dir);
    writeFileSync(join(dir, entry!), '{"compiler":"compiler-a","request":');
    expect(cache.get(request)).toBeUndefined();
  });
});

describe('FASTA sequence count at plan time', () => {
  it('counts every record of small inputs and estimates large ones from bytes, saying which', async () => {
    const dir = temp();
    const record = (i: number): string => `>seq${i}\n${'ACGT'.repeat(25)}\n`;
    writeFileSync(join(dir, 'a.fasta'), Array.from({ length: 3000 }, (_, i) => record(i)).join(''));
    writeFileSync(join(dir, 'b.fasta'), Array.from({ length: 1000 }, (_, i) => record(i)).join(''));
    const files = await localDataFiles('*.fasta', dir);
    expect(await countFastaRecords(files)).toEqual({ count: 4000, how: 'counted by a scan of the FASTA records' });
    // Past the threshold, the first file's records per byte scale to all the bytes (every record here has the same size).
    const estimated = await countFastaRecords(files, 1024);
    expect(estimated.how).toMatch(/^estimated from bytes: [\d,]+ records in the first \d+ MiB, scaled to \d+ MiB$/);
    expect(Math.abs(estimated.count - 4000) / 4000).toBeLessThan(0.02);
  });
});
