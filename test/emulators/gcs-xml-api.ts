// The XML API side of the local GCS server (`/BUCKET/OBJECT`), the dialect LanceDB's object store (Rust
// object_store, as fake-gcs-server serves it in that crate's own tests) speaks: PUT with
// `x-goog-if-generation-match` (412) and `x-goog-copy-source`, GET and HEAD with ETag, Last-Modified,
// x-goog-generation and `Range` → 206, DELETE, `list-type=2` listings with prefix, delimiter and
// continuation tokens, and multipart uploads. Objects and generations are the JSON API's own.
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { byteRange, type GcsServer, type StoredObject } from './gcs-server.js';

type Respond = (status: number, body?: unknown, headers?: Record<string, string>) => void;

interface MultipartUpload {
  parts: Map<number, Buffer>;
}

const uploads = new WeakMap<GcsServer, Map<string, MultipartUpload>>();

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function xml(body: string): Buffer {
  return Buffer.from(`<?xml version="1.0" encoding="UTF-8"?>${body}`);
}

function etagOf(bytes: Buffer): string {
  return `"${createHash('md5').update(bytes).digest('hex')}"`;
}

function objectHeaders(object: StoredObject): Record<string, string> {
  return {
    etag: etagOf(object.bytes),
    'last-modified': new Date(object.updated).toUTCString(),
    'x-goog-generation': String(object.generation),
    'content-type': object.contentType,
  };
}

export function handleXmlApi(server: GcsServer, req: IncomingMessage, url: URL, body: Buffer, respond: Respond): void {
  const [bucketPart, ...rest] = url.pathname.slice(1).split('/');
  const bucketName = decodeURIComponent(bucketPart ?? '');
  const bucket = server.buckets.get(bucketName);
  const fail = (status: number, code: string): void =>
    respond(status, xml(`<Error><Code>${code}</Code><Message>${code}</Message></Error>`), { 'content-type': 'application/xml' });
  if (bucket === undefined) return fail(404, 'NoSuchBucket');
  const name = decodeURIComponent(rest.join('/'));
  const query = url.searchParams;
  if (name === '') {
    if (req.method !== 'GET') return fail(405, 'MethodNotAllowed');
    return list(server, bucketName, query, respond);
  }
  const pending = uploads.get(server) ?? new Map<string, MultipartUpload>();
  uploads.set(server, pending);
  const uploadId = query.get('uploadId');
  if (req.method === 'POST' && query.has('uploads')) {
    const id = `xml-upload-${pending.size + 1}-${name}`;
    pending.set(id, { parts: new Map() });
    return respond(
      200,
      xml(
        `<InitiateMultipartUploadResult><Bucket>${escapeXml(bucketName)}</Bucket><Key>${escapeXml(name)}</Key><UploadId>${escapeXml(id)}</UploadId></InitiateMultipartUploadResult>`,
      ),
    );
  }
  if (uploadId !== null) {
    const upload = pending.get(uploadId);
    if (upload === undefined) return fail(404, 'NoSuchUpload');
    if (req.method === 'PUT') {
      upload.parts.set(Number(query.get('partNumber')), body);
      return respond(200, undefined, { etag: etagOf(body) });
    }
    if (req.method === 'DELETE') {
      pending.delete(uploadId);
      return respond(204);
    }
    pending.delete(uploadId);
    const bytes = Buffer.concat([...upload.parts].sort(([a], [b]) => a - b).map(([, part]) => part));
    const object = server.put(
      bucketName,
      name,
      bytes,
      'application/octet-stream',
      {},
      (req.headers['x-goog-if-generation-match'] as string | undefined) ?? null,
    );
    if (object === 'precondition-failed') return fail(412, 'PreconditionFailed');
    respond(
      200,
      xml(
        `<CompleteMultipartUploadResult><Bucket>${escapeXml(bucketName)}</Bucket><Key>${escapeXml(name)}</Key><ETag>${etagOf(bytes)}</ETag></CompleteMultipartUploadResult>`,
      ),
      { 'x-goog-generation': String(object.generation) },
    );
    server.onWrite(bucketName, name);
    return;
  }
  if (req.method === 'PUT') {
    const precondition = (req.headers['x-goog-if-generation-match'] as string | undefined) ?? null;
    const source = req.headers['x-goog-copy-source'] as string | undefined;
    let bytes = body;
    if (source !== undefined) {
      const [fromBucket, ...fromName] = source.split('/');
      const from = server.buckets.get(decodeURIComponent(fromBucket ?? ''))?.get(decodeURIComponent(fromName.join('/')));
      if (from === undefined) return fail(404, 'NoSuchKey');
      bytes = from.bytes;
    }
    const object = server.put(bucketName, name, bytes, req.headers['content-type'] ?? 'application/octet-stream', {}, precondition);
    if (object === 'precondition-failed') return fail(412, 'PreconditionFailed');
    respond(200, undefined, { etag: etagOf(bytes), 'x-goog-generation': String(object.generation) });
    server.onWrite(bucketName, name);
    return;
  }
  const object = bucket.get(name);
  if (object === undefined) return fail(404, 'NoSuchKey');
  if (req.method === 'DELETE') {
    bucket.delete(name);
    return respond(204);
  }
  if (req.method === 'GET' || req.method === 'HEAD') {
    const generation = query.get('generation');
    if (generation !== null && Number(generation) !== object.generation) return fail(404, 'NoSuchKey');
    const range = byteRange(req.headers.range, object.bytes.length);
    if (range === 'unsatisfiable') return fail(416, 'InvalidRange');
    const served = range === undefined ? object.bytes : object.bytes.subarray(range.start, range.end + 1);
    const headers = {
      ...objectHeaders(object),
      ...(range === undefined ? {} : { 'content-range': `bytes ${range.start}-${range.end}/${object.bytes.length}` }),
    };
    if (req.method === 'HEAD') return respond(200, undefined, { ...headers, 'content-length': String(object.bytes.length) });
    return respond(range === undefined ? 200 : 206, served, headers);
  }
  return fail(405, 'MethodNotAllowed');
}

function list(server: GcsServer, bucketName: string, query: URLSearchParams, respond: Respond): void {
  const prefix = query.get('prefix') ?? '';
  const delimiter = query.get('delimiter');
  const after = query.get('continuation-token') ?? query.get('start-after') ?? '';
  const max = Math.min(server.pageSize, Number(query.get('max-keys') ?? server.pageSize));
  const bucket = server.buckets.get(bucketName)!;
  const contents: string[] = [];
  const prefixes = new Set<string>();
  let next: string | undefined;
  for (const name of server.objectNames(bucketName, prefix)) {
    if (name <= after) continue;
    if (contents.length + prefixes.size >= max) {
      next = name;
      break;
    }
    const cut = delimiter === null ? -1 : name.indexOf(delimiter, prefix.length);
    if (cut >= 0) prefixes.add(name.slice(0, cut + delimiter!.length));
    else {
      const object = bucket.get(name)!;
      contents.push(
        `<Contents><Key>${escapeXml(name)}</Key><LastModified>${object.updated}</LastModified><ETag>${etagOf(object.bytes)}</ETag><Size>${object.bytes.length}</Size></Contents>`,
      );
    }
  }
  // The token is the last name returned, so the next page starts after it.
  const token =
    next === undefined
      ? ''
      : `<NextContinuationToken>${escapeXml(
          server
            .objectNames(bucketName, prefix)
            .filter((n) => n < next)
            .pop() ?? '',
        )}</NextContinuationToken>`;
  const common = [...prefixes].map((p) => `<CommonPrefixes><Prefix>${escapeXml(p)}</Prefix></CommonPrefixes>`).join('');
  respond(
    200,
    xml(
      `<ListBucketResult><Name>${escapeXml(bucketName)}</Name><Prefix>${escapeXml(prefix)}</Prefix><KeyCount>${contents.length + prefixes.size}</KeyCount><MaxKeys>${max}</MaxKeys><IsTruncated>${next !== undefined}</IsTruncated>${contents.join('')}${common}${token}</ListBucketResult>`,
    ),
    { 'content-type': 'application/xml' },
  );
}
