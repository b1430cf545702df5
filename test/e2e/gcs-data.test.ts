// gs:// data end to end: the built CLI reads Parquet and FASTA objects and writes Parquet objects and
// LanceDB tables on the local GCS server (test/emulators), through @google-cloud/storage (JSON API) and
// LanceDB's own object store (XML API). Faults are injected there; nothing here reaches Google Cloud.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { parquetReadObjects } from 'hyparquet';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GcsServer } from '../emulators/gcs-server.js';
import { exited, REPO, removeProjects, runCliAsync, startCli, writeProject } from '../helpers/project.js';

const BUCKET = 'strand-data';
let gcs: GcsServer;

beforeEach(async () => {
  gcs = await new GcsServer().start();
  gcs.createBucket(BUCKET);
});
afterEach(async () => {
  await gcs.stop();
  removeProjects();
});

const env = (extra: Record<string, string> = {}) => ({ ...gcs.clientEnv(), ...extra });
const put = (name: string, bytes: Uint8Array | string) => gcs.put(BUCKET, name, Buffer.from(bytes), 'application/octet-stream', {}, null);
const object = (name: string) => gcs.buckets.get(BUCKET)!.get(name);
const served = (name: string) => gcs.log.filter((r) => r.path.endsWith(`/o/${encodeURIComponent(name)}`) && r.bytes !== undefined);

interface RunEventLine {
  kind: string;
  step?: string;
  summary?: Record<string, number>;
  message?: string;
}
const events = (stdout: string): RunEventLine[] =>
  stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as RunEventLine);
const summaryOf = (stdout: string, step: string) => events(stdout).find((e) => e.kind === 'step-finished' && e.step === step)?.summary;

const sample = sampleRecords();
function sampleRecords(): { id: string; sequence: string }[] {
  const fasta = gunzipSync(readFileSync(join(REPO, 'workflows/data/sample.fasta.gz'))).toString('utf8');
  return fasta
    .split('>')
    .slice(1)
    .map((record) => {
      const [header, ...lines] = record.split('\n');
      return { id: header!.split('|')[0]!, sequence: lines.join('') };
    });
}

/** id and sequence, plus a wide incompressible `notes` column that a selective read must not fetch. */
function wideParquet(rows: { id: string; sequence: string }[], rowGroupSize: number): Uint8Array {
  return new Uint8Array(
    parquetWriteBuffer({
      columnData: [
        { name: 'id', data: rows.map((r) => r.id), type: 'STRING' },
        { name: 'sequence', data: rows.map((r) => r.sequence), type: 'STRING' },
        { name: 'notes', data: rows.map(() => randomBytes(6000).toString('base64')), type: 'STRING' },
      ],
      rowGroupSize,
    }),
  );
}

const PARQUET_FLOW = (path: string, extra = '') => `version: 1
name: gcs-parquet
steps:
  source: { uses: source/parquet, with: { path: "${path}", metadata: [], shard_rows: 100${extra} } }
  profile: { uses: embed/kmer-profile, needs: [source], with: { k: 3 } }
  table: { uses: export/parquet, needs: [profile, source], with: { path: out/vectors.parquet, include_sequence: false } }
`;

describe('gs:// data (local GCS server)', () => {
  it('streams a Parquet object by ranged reads: the footer, then only the asked columns of each row group', async () => {
    const bytes = wideParquet(sample, 50);
    put('its/part-0.parquet', bytes);
    const root = writeProject({ 'flow.yaml': PARQUET_FLOW(`gs://${BUCKET}/its/*.parquet`) });
    const run = await runCliAsync(['run', 'flow.yaml', '--json'], root, env());
    expect(run.status, run.stderr).toBe(0);
    expect(summaryOf(run.stdout, 'source')).toMatchObject({ written: 300, shards: 3 });
    const reads = served('its/part-0.parquet');
    expect(reads.every((r) => r.status === 206)).toBe(true);
    const fetched = reads.reduce((n, r) => n + r.bytes!, 0);
    expect(fetched).toBeLessThan(bytes.length / 10);
    const ids = (await parquetReadObjects({ file: toArrayBuffer(readFileSync(join(root, 'out/vectors.parquet'))), columns: ['id'] })).map(
      (r) => r.id,
    );
    expect(ids).toEqual(sample.map((r) => r.id));

    // The key comes from generation and checksums: unchanged objects are cached without a download.
    const before = gcs.log.length;
    const again = await runCliAsync(['plan', 'flow.yaml', '--json'], root, env());
    expect(JSON.parse(again.stdout).steps.map((s: { status: string }) => s.status)).toEqual(['cached', 'cached', 'cached']);
    expect(gcs.log.slice(before).filter((r) => r.bytes !== undefined)).toEqual([]);
    const first = object('its/part-0.parquet')!.generation;
    put('its/part-0.parquet', wideParquet(sample.slice(0, 200), 50));
    const second = object('its/part-0.parquet')!.generation;
    const changed = JSON.parse((await runCliAsync(['plan', 'flow.yaml', '--json'], root, env())).stdout);
    // The replaced object is named, with its generation before and now.
    expect(changed.steps[0].reasons).toEqual([
      {
        kind: 'file-changed',
        name: 'path',
        changes: {
          added: [],
          removed: [],
          changed: [{ name: `gs://${BUCKET}/its/part-0.parquet`, from: String(first), to: String(second) }],
        },
        text: `input file path changed: changed gs://${BUCKET}/its/part-0.parquet (generation ${first} -> ${second})`,
      },
    ]);
  });

  it('reads gzip FASTA from gs://, retrying injected 503s and a connection dropped mid-download', async () => {
    put('reads/sample.fasta.gz', readFileSync(join(REPO, 'workflows/data/sample.fasta.gz')));
    gcs.inject({ kind: 'status', status: 503, method: 'GET', pathIncludes: '/o/reads', times: 2 });
    gcs.inject({ kind: 'drop-media', afterBytes: 1, times: 1 });
    const root = writeProject({ 'flow.yaml': FASTA_FLOW(`gs://${BUCKET}/reads/sample.fasta.gz`) });
    const run = await runCliAsync(['run', 'flow.yaml', '--json'], root, env());
    expect(run.status, run.stderr).toBe(0);
    expect(summaryOf(run.stdout, 'source')).toMatchObject({ records: 300, written: 300 });
    expect(gcs.pendingFaults).toBe(0);
    expect(gcs.log.map((r) => r.status)).toContain(503);
  });

  it("finds the local server by Google's STORAGE_EMULATOR_HOST, and by Strand's STRAND_GCS_EMULATOR_HOST (an alias)", async () => {
    put('reads/sample.fasta.gz', readFileSync(join(REPO, 'workflows/data/sample.fasta.gz')));
    const root = writeProject({ 'flow.yaml': FASTA_FLOW(`gs://${BUCKET}/reads/sample.fasta.gz`) });
    for (const name of ['STORAGE_EMULATOR_HOST', 'STRAND_GCS_EMULATOR_HOST'] as const) {
      for (const made of ['.strand', 'out']) rmSync(join(root, made), { recursive: true, force: true });
      gcs.log.length = 0;
      const run = await runCliAsync(['run', 'flow.yaml', '--json'], root, gcs.clientEnv(name));
      expect(run.status, `${name}: ${run.stderr}${run.stdout}`).toBe(0);
      expect(summaryOf(run.stdout, 'source')).toMatchObject({ records: 300, written: 300 });
      expect(gcs.log.some((r) => r.path.endsWith(`/o/${encodeURIComponent('reads/sample.fasta.gz')}`))).toBe(true);
    }
  });

  it('globs over a prefix of many objects, listing every page', async () => {
    gcs.pageSize = 50;
    sample.slice(0, 120).forEach((r, i) => put(`many/${String(i).padStart(3, '0')}.fasta`, `>${r.id}\n${r.sequence}\n`));
    put('many/README.txt', 'not a match');
    put('many/sub/999.fasta', '>deeper\nACGT\n');
    const root = writeProject({ 'flow.yaml': FASTA_FLOW(`gs://${BUCKET}/many/*.fasta`) });
    const run = await runCliAsync(['run', 'flow.yaml', '--json'], root, env());
    expect(run.status, run.stderr).toBe(0);
    expect(summaryOf(run.stdout, 'source')).toMatchObject({ records: 120 });
    const lists = gcs.log.filter((r) => r.method === 'GET' && r.path === `/storage/v1/b/${BUCKET}/o`);
    expect(lists.length).toBeGreaterThanOrEqual(3);
  });

  it('stops a step whose object changes mid-run, naming it, and counts nothing it half wrote', async () => {
    put('its/a.parquet', wideParquet(sample.slice(0, 150), 50));
    put('its/b.parquet', wideParquet(sample.slice(150), 50));
    let changed = false;
    gcs.onMedia = (_bucket, name) => {
      if (name === 'its/a.parquet' && !changed) {
        changed = true;
        put('its/b.parquet', wideParquet(sample.slice(150, 200), 50));
      }
    };
    const root = writeProject({ 'flow.yaml': PARQUET_FLOW(`gs://${BUCKET}/its/*.parquet`) });
    const failed = await runCliAsync(['run', 'flow.yaml', '--json'], root, env());
    expect(failed.status).toBe(1);
    const failure = events(failed.stdout).find((e) => e.kind === 'step-failed');
    expect(failure?.message).toMatch(
      new RegExp(`^gs://${BUCKET}/its/b.parquet changed after the plan: generation \\d+ was planned, \\d+ is there now$`),
    );
    expect(events(failed.stdout).filter((e) => e.kind === 'shard-done').length).toBeGreaterThan(0);
    const rerun = await runCliAsync(['run', 'flow.yaml', '--json'], root, env());
    expect(rerun.status, rerun.stderr).toBe(0);
    expect(events(rerun.stdout).filter((e) => e.kind === 'shard-resumed')).toEqual([]);
    expect(summaryOf(rerun.stdout, 'source')).toMatchObject({ written: 200 });
  });

  it('names a truncated object', async () => {
    put('its/short.parquet', wideParquet(sample, 100));
    const bytes = object('its/short.parquet')!.bytes;
    gcs.onMedia = (_bucket, name) => {
      // Cut to half after the footer was read (the listing still says the full size): reads past the cut come back short.
      if (name === 'its/short.parquet') object('its/short.parquet')!.bytes = bytes.subarray(0, bytes.length / 2);
    };
    const root = writeProject({ 'flow.yaml': PARQUET_FLOW(`gs://${BUCKET}/its/short.parquet`) });
    const run = await runCliAsync(['run', 'flow.yaml', '--json'], root, env());
    expect(run.status).toBe(1);
    expect(events(run.stdout).find((e) => e.kind === 'step-failed')?.message).toMatch(
      new RegExp(
        `^gs://${BUCKET}/its/short.parquet is truncated: bytes \\d+\\.\\.\\d+ of ${bytes.length} came back as \\d+ bytes after 6 tries$`,
      ),
    );
  });

  it('writes a Parquet object once (ifGenerationMatch: 0), verified, and never replaces it', async () => {
    put('reads/sample.fasta.gz', readFileSync(join(REPO, 'workflows/data/sample.fasta.gz')));
    const flow = (k: number) =>
      FASTA_FLOW(`gs://${BUCKET}/reads/sample.fasta.gz`)
        .replace('k: 3', `k: ${k}`)
        .replace('path: out/vectors.parquet', `path: gs://${BUCKET}/out/vectors.parquet`);
    const root = writeProject({ 'flow.yaml': flow(3) });
    const run = await runCliAsync(['run', 'flow.yaml', '--json'], root, env());
    expect(run.status, run.stderr).toBe(0);
    expect(gcs.writes.filter((n) => n === 'out/vectors.parquet')).toHaveLength(1);
    const rows = await parquetReadObjects({ file: toArrayBuffer(object('out/vectors.parquet')!.bytes), columns: ['id', 'vector'] });
    expect(rows).toHaveLength(300);
    expect((rows[0]!.vector as number[]).length).toBe(64);
    expect(existsSync(join(root, 'gs:'))).toBe(false);
    // Cached while the object is the one written; a different result is refused, never written over it.
    expect(JSON.parse((await runCliAsync(['plan', 'flow.yaml', '--json'], root, env())).stdout).steps[2].status).toBe('cached');
    writeFileSync(join(root, 'flow.yaml'), flow(4));
    const refused = await runCliAsync(['run', 'flow.yaml', '--json'], root, env());
    expect(refused.status).toBe(1);
    expect(events(refused.stdout).find((e) => e.kind === 'step-failed')?.message).toBe(
      `gs://${BUCKET}/out/vectors.parquet already exists or changed while being written: Strand never replaces an object it did not just read`,
    );
    expect(gcs.writes.filter((n) => n === 'out/vectors.parquet')).toHaveLength(1);
  });

  it("writes a LanceDB table to gs:// through LanceDB's object store, resumes a killed export without duplicates, and searches it", async () => {
    put('reads/sample.fasta.gz', readFileSync(join(REPO, 'workflows/data/sample.fasta.gz')));
    const flow = FASTA_FLOW(`gs://${BUCKET}/reads/sample.fasta.gz`).replace(
      'table: { uses: export/parquet, needs: [profile, source], with: { path: out/vectors.parquet } }',
      `table: { uses: export/lancedb, needs: [profile, source], with: { uri: gs://${BUCKET}/vec.lancedb, table: sequences, commit_rows: 100 } }`,
    );
    const root = writeProject({ 'flow.yaml': flow });
    const child = startCli(['run', 'flow.yaml', '--json'], root, env());
    let dataFiles = 0;
    gcs.onWrite = (_bucket, name) => {
      if (name.startsWith('vec.lancedb/sequences.lance/data/') && ++dataFiles === 2) child.kill('SIGKILL');
    };
    await exited(child);
    gcs.onWrite = () => {};
    expect(dataFiles).toBe(2);
    const resumed = await runCliAsync(['run', 'flow.yaml', '--json'], root, env());
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(events(resumed.stdout).filter((e) => e.kind === 'shard-resumed').length).toBeGreaterThan(0);
    expect(summaryOf(resumed.stdout, 'table')).toMatchObject({ rows: 300 });
    expect(gcs.objectNames(BUCKET, 'vec.lancedb/')).toContain('vec.lancedb/sequences.strand.json');
    const hits = await runCliAsync(['search', `gs://${BUCKET}/vec.lancedb`, '--id', sample[0]!.id, '--k', '300', '--json'], root, env());
    expect(hits.status, hits.stderr).toBe(0);
    const ids = (JSON.parse(hits.stdout) as { id: string }[]).map((h) => h.id);
    expect(ids[0]).toBe(sample[0]!.id);
    expect(new Set(ids).size).toBe(300);
    expect(readdirSync(root)).not.toContain('gs:');
  });

  it('refuses a gs:// input that names no object while loading, at its line (validate stays offline)', async () => {
    put('reads/other.fasta', '>a\nACGT\n');
    const root = writeProject({ 'flow.yaml': FASTA_FLOW(`gs://${BUCKET}/reads/*.fastq.gz`) });
    const plan = await runCliAsync(['plan', 'flow.yaml', '--json'], root, env());
    expect(plan.status).toBe(1);
    const diagnostics = (JSON.parse(plan.stdout) as { diagnostics: { code: string; message: string; location: { line: number } }[] })
      .diagnostics;
    expect(diagnostics).toEqual([
      expect.objectContaining({
        code: 'file-not-found',
        message: `step "source": no object matches path: gs://${BUCKET}/reads/*.fastq.gz`,
        location: expect.objectContaining({ line: 4 }),
      }),
    ]);
    const before = gcs.log.length;
    const validate = await runCliAsync(['validate', 'flow.yaml'], root, env());
    expect(validate.status, validate.stderr).toBe(0);
    expect(gcs.log.length).toBe(before);
  });

  it('tokenizes a gs:// FASTA object through the same listing and reads', async () => {
    put('reads/two.fasta', '>a\nACGTAC\n>b\nGGGCCC\n');
    const root = writeProject({});
    const tokens = await runCliAsync(['tokenize', `gs://${BUCKET}/reads/two.fasta`, '--tokenizer', 'kmer', '--with', 'k=3'], root, env());
    expect(tokens.status, tokens.stderr).toBe(0);
    expect(
      tokens.stdout
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split('\t')[0]),
    ).toEqual(['a', 'b']);
    const missing = await runCliAsync(['tokenize', `gs://${BUCKET}/reads/none.fasta`], root, env());
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain(`error: step "source": no object matches path: gs://${BUCKET}/reads/none.fasta`);
  });

  it('passes gs:// paths in recipes through untouched: written in the recipe, and given as recipe params', async () => {
    put('reads/sample.fasta.gz', readFileSync(join(REPO, 'workflows/data/sample.fasta.gz')));
    const recipe = `kind: recipe
version: 1
name: bucket-profile
params:
  out: { type: string, description: where the vectors go }
outputs:
  embeddings: "\${{ steps.profile.outputs.embeddings }}"
steps:
  source: { uses: source/fasta, with: { path: "gs://${BUCKET}/reads/*.fasta.gz", shard_rows: 100 } }
  profile: { uses: embed/kmer-profile, needs: [source], with: { k: 3 } }
  written: { uses: export/parquet, needs: [profile, source], with: { path: "gs://${BUCKET}/out/from-recipe.parquet", include_sequence: false } }
  given: { uses: export/parquet, needs: [profile, source], with: { path: "\${{ params.out }}", include_sequence: false } }
`;
    const flow = `version: 1
name: gcs-recipe
steps:
  vectors: { uses: ./recipes/bucket-profile.yaml, with: { out: "gs://${BUCKET}/out/from-param.parquet" } }
`;
    const root = writeProject({ 'flow.yaml': flow, 'recipes/bucket-profile.yaml': recipe });
    const run = await runCliAsync(['run', 'flow.yaml', '--json'], root, env());
    expect(run.status, run.stderr).toBe(0);
    expect(summaryOf(run.stdout, 'vectors.source')).toMatchObject({ records: 300, written: 300 });
    for (const name of ['out/from-recipe.parquet', 'out/from-param.parquet']) {
      const ids = (await parquetReadObjects({ file: toArrayBuffer(object(name)!.bytes), columns: ['id'] })).map((r) => r.id);
      expect(ids).toEqual(sample.map((r) => r.id));
    }
    expect(readdirSync(join(root, 'recipes'))).toEqual(['bucket-profile.yaml']);
    expect(readdirSync(root)).not.toContain('gs:');
  });

  it('refuses a recipe stored in a bucket at its uses: line, saying how to bring it into the project', async () => {
    const root = writeProject({
      'flow.yaml': `version: 1\nname: bucket-recipe\nsteps:\n  embed: { uses: "gs://${BUCKET}/recipes/nt-embed.yaml" }\n`,
    });
    const before = gcs.log.length;
    const validate = await runCliAsync(['validate', 'flow.yaml', '--json'], root, env());
    expect(validate.status).toBe(1);
    expect(JSON.parse(validate.stdout).diagnostics).toEqual([
      expect.objectContaining({
        code: 'unsupported-uri',
        message: `recipe gs://${BUCKET}/recipes/nt-embed.yaml is a gs:// URI; recipes are read from files in the project`,
        hint: `copy it in (gcloud storage cp gs://${BUCKET}/recipes/nt-embed.yaml recipes/) and write uses: ./recipes/nt-embed.yaml; strand.lock then pins it by digest`,
        location: expect.objectContaining({ file: 'flow.yaml', line: 4 }),
      }),
    ]);
    expect(gcs.log.length).toBe(before);
  });

  it('checks Application Default Credentials before any work, and never shows them', async () => {
    put('reads/sample.fasta.gz', readFileSync(join(REPO, 'workflows/data/sample.fasta.gz')));
    gcs.auth.required = true;
    gcs.auth.acceptedSubjects.add('subject-token-that-works');
    const root = writeProject({
      'flow.yaml': FASTA_FLOW(`gs://${BUCKET}/reads/sample.fasta.gz`),
      'subject.txt': 'subject-token-that-is-wrong',
    });
    const credentials = {
      type: 'external_account',
      audience: '//iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/p/providers/q',
      subject_token_type: 'urn:ietf:params:oauth:token-type:jwt',
      token_url: `${gcs.endpoint}/sts/v1/token`,
      credential_source: { file: join(root, 'subject.txt') },
    };
    writeFileSync(join(root, 'adc.json'), JSON.stringify(credentials));

    const missing = await runCliAsync(['run', 'flow.yaml'], root, env({ GOOGLE_APPLICATION_CREDENTIALS: join(root, 'nope.json') }));
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain(
      `error: the credentials in ${join(root, 'nope.json')} (GOOGLE_APPLICATION_CREDENTIALS): the file cannot be read (ENOENT); nothing was started`,
    );
    const wrong = await runCliAsync(['run', 'flow.yaml'], root, env({ GOOGLE_APPLICATION_CREDENTIALS: join(root, 'adc.json') }));
    expect(wrong.status).toBe(1);
    expect(wrong.stderr).toContain('were refused by the token endpoint (HTTP 400 invalid_grant); nothing was started');
    expect(wrong.stderr).toContain('hint: run `gcloud auth application-default login`');
    expect(gcs.log.filter((r) => r.path.startsWith('/storage/'))).toEqual([]);
    expect(existsSync(join(root, '.strand', 'runs'))).toBe(false);

    writeFileSync(join(root, 'subject.txt'), 'subject-token-that-works');
    const ok = await runCliAsync(['run', 'flow.yaml', '--json'], root, env({ GOOGLE_APPLICATION_CREDENTIALS: join(root, 'adc.json') }));
    expect(ok.status, ok.stderr).toBe(0);
    const journal = readdirSync(join(root, '.strand', 'runs'))
      .map((f) => readFileSync(join(root, '.strand', 'runs', f), 'utf8'))
      .join('');
    for (const text of [ok.stdout, ok.stderr, journal]) {
      expect(text).not.toContain('subject-token-that-works');
      expect(text).not.toContain('emulator-token-');
    }
  });
});

const FASTA_FLOW = (path: string) => `version: 1
name: gcs-fasta
steps:
  source: { uses: source/fasta, with: { path: "${path}", lineage: unite, shard_rows: 100 } }
  profile: { uses: embed/kmer-profile, needs: [source], with: { k: 3 } }
  table: { uses: export/parquet, needs: [profile, source], with: { path: out/vectors.parquet } }
`;

function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}
