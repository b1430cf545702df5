import { appendFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openAtomicFile, writeFileAtomic, writeFileAtomicAsync } from '../../engine/store/atomic-write.js';
import { CheckpointLog } from '../../engine/store/checkpoint-log.js';
import { FileDigests } from '../../engine/store/file-digests.js';
import { CorruptObjectError, ObjectStore } from '../../engine/store/object-store.js';
import { acquireStateLock } from '../../engine/store/state-lock.js';
import { sha256, type Sha256Hex } from '../../engine/util/sha256.js';
import { removeProjects, writeProject } from '../helpers/project.js';

afterEach(removeProjects);

describe('atomic writes and the object store', () => {
  it('writes through a temporary name and leaves no temporary behind', () => {
    const root = writeProject({});
    writeFileAtomic(join(root, 'a', 'b.json'), '{"x":1}');
    expect(readFileSync(join(root, 'a', 'b.json'), 'utf8')).toBe('{"x":1}');
    expect(readdirSync(join(root, 'a'))).toEqual(['b.json']);
  });

  it('streams a file in pieces and shows it under its name only once committed', () => {
    const root = writeProject({});
    const file = openAtomicFile(join(root, 'out', 'v.parquet'));
    file.write('PAR1');
    file.write(new Uint8Array([1, 2, 3]));
    expect(readdirSync(join(root, 'out')).filter((name) => name === 'v.parquet')).toEqual([]);
    file.commit();
    expect([...readFileSync(join(root, 'out', 'v.parquet'))]).toEqual([80, 65, 82, 49, 1, 2, 3]);
    expect(readdirSync(join(root, 'out'))).toEqual(['v.parquet']);
  });

  it('keeps the previous file and leaves no temporary when a write is abandoned', () => {
    const root = writeProject({ 'out/v.parquet': 'complete' });
    const file = openAtomicFile(join(root, 'out', 'v.parquet'));
    file.write('half');
    file.abort();
    expect(readFileSync(join(root, 'out', 'v.parquet'), 'utf8')).toBe('complete');
    expect(readdirSync(join(root, 'out'))).toEqual(['v.parquet']);
  });

  it('reports why a commit failed, once, and removes the temporary', () => {
    const root = writeProject({ 'out/v.parquet/inside': 'a directory is in the way' });
    const file = openAtomicFile(join(root, 'out', 'v.parquet'));
    file.write('data');
    expect(() => file.commit()).toThrow(/EISDIR|ENOTEMPTY|EEXIST/);
    file.abort();
    expect(readdirSync(join(root, 'out'))).toEqual(['v.parquet']);
    expect(() => writeFileAtomic(join(root, 'out', 'v.parquet'), 'data')).toThrow(/EISDIR|ENOTEMPTY|EEXIST/);
    expect(readdirSync(join(root, 'out'))).toEqual(['v.parquet']);
  });

  it('names objects by content and reads them back verified', () => {
    const store = new ObjectStore(writeProject({}));
    const digest = store.put('hello');
    expect(digest).toBe(sha256('hello'));
    expect(store.get(digest).toString()).toBe('hello');
  });

  it('detects a bit-flipped object, deletes it and never returns it', () => {
    const store = new ObjectStore(writeProject({}));
    const digest = store.put('hello world');
    const bytes = readFileSync(store.pathOf(digest));
    bytes[0] = bytes[0]! ^ 1;
    writeFileSync(store.pathOf(digest), bytes);
    expect(() => store.get(digest)).toThrow(CorruptObjectError);
    expect(store.has(digest)).toBe(false);
    expect(store.put('hello world')).toBe(digest);
    expect(store.get(digest).toString()).toBe('hello world');
  });

  it('writes an object off the main thread, complete under its name, in a directory it makes', async () => {
    const store = new ObjectStore(writeProject({}));
    const bytes = new Uint8Array(300_000).map((_, i) => i % 251);
    const digest = await store.putAsync(bytes);
    expect(digest).toBe(sha256(bytes));
    expect(store.get(digest).equals(bytes)).toBe(true);
    expect(readdirSync(dirname(store.pathOf(digest)))).toEqual([digest.slice(2)]);
    expect(await store.putAsync(bytes)).toBe(digest); // already there: verified, not rewritten
  });

  it('leaves nothing under the name when an async write fails', async () => {
    const root = writeProject({ 'out/v.parquet/inside': 'a directory is in the way' });
    await expect(writeFileAtomicAsync(join(root, 'out', 'v.parquet'), 'data')).rejects.toThrow(/EISDIR|ENOTEMPTY|EEXIST/);
    expect(readdirSync(join(root, 'out'))).toEqual(['v.parquet']);
  });

  it('lists leftover temporaries apart from objects', () => {
    const root = writeProject({ 'ab/.tmp-cdef-1-xyz': 'partial' });
    const store = new ObjectStore(root);
    store.put('x');
    const { objects, temporaries } = store.list();
    expect(objects.map((o) => o.digest)).toEqual([sha256('x')]);
    expect(temporaries).toHaveLength(1);
  });
});

describe('checkpoint log', () => {
  it('keeps completed units and ignores a torn last line', () => {
    const dir = writeProject({});
    const key = 'f'.repeat(64) as Sha256Hex;
    const log = new CheckpointLog(dir, key);
    log.record({ unit: 'output:x:0', digest: sha256('a'), rows: 3 });
    log.record({ unit: 'once:w' });
    appendFileSync(join(dir, `${key}.jsonl`), '{"unit":"output:x:1","dig');
    const reread = new CheckpointLog(dir, key);
    expect([...reread.entries.keys()]).toEqual(['output:x:0', 'once:w']);
  });

  it('appends entries recorded together in order, each counted once durable', async () => {
    const dir = writeProject({});
    const key = 'e'.repeat(64) as Sha256Hex;
    const log = new CheckpointLog(dir, key);
    const units = Array.from({ length: 20 }, (_, i) => `output:x:${i}`);
    const recorded = units.map((unit, i) => log.recordAsync({ unit, digest: sha256(unit), rows: i }));
    expect(log.entries.size).toBe(0); // nothing counts before its line is durable
    await Promise.all(recorded);
    expect([...log.entries.keys()]).toEqual(units);
    expect([...new CheckpointLog(dir, key).entries.keys()]).toEqual(units);
    expect(
      readFileSync(join(dir, `${key}.jsonl`), 'utf8')
        .split('\n')
        .filter((l) => l !== ''),
    ).toHaveLength(20);
  });
});

describe('file digests', () => {
  it('hashes content, notices edits, and trusts unchanged stat data', () => {
    const root = writeProject({ 'in.txt': 'one' });
    const digests = new FileDigests(join(root, 'cache.json'));
    const first = digests.digest(join(root, 'in.txt'));
    expect(first).toBe(sha256('one'));
    writeFileSync(join(root, 'in.txt'), 'two!');
    expect(digests.digest(join(root, 'in.txt'))).toBe(sha256('two!'));
    digests.save();
    // A second reader trusts the saved entry while size, mtime and inode are unchanged.
    const cache = JSON.parse(readFileSync(join(root, 'cache.json'), 'utf8'));
    cache[join(root, 'in.txt')].digest = 'cafe';
    writeFileSync(join(root, 'cache.json'), JSON.stringify(cache));
    expect(new FileDigests(join(root, 'cache.json')).digest(join(root, 'in.txt'))).toBe('cafe');
  });

  it('digests directories by names and contents', () => {
    const root = writeProject({ 'd/a': '1', 'd/b': '2' });
    const digests = new FileDigests(join(root, 'cache.json'));
    const before = digests.digest(join(root, 'd'));
    writeFileSync(join(root, 'd', 'b'), '3');
    expect(digests.digest(join(root, 'd'))).not.toBe(before);
    expect(digests.digest(join(root, 'missing'))).toBeUndefined();
  });
});

describe('state lock', () => {
  it('refuses a second holder and names the first', () => {
    const path = join(writeProject({}), 'lock');
    const first = acquireStateLock(path, 'strand run a.yaml', new Date('2026-01-01T00:00:00Z'));
    expect(first.acquired).toBe(true);
    const second = acquireStateLock(path, 'strand run b.yaml', new Date());
    expect(second).toMatchObject({
      acquired: false,
      holder: { pid: process.pid, command: 'strand run a.yaml', startedAt: '2026-01-01T00:00:00.000Z' },
    });
    if (first.acquired) first.release();
    expect(acquireStateLock(path, 'strand run b.yaml', new Date()).acquired).toBe(true);
  });

  it('recovers a lock left by a process that no longer exists', () => {
    const path = join(writeProject({}), 'lock');
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    writeFileSync(path, JSON.stringify({ pid: Number(dead.stdout), host: hostname(), startedAt: 'then', command: 'strand run old.yaml' }));
    const result = acquireStateLock(path, 'strand run new.yaml', new Date());
    expect(result).toMatchObject({ acquired: true, recovered: { pid: Number(dead.stdout) } });
  });
});
