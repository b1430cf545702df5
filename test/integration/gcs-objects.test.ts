// The Cloud Storage data adapter (engine/cloud/gcs-objects.ts) and the local server's ranged reads,
// through the official client and against the local GCS server (test/emulators).
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createStorage } from '../../engine/cloud/storage-client.js';
import { GcsObjects } from '../../engine/cloud/gcs-objects.js';
import { GcsServer } from '../emulators/gcs-server.js';

let server: GcsServer;
let objects: GcsObjects;
const bytes = randomBytes(300_000);

beforeEach(async () => {
  server = await new GcsServer().start();
  server.createBucket('data-bkt');
  server.put('data-bkt', 'x/blob.bin', bytes, 'application/octet-stream', {}, null);
  objects = new GcsObjects({ storageEndpoint: server.endpoint, authenticate: false }, 2);
});
afterEach(() => server.stop());

describe('GCS data adapter', () => {
  it('serves ranged reads as 206 to the official client, as GCS does', async () => {
    const storage = createStorage({ projectId: 'p', apiEndpoint: server.endpoint });
    const [part] = await storage.bucket('data-bkt').file('x/blob.bin').download({ start: 1000, end: 1999, validation: false });
    expect(Buffer.compare(part, bytes.subarray(1000, 2000))).toBe(0);
    expect(server.log.at(-1)).toMatchObject({ status: 206, bytes: 1000 });
  });

  it('lists a glob page by page and reads exactly the listed generation', async () => {
    for (const name of ['x/a.fasta', 'x/b.fasta', 'x/c.fasta', 'x/sub/d.fasta'])
      server.put('data-bkt', name, Buffer.from('>a\nACGT\n'), 'text/plain', {}, null);
    const listed = await objects.list('gs://data-bkt/x/*.fasta');
    expect(listed.map((v) => v.name)).toEqual(['x/a.fasta', 'x/b.fasta', 'x/c.fasta']);
    expect(server.log.filter((r) => r.path === '/storage/v1/b/data-bkt/o').length).toBe(3);
    const [blob] = await objects.list('gs://data-bkt/x/blob.bin');
    expect(Buffer.compare(Buffer.from(await objects.read(blob!, 10, 20)), bytes.subarray(10, 20))).toBe(0);
    server.put('data-bkt', 'x/blob.bin', Buffer.from('new'), 'application/octet-stream', {}, null);
    await expect(objects.read(blob!, 0, 10)).rejects.toThrow(
      /^gs:\/\/data-bkt\/x\/blob.bin changed after the plan: generation \d+ was planned, \d+ is there now$/,
    );
  });

  it('writes an object once, verified; an aborted write leaves nothing', async () => {
    const writer = objects.createWriter('gs://data-bkt/out/one.bin');
    await writer.write(bytes.subarray(0, 1000));
    await writer.write(bytes.subarray(1000, 5000));
    await writer.commit();
    expect(Buffer.compare(server.buckets.get('data-bkt')!.get('out/one.bin')!.bytes, bytes.subarray(0, 5000))).toBe(0);
    const again = objects.createWriter('gs://data-bkt/out/one.bin');
    await again.write(bytes.subarray(0, 10));
    await expect(again.commit()).rejects.toThrow('gs://data-bkt/out/one.bin already exists');
    const aborted = objects.createWriter('gs://data-bkt/out/two.bin');
    await aborted.write(bytes.subarray(0, 10));
    aborted.abort();
    expect(server.objectNames('data-bkt', 'out/')).toEqual(['out/one.bin']);
  });
});
