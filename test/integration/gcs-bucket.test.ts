// The GCS adapter through the official client against the local GCS JSON API server (test/emulators).
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GcsBucket } from '../../engine/cloud/gcs-bucket.js';
import { parseGcsUri } from '../../engine/cloud/gcs-uri.js';
import { crc32cBase64, GcsServer } from '../emulators/gcs-server.js';

let server: GcsServer;
let bucket: GcsBucket;

beforeEach(async () => {
  server = await new GcsServer().start();
  server.createBucket('strand-test');
  bucket = new GcsBucket(parseGcsUri('gs://strand-test/runs/a')!, {
    projectId: 'p',
    apiEndpoint: server.endpoint,
    resumableAboveBytes: 512 * 1024,
    chunkBytes: 256 * 1024,
  });
});
afterEach(() => server.stop());

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('GCS bucket adapter', () => {
  it('computes CRC32C as GCS does (the RFC 3720 check value)', () => {
    expect(Buffer.from(crc32cBase64(Buffer.from('123456789')), 'base64').toString('hex')).toBe('e3069283');
  });

  it('writes only if absent, reads back, lists with pages and deletes', async () => {
    expect(await bucket.exists()).toBe(true);
    expect(await bucket.putIfAbsent('x/one', Buffer.from('first'))).toBe('written');
    expect(await bucket.putIfAbsent('x/one', Buffer.from('second'))).toBe('exists');
    expect((await bucket.get('x/one'))!.toString()).toBe('first');
    expect(await bucket.get('x/missing')).toBeUndefined();
    for (let i = 0; i < 1005; i++) await bucket.putJsonIfAbsent(`many/${String(i).padStart(4, '0')}`, { i });
    const names = await bucket.list('many/');
    expect(names).toHaveLength(1005);
    expect(names[1004]).toBe('many/1004');
    expect(server.log.filter((r) => r.method === 'GET' && r.path.endsWith('/o')).length).toBeGreaterThanOrEqual(2);
    expect(await bucket.deletePrefix('many/')).toBe(1005);
    expect(await bucket.list('many/')).toEqual([]);
    expect(server.objectNames('strand-test')).toEqual(['runs/a/x/one']);
  });

  it('uploads large objects resumably in chunks, answered with 308', async () => {
    const bytes = randomBytes(1024 * 1024 + 17);
    expect(await bucket.putIfAbsent('big', bytes)).toBe('written');
    expect(server.log.filter((r) => r.status === 308).length).toBeGreaterThanOrEqual(3);
    expect(sha((await bucket.get('big'))!)).toBe(sha(bytes));
  });

  it('retries 429 and 503 with backoff', async () => {
    server.inject({ kind: 'status', status: 429, method: 'POST', times: 1 });
    server.inject({ kind: 'status', status: 503, method: 'GET', times: 1 });
    expect(await bucket.putIfAbsent('retried', Buffer.from('ok'))).toBe('written');
    expect((await bucket.get('retried'))!.toString()).toBe('ok');
    expect(server.log.map((r) => r.status)).toEqual(expect.arrayContaining([429, 503]));
  });

  it('resumes a resumable upload whose connection dropped', async () => {
    const bytes = randomBytes(1024 * 1024);
    server.inject({ kind: 'drop-resumable', afterBytes: 100 * 1024, times: 1 });
    expect(await bucket.putIfAbsent('dropped', bytes)).toBe('written');
    expect(server.pendingFaults).toBe(0);
    expect(sha((await bucket.get('dropped'))!)).toBe(sha(bytes));
    expect(server.writes.filter((n) => n.endsWith('/dropped'))).toHaveLength(1);
  });

  it('streams files up and down (resumable, through a dropped connection) without reading them whole', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'strand-gcs-'));
    try {
      const bytes = randomBytes(1536 * 1024);
      writeFileSync(join(dir, 'model.onnx'), bytes);
      server.inject({ kind: 'drop-resumable', afterBytes: 300 * 1024, times: 1 });
      expect(await bucket.uploadFileIfAbsent('objects/model', join(dir, 'model.onnx'))).toBe('written');
      expect(server.pendingFaults).toBe(0);
      expect(await bucket.uploadFileIfAbsent('objects/model', join(dir, 'model.onnx'))).toBe('exists');
      await bucket.downloadFile('objects/model', join(dir, 'copy.onnx'));
      expect(sha(readFileSync(join(dir, 'copy.onnx')))).toBe(sha(bytes));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a download whose bytes do not match the stored checksums', async () => {
    await bucket.putIfAbsent('c', Buffer.from('good bytes'));
    server.inject({ kind: 'corrupt-media', times: 1 });
    await expect(bucket.get('c')).rejects.toThrow(/did not match/);
    expect((await bucket.get('c'))!.toString()).toBe('good bytes');
  });
});
