// Benchmark: peak memory of `strand run` streaming a gs:// Parquet input of 1x, 10x and 100x the sample
// from the local GCS server (test/emulators; it runs in this process, so its memory is not the CLI's),
// through source -> k-mer profiles -> a local Parquet file. The verdict is a ratio: memory must stay flat
// from 10x to 100x (row groups read by range, never the whole object). Also the bytes fetched against
// the object's size.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GcsServer } from '../test/emulators/gcs-server.js';
import type { BenchResult } from './bench-result.js';
import { repeatedSample, runStrandAsync, tempProject } from './bench-tools.js';

export async function gcsStream(): Promise<BenchResult> {
  const result: BenchResult = { name: 'gcs-stream', figures: [], ratios: [], notes: [] };
  const memory: number[] = [];
  for (const times of [1, 10, 100]) {
    const server = await new GcsServer().start();
    server.createBucket('bench-data');
    const p = tempProject();
    try {
      await repeatedSample(join(p.root, 'in.parquet'), times);
      const bytes = readFileSync(join(p.root, 'in.parquet'));
      server.put('bench-data', 'sample/in.parquet', bytes, 'application/octet-stream', {}, null);
      writeFileSync(
        join(p.root, 'flow.yaml'),
        `version: 1\nname: gcs-mem\nsteps:\n  source: { uses: source/parquet, with: { path: "gs://bench-data/sample/*.parquet", shard_rows: 1000 } }\n  profile: { uses: embed/kmer-profile, needs: [source], with: { k: 4 } }\n  out: { uses: export/parquet, needs: [profile, source], with: { path: out/p.parquet, include_sequence: false } }\n`,
      );
      const r = await runStrandAsync(['run', 'flow.yaml'], p.root, server.clientEnv());
      if (r.status !== 0) throw new Error(`gs:// memory run failed: ${r.stdout}${r.stderr}`);
      const fetched = server.log.reduce((n, l) => n + (l.bytes ?? 0), 0);
      memory.push(r.maxRssMiB);
      result.figures.push({
        label: `peak RSS streaming a gs:// Parquet object of ${times}x the sample (${times * 1000} sequences, ${(bytes.length / 2 ** 20).toFixed(1)} MiB)`,
        value: r.maxRssMiB,
        unit: 'MiB',
      });
      result.figures.push({ label: `bytes fetched / object size, ${times}x`, value: fetched / bytes.length, unit: '' });
    } finally {
      p.remove();
      await server.stop();
    }
  }
  result.ratios.push(
    { label: 'peak memory gs:// 10x / 1x', value: memory[1]! / memory[0]!, better: 'lower' },
    { label: 'peak memory gs:// 100x / 10x', value: memory[2]! / memory[1]!, target: 'flat (about 1)', better: 'lower' },
  );
  result.notes.push(
    'all columns are read here (the metadata default), so bytes fetched is about the object size: ranged reads add the footer once, not a download per row group',
  );
  return result;
}
