// The CLI verbs and their exit codes, as a user meets them.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { copyFromRepo, REPO, removeProjects, runCli, writeProject } from '../helpers/project.js';

afterEach(removeProjects);

const FLOW = `version: 1
name: small
params:
  input: { type: string, default: workflows/data/sample.parquet }
steps:
  source: { uses: source/parquet, with: { path: "\${{ params.input }}", shard_rows: 400 } }
  profile: { uses: embed/kmer-profile, needs: [source], with: { k: 3 } }
  table: { uses: export/parquet, needs: [profile, source], with: { path: out/profiles.parquet } }
`;

function project(files: Record<string, string> = {}): string {
  const root = writeProject({ 'flow.yaml': FLOW, ...files });
  copyFromRepo(root, 'workflows/data/sample.parquet');
  return root;
}

describe('strand CLI', () => {
  it('prints help and exits 2 on usage errors', () => {
    const root = project();
    expect(runCli(['--help'], root).stdout).toContain('validate');
    expect(runCli(['plan', '--help'], root).stdout).toContain('--check');
    expect(runCli(['frobnicate'], root)).toMatchObject({ status: 2 });
    expect(runCli(['run', 'flow.yaml', '--jobz', '2'], root)).toMatchObject({
      status: 2,
      stderr: expect.stringContaining('unknown option --jobz'),
    });
    expect(runCli(['run'], root)).toMatchObject({ status: 2, stderr: expect.stringContaining('missing workflow FILE') });
  });

  it('validates, and reports errors as file:line:column without a stack trace', () => {
    const root = project({ 'bad.yaml': FLOW.replace('k: 3', 'k: 9').replace('needs: [profile, source]', 'needs: [profile, sourse]') });
    expect(runCli(['validate', 'flow.yaml'], root)).toMatchObject({
      status: 0,
      stdout: 'flow.yaml: ok (3 steps: source, profile, table)\n',
    });
    const bad = runCli(['validate', 'bad.yaml'], root);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('bad.yaml:7:68: error: steps.profile.with.k must be <= 6 [invalid-value]');
    expect(bad.stderr).toContain(
      'bad.yaml:8:51: error: step "table" needs "sourse", which is not a step (did you mean "source"?) [unknown-step]',
    );
    expect(bad.stderr).not.toMatch(/\n\s+at /);
    const json = JSON.parse(runCli(['validate', 'bad.yaml', '--json'], root).stdout);
    expect(json.diagnostics.map((d: { code: string }) => d.code)).toEqual(['invalid-value', 'unknown-step']);
  });

  it('takes gs:// where a step reads or writes Cloud Storage, refuses other URIs at validate time, located, and writes nothing', () => {
    const flow = `version: 1
name: uris
steps:
  source: { uses: source/parquet, with: { path: "gs://my-bucket/its/*.parquet" } }
  profile: { uses: embed/kmer-profile, needs: [source], with: { k: 3 } }
  vectors: { uses: export/lancedb, needs: [profile, source], with: { uri: gs://my-bucket/vec.lancedb, table: t } }
  copy: { uses: export/parquet, needs: [profile, source], with: { path: s3://other/p.parquet } }
  reads: { uses: source/fasta, with: { path: gs://my-bucket/a.fasta.gz, taxonomy: gs://my-bucket/tax.tsv } }
`;
    const root = project({ 'uris.yaml': flow });
    for (const verb of ['validate', 'run']) {
      const refused = runCli([verb, 'uris.yaml'], root);
      expect(refused.status, verb).toBe(1);
      const errors = refused.stderr.split('\n').filter((l) => l.includes(': error: '));
      expect(errors).toEqual([
        'uris.yaml:7:73: error: step "copy": path: s3://other/p.parquet is a s3:// URI; export/parquet path takes local paths and gs:// URIs [unsupported-uri]',
        'uris.yaml:8:83: error: step "reads": taxonomy: gs://my-bucket/tax.tsv is a gs:// URI; source/fasta taxonomy takes local paths only [unsupported-uri]',
      ]);
      expect(refused.stderr).toContain('hint: copy the objects to a local folder');
    }
    expect(existsSync(join(root, 'gs:'))).toBe(false);
    expect(existsSync(join(root, 's3:'))).toBe(false);
    expect(existsSync(join(root, '.strand', 'runs'))).toBe(false);
  });

  it('explains reruns in plan, as text and JSON', () => {
    const root = project();
    expect(runCli(['plan', 'flow.yaml'], root).stdout).toMatch(/will run +source +source\/parquet +no previous result/);
    expect(runCli(['run', 'flow.yaml'], root).status).toBe(0);
    writeFileSync(join(root, 'flow.yaml'), FLOW.replace('k: 3', 'k: 4'));
    const plan = JSON.parse(runCli(['plan', 'flow.yaml', '--json'], root).stdout);
    expect(plan.steps.map((s: { status: string }) => s.status)).toEqual(['cached', 'will-run', 'will-run']);
    expect(plan.steps[1].reasons.map((r: { text: string }) => r.text)).toEqual(['params.k changed 3 -> 4']);
    expect(plan.steps[2].reasons.map((r: { text: string }) => r.text)).toEqual(['upstream step profile will run']);
  });

  it('notices an edited input file', () => {
    const root = project();
    expect(runCli(['run', 'flow.yaml'], root).status).toBe(0);
    copyFromRepo(root, 'models/tiny-nt.onnx');
    const plan = runCli(['plan', 'flow.yaml', '--param', 'input=models/tiny-nt.onnx'], root);
    expect(plan.stdout).toMatch(
      /will run +source .*params.path changed "workflows\/data\/sample.parquet" -> "models\/tiny-nt.onnx"; input file path changed/,
    );
  });

  it('prints the graph as Mermaid and DOT', () => {
    const root = project();
    expect(runCli(['graph', 'flow.yaml'], root).stdout).toContain('  profile -->|embeddings| table');
    expect(runCli(['graph', 'flow.yaml', '--format', 'dot'], root).stdout).toContain('"source" -> "profile" [label="sequences"];');
  });

  it('lists runs and cache entries, verifies the store and collects garbage', () => {
    const root = project();
    runCli(['run', 'flow.yaml'], root);
    writeFileSync(join(root, 'flow.yaml'), FLOW.replace('k: 3', 'k: 4'));
    runCli(['run', 'flow.yaml'], root);
    expect(runCli(['runs'], root).stdout).toMatch(/small {2}ok in .*ran 3, cached 0\n.*small {2}ok in .*ran 2, cached 1\n$/);
    expect(runCli(['cache', 'ls'], root).stdout.trim().split('\n')).toHaveLength(5);
    expect(runCli(['cache', 'verify'], root)).toMatchObject({ status: 0 });
    expect(runCli(['cache', 'gc'], root).stdout).toMatch(/^kept 3 results .* removed 2 results/);
    expect(runCli(['plan', 'flow.yaml', '--check'], root).status).toBe(0);
    expect(runCli(['cache', 'frob'], root).status).toBe(2);
  });

  it('lists the cache with no verb, as `strand runs` lists runs', () => {
    const root = project();
    expect(runCli(['cache'], root)).toEqual({ status: 0, stdout: 'the cache is empty\n', stderr: '' });
    runCli(['run', 'flow.yaml'], root);
    const ls = runCli(['cache', 'ls'], root);
    expect(ls.stdout).toMatch(/ small\.source {2}source\/parquet /);
    expect(runCli(['cache'], root)).toEqual(ls);
    expect(runCli(['cache', '--json'], root)).toEqual(runCli(['cache', 'ls', '--json'], root));
    expect(runCli(['cache', 'frob'], root)).toMatchObject({
      status: 2,
      stderr: expect.stringContaining('strand cache takes ls (the default), verify or gc, not "frob"') as unknown,
    });
  });

  it('plans, runs and verifies alike when a cached object is corrupt', () => {
    const root = project();
    expect(runCli(['run', 'flow.yaml'], root).status).toBe(0);
    const objectPath = (digest: string): string => join(root, '.strand/objects', digest.slice(0, 2), digest.slice(2));
    const key = JSON.parse(runCli(['plan', 'flow.yaml', '--json'], root).stdout).steps[1].key;
    const record = JSON.parse(readFileSync(join(root, '.strand/steps', `${key}.json`), 'utf8'));
    const shard: string = JSON.parse(readFileSync(objectPath(record.outputs.embeddings), 'utf8')).shards[0].digest;
    const bytes = readFileSync(objectPath(shard));
    bytes[bytes.length - 20] = bytes[bytes.length - 20]! ^ 0xff;
    writeFileSync(objectPath(shard), bytes);
    const corrupt = `cache entry is corrupt (store object ${shard.slice(0, 12)} is corrupt (its content does not match its digest))`;

    const plan = runCli(['plan', 'flow.yaml'], root).stdout;
    expect(plan).toMatch(/cached +source /);
    expect(plan).toContain(`will run  profile  embed/kmer-profile  ${corrupt}`);
    expect(plan).toMatch(/will run +table +export\/parquet +upstream step profile will run/);
    const json = JSON.parse(runCli(['plan', 'flow.yaml', '--json'], root).stdout);
    expect(json.steps[1]).toMatchObject({ status: 'will-run', key, reasons: [{ kind: 'corrupt-entry', text: corrupt }] });

    expect(runCli(['cache', 'verify', '--json'], root)).toMatchObject({
      status: 1,
      stdout: expect.stringContaining(`"corrupt": [\n    "${shard}"\n  ]`),
    });
    expect(runCli(['plan', 'flow.yaml'], root).stdout).toContain(
      `will run  profile  embed/kmer-profile  cache entry is corrupt (store object ${shard.slice(0, 12)} is missing)`,
    );

    const events = runCli(['run', 'flow.yaml', '--json'], root)
      .stdout.trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const steps = events.filter((e) => ['step-cached', 'step-started', 'step-finished'].includes(e.kind)).map((e) => `${e.kind}:${e.step}`);
    expect(steps).toEqual(['step-cached:source', 'step-started:profile', 'step-finished:profile', 'step-cached:table']);
    expect(events.find((e) => e.kind === 'step-started').reasons[0].kind).toBe('corrupt-entry');
    expect(runCli(['cache', 'verify'], root).status).toBe(0);
    expect(runCli(['plan', 'flow.yaml', '--check'], root).status).toBe(0);
  });

  it('lists steps and prints the committed schema', () => {
    const root = project();
    expect(runCli(['steps'], root).stdout).toContain('embed/onnx @1');
    expect(runCli(['steps', 'embed/onnx'], root).stdout).toContain('pooling: "mean"|"cls"|"max" (default "mean")');
    expect(runCli(['schema'], root).stdout).toBe(readFileSync(join(REPO, 'schemas/workflow.schema.json'), 'utf8'));
  });

  it('tokenizes a FASTA file', () => {
    const root = writeProject({ 'q.fasta': '>a desc\nATTCCGATTCCG\nATTCCG\n>b\nNNAAAAAA\n' });
    expect(runCli(['tokenize', 'q.fasta'], root).stdout).toBe('a\t3 369 369 369\nb\t3 4106 4106 6\n');
    expect(runCli(['tokenize', 'q.fasta', '--with', 'version=1', '--max-tokens', '3'], root).stdout).toBe('a\t3 367 367\nb\t3 4104 4104\n');
  });

  it("tokenizes with the steps' own settings and reports their errors", () => {
    const root = writeProject({ 'q.fasta': '>a\nACGTAC\n>a\nGGG\n' });
    copyFromRepo(root, 'workflows/data/sample.parquet');
    expect(runCli(['tokenize', 'q.fasta'], root)).toMatchObject({
      status: 1,
      stderr: 'error: q.fasta:3 record 2: id a appears more than once\nhint: make ids unique, or set duplicates: skip to keep the first\n',
    });
    expect(runCli(['tokenize', 'q.fasta', '--tokenizer', 'char', '--with', 'duplicates=skip'], root).stdout).toBe('a\t7 8 9 10 7 8 1\n');
    expect(runCli(['tokenize', 'missing.fasta'], root)).toMatchObject({
      status: 1,
      stderr: expect.stringContaining('error: no file matches missing.fasta'),
    });
    expect(runCli(['tokenize', 'q.fasta', '--tokenizer', 'kmer', '--with', 'k=9'], root)).toMatchObject({
      status: 1,
      stderr: expect.stringContaining('error: steps.tokenize.with.k must be <= 6'),
    });
    const parquet = runCli(
      ['tokenize', 'workflows/data/sample.parquet', '--with', 'sequence_column=genus', '--with', 'invalid=skip'],
      root,
    );
    expect(parquet.stdout.split('\n')).toHaveLength(1);
    expect(parquet.stderr).toContain('no sequences to write: the input has 1000 records and all were skipped');
  });
});

describe('bad input', () => {
  it('names a truncated Parquet file, exits 1 and commits nothing', () => {
    const root = project();
    const bytes = readFileSync(join(root, 'workflows/data/sample.parquet'));
    writeFileSync(join(root, 'workflows/data/sample.parquet'), bytes.subarray(0, bytes.length / 2));
    const run = runCli(['run', 'flow.yaml'], root);
    expect(run.status).toBe(1);
    expect(run.stdout).toMatch(/FAILED +source: workflows\/data\/sample.parquet is not a readable Parquet file/);
    expect(run.stdout).toContain('blocked   profile');
    expect(runCli(['cache', 'ls'], root).stdout).toBe('the cache is empty\n');
  });

  it('says that a search path does not exist, or holds no table, before asking for a table', () => {
    const root = writeProject({ 'out/empty.lancedb/.keep': '', 'out/file.lancedb': 'not a directory' });
    const hint = 'hint: give the directory export/lancedb wrote (its uri:), e.g. out/quickstart.lancedb\n';
    expect(runCli(['search', 'out/missing.lancedb', '--id', 'KY106088'], root)).toEqual({
      status: 1,
      stdout: '',
      stderr: `error: out/missing.lancedb does not exist\n${hint}`,
    });
    expect(runCli(['search', 'out/file.lancedb', '--id', 'KY106088'], root).stderr).toBe(
      `error: out/file.lancedb is a file, not a LanceDB directory\n${hint}`,
    );
    expect(runCli(['search', 'out/empty.lancedb', '--id', 'KY106088'], root)).toMatchObject({
      status: 1,
      stderr: `error: out/empty.lancedb holds no LanceDB table\n${hint}`,
    });
    expect(existsSync(join(root, 'out/missing.lancedb'))).toBe(false);
  });

  it('names a missing column and lists the ones there are', () => {
    const root = project({ 'flow.yaml': FLOW.replace('shard_rows: 400', 'shard_rows: 400, sequence_column: seq') });
    expect(runCli(['run', 'flow.yaml'], root).stdout).toContain('has no column "seq"');
  });

  it('stops at non-DNA text under invalid: error, naming the record', () => {
    const root = writeProject({
      'flow.yaml':
        'version: 1\nname: f\nsteps:\n  s: { uses: source/fasta, with: { path: in.fa } }\n  p: { uses: embed/kmer-profile, needs: [s] }\n',
      'in.fa': '>ok\nACGT\n>bad\nACGTQQ\n',
    });
    const run = runCli(['run', 'flow.yaml'], root);
    expect(run.status).toBe(1);
    expect(run.stdout).toContain('in.fa:3 record 2 (id bad): character "Q" at position 5 is not a nucleotide');
    expect(run.stdout).toContain('hint: clean the input, or set invalid: skip');
  });

  it('reports a truncated gzip FASTA', () => {
    const root = writeProject({ 'flow.yaml': 'version: 1\nname: f\nsteps:\n  s: { uses: source/fasta, with: { path: in.fa.gz } }\n' });
    const gz = readFileSync(join(REPO, 'workflows/data/sample.fasta.gz'));
    writeFileSync(join(root, 'in.fa.gz'), gz.subarray(0, gz.length - 100));
    const run = runCli(['run', 'flow.yaml'], root);
    expect(run.status).toBe(1);
    expect(run.stdout).toMatch(/FAILED +s: in.fa.gz: cannot read \(unexpected end of file\)/);
  });

  it('refuses an empty input', () => {
    const root = writeProject({
      'flow.yaml': 'version: 1\nname: f\nsteps:\n  s: { uses: source/fasta, with: { path: in.fa } }\n',
      'in.fa': '',
    });
    expect(runCli(['run', 'flow.yaml'], root).stdout).toContain('no sequences to write: the input has 0 records');
  });

  it('refuses a model whose inputs do not match', () => {
    const root = project({
      'flow.yaml':
        'version: 1\nname: f\nsteps:\n  s: { uses: source/parquet, with: { path: workflows/data/sample.parquet } }\n  t: { uses: tokenize/nucleotide-transformer, needs: [s] }\n  e: { uses: embed/onnx, needs: [t], with: { model: model.onnx } }\n',
      'model.onnx': 'not an onnx model',
    });
    const run = runCli(['run', 'flow.yaml'], root);
    expect(run.status).toBe(1);
    expect(run.stdout).toContain('cannot load ONNX model model.onnx');
  });

  it('refuses to append vectors of another dimension to a LanceDB table', () => {
    const flow = (k: number, mode: string) =>
      `version: 1\nname: f${k}\nsteps:\n  s: { uses: source/parquet, with: { path: workflows/data/sample.parquet } }\n  p: { uses: embed/kmer-profile, needs: [s], with: { k: ${k} } }\n  x: { uses: export/lancedb, needs: [p], with: { uri: out/v.lancedb, table: t, mode: ${mode} } }\n`;
    const root = project({ 'a.yaml': flow(3, 'create'), 'b.yaml': flow(4, 'append') });
    expect(runCli(['run', 'a.yaml'], root).status).toBe(0);
    const run = runCli(['run', 'b.yaml'], root);
    expect(run.status).toBe(1);
    expect(run.stdout).toContain('table t in out/v.lancedb has 64-dimensional vectors; these are 256-dimensional');
  });

  it('reports a local plugin that fails to load at its uses line', () => {
    const root = project({ 'p.yaml': 'version: 1\nname: f\nsteps:\n  s: { uses: ./plugins/missing.js }\n' });
    const run = runCli(['validate', 'p.yaml'], root);
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/p.yaml:4:14: error: plugin file .*missing.js does not exist \[plugin-load-failed\]/);
  });
});
