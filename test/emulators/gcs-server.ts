// A local Google Cloud Storage JSON API server for tests: the official @google-cloud/storage client talks
// to it over HTTP exactly as it talks to storage.googleapis.com. It owns buckets of objects in memory and
// speaks the parts of the wire protocol Strand uses: multipart and resumable uploads (308 with Range for
// partial chunks), alt=media downloads with x-goog-hash and ranged reads (`Range` → 206, as GCS answers),
// a download of a `generation` that is no longer live → 404 (a bucket without versioning), metadata, list
// with prefix and pageToken (pages of at most `pageSize`), delete, and ifGenerationMatch preconditions
// (412). md5Hash and crc32c are computed here independently of the client (which deletes an upload and
// fails when they disagree). The XML API that LanceDB's object store speaks is in gcs-xml-api.ts, and an
// STS token endpoint for Application Default Credentials in gcs-token-endpoint.ts. Faults can be injected:
// error statuses (429, 503) for matching requests, a resumable upload or a download whose connection drops
// after some bytes, and a corrupted download. Writes can be held, to freeze a writer at a known point, or
// held until a reader has downloaded the version before (a poller then sees every version written).
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { handleXmlApi } from './gcs-xml-api.js';
import { GcsTokenEndpoint } from './gcs-token-endpoint.js';
import { LocalHttpServer, readBody } from './local-http-server.js';

export interface StoredObject {
  bytes: Buffer;
  generation: number;
  contentType: string;
  metadata: Record<string, string>;
  updated: string;
}

interface ResumableSession {
  bucket: string;
  name: string;
  ifGenerationMatch?: number;
  contentType: string;
  metadata: Record<string, string>;
  received: Buffer[];
  size: number;
}

export type GcsFault =
  | { kind: 'status'; status: 429 | 500 | 503; method?: string; pathIncludes?: string; times: number }
  /** Cuts the connection of the next resumable chunk upload after `afterBytes` of its body arrived (or at its end). */
  | { kind: 'drop-resumable'; afterBytes: number; times: number }
  /** Cuts the connection of the next download after sending `afterBytes` of its body. */
  | { kind: 'drop-media'; afterBytes: number; times: number }
  /** Serves the next download with one byte flipped, under the hashes of the true bytes. */
  | { kind: 'corrupt-media'; times: number };

export interface GcsRequestLog {
  method: string;
  path: string;
  status: number;
  /** Body bytes sent for a download (the whole object, or the requested range). */
  bytes?: number;
}

const CRC32C_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    table[i] = c >>> 0;
  }
  return table;
})();

/** CRC32C (Castagnoli), as GCS reports it: the big-endian 4 bytes, base64. */
export function crc32cBase64(bytes: Uint8Array): string {
  let crc = 0xffffffff;
  for (const b of bytes) crc = CRC32C_TABLE[(crc ^ b) & 0xff]! ^ (crc >>> 8);
  const out = Buffer.alloc(4);
  out.writeUInt32BE((crc ^ 0xffffffff) >>> 0);
  return out.toString('base64');
}

export class GcsServer extends LocalHttpServer {
  readonly buckets = new Map<string, Map<string, StoredObject>>();
  readonly log: GcsRequestLog[] = [];
  /** Every successful object write, in order (name), so tests can count writes per object. */
  readonly writes: string[] = [];
  private readonly faults: GcsFault[] = [];
  private readonly sessions = new Map<string, ResumableSession>();
  private generation = 1;
  private sessionCount = 0;
  /** The most objects one list page holds (GCS: 1,000). */
  pageSize = 1000;
  /** When set, every request must carry `Authorization: Bearer` with a token this endpoint issued (401 otherwise). */
  readonly auth = new GcsTokenEndpoint();
  /** Called after each successful object write (tests use it to act at a known point). */
  onWrite: (bucket: string, name: string) => void = () => {};
  /** Called after each download (whole or ranged) is answered. */
  onMedia: (bucket: string, name: string) => void = () => {};
  private readonly holds: ((name: string, bytes: Buffer) => boolean)[] = [];
  /** Writes held so far (by name). */
  readonly held: string[] = [];
  private readonly readGates: ((name: string) => boolean)[] = [];
  /** Gated objects (bucket/name) whose last version no reader has downloaded yet, and the wake-up of their next write. */
  private readonly unread = new Map<string, { read: Promise<void>; wake: () => void }>();

  createBucket(name: string): void {
    this.buckets.set(name, new Map());
  }

  /**
   * The environment a Strand process uses this server with: its endpoint under `endpointVariable` (Strand's
   * own, or Google's conventional name), and METADATA_SERVER_DETECTION=none, so credentials never probe a
   * metadata server off this machine.
   */
  clientEnv(endpointVariable: 'STRAND_GCS_EMULATOR_HOST' | 'STORAGE_EMULATOR_HOST' = 'STRAND_GCS_EMULATOR_HOST'): Record<string, string> {
    return { [endpointVariable]: this.endpoint, METADATA_SERVER_DETECTION: 'none' };
  }

  inject(fault: GcsFault): void {
    this.faults.push(fault);
  }

  /**
   * From now on, a write for which `matches` holds is neither stored nor answered: its writer waits, as a
   * host frozen just before that write would (until it is killed, or the server stops).
   */
  holdWrites(matches: (name: string, bytes: Buffer) => boolean): void {
    this.holds.push(matches);
  }

  /**
   * From now on, a write for which `matches` holds waits, unanswered, until the version it replaces was
   * downloaded (or the object deleted): whoever polls the object sees every version its writer wrote, in
   * order, and the writer never runs ahead of the reader by more than one version.
   */
  holdWritesUntilRead(matches: (name: string) => boolean): void {
    this.readGates.push(matches);
  }

  /** Lets the next gated write of an object go (its last version was read, or the object is gone). */
  private markRead(bucket: string, name: string): void {
    const key = `${bucket}/${name}`;
    this.unread.get(key)?.wake();
    this.unread.delete(key);
  }

  /** Injected faults not yet triggered. */
  get pendingFaults(): number {
    return this.faults.length;
  }

  objectNames(bucket: string, prefix = ''): string[] {
    return [...(this.buckets.get(bucket)?.keys() ?? [])].filter((n) => n.startsWith(prefix)).sort();
  }

  private takeFault(req: IncomingMessage, path: string): GcsFault | undefined {
    const index = this.faults.findIndex((f) => {
      if (f.kind === 'drop-resumable')
        return req.method === 'PUT' && path.includes('/upload/') && req.headers['content-range']?.startsWith('bytes */') !== true;
      if (f.kind === 'corrupt-media' || f.kind === 'drop-media') return req.method === 'GET' && req.url?.includes('alt=media') === true;
      return (f.method === undefined || f.method === req.method) && (f.pathIncludes === undefined || path.includes(f.pathIncludes));
    });
    if (index < 0) return undefined;
    const fault = this.faults[index]!;
    if (--fault.times <= 0) this.faults.splice(index, 1);
    return fault;
  }

  protected async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname;
    const respond = (status: number, body?: unknown, headers: Record<string, string> = {}): void => {
      this.log.push({ method: req.method ?? '', path, status, ...(Buffer.isBuffer(body) ? { bytes: body.length } : {}) });
      const payload = body === undefined ? '' : Buffer.isBuffer(body) ? body : JSON.stringify(body);
      res.writeHead(status, {
        ...(Buffer.isBuffer(body) ? {} : body === undefined ? {} : { 'content-type': 'application/json' }),
        'content-length': String(Buffer.byteLength(payload)),
        ...headers,
      });
      res.end(payload);
    };
    const error = (status: number, message: string, reason: string): void =>
      respond(status, { error: { code: status, message, errors: [{ message, domain: 'global', reason }] } });

    const fault = this.takeFault(req, path);
    if (fault?.kind === 'drop-resumable') {
      let seen = 0;
      req.on('data', (chunk: Buffer) => {
        seen += chunk.length;
        if (seen >= fault.afterBytes) req.socket.destroy();
      });
      // A chunk smaller than afterBytes: the connection drops before any answer.
      req.on('end', () => req.socket.destroy());
      return;
    }
    const body = await readBody(req);
    if (path === GcsTokenEndpoint.path) return this.auth.issue(body, respond);
    if (!this.auth.allows(req)) return error(401, 'Invalid Credentials', 'authError');
    if (fault?.kind === 'status')
      return error(
        fault.status,
        fault.status === 429 ? 'rate limit exceeded' : 'backend error',
        fault.status === 429 ? 'rateLimitExceeded' : 'backendError',
      );

    let m: RegExpExecArray | null;
    if ((m = /^\/upload\/storage\/v1\/b\/([^/]+)\/o$/.exec(path))) {
      const bucket = decodeURIComponent(m[1]!);
      if (!this.buckets.has(bucket)) return error(404, `bucket ${bucket} not found`, 'notFound');
      const type = url.searchParams.get('uploadType');
      const precondition = url.searchParams.get('ifGenerationMatch');
      if (req.method === 'POST' && type === 'multipart') {
        const { metadata, media } = parseMultipart(body, String(req.headers['content-type']));
        const name = url.searchParams.get('name') ?? String(metadata.name);
        return this.store(bucket, name, media, metadata, precondition, respond, error);
      }
      if (req.method === 'POST' && type === 'resumable') {
        const metadata = body.length > 0 ? (JSON.parse(body.toString('utf8')) as Record<string, unknown>) : {};
        const name = url.searchParams.get('name') ?? String(metadata.name);
        if (precondition === '0' && this.buckets.get(bucket)!.has(name))
          return error(412, 'At least one of the pre-conditions you specified did not hold.', 'conditionNotMet');
        const id = `session-${++this.sessionCount}`;
        this.sessions.set(id, {
          bucket,
          name,
          ...(precondition !== null ? { ifGenerationMatch: Number(precondition) } : {}),
          contentType: typeof metadata.contentType === 'string' ? metadata.contentType : 'application/octet-stream',
          metadata: (metadata.metadata ?? {}) as Record<string, string>,
          received: [],
          size: 0,
        });
        return respond(200, undefined, {
          location: `${this.endpoint}/upload/storage/v1/b/${encodeURIComponent(bucket)}/o?uploadType=resumable&upload_id=${id}`,
        });
      }
      if (req.method === 'PUT' && type === 'resumable') {
        const session = this.sessions.get(url.searchParams.get('upload_id') ?? '');
        if (session === undefined) return error(404, 'no such upload session', 'notFound');
        const range = req.headers['content-range'] ?? '';
        // `bytes S-E/T` a chunk, `bytes S-*/T` the rest of a streamed upload (its end unknown when it started), `bytes */T` a query.
        const rangeMatch = /^bytes (\*|(\d+)-(\d+|\*))\/(\*|\d+)$/.exec(range);
        if (rangeMatch === null) return error(400, `bad Content-Range "${range}"`, 'invalid');
        if (rangeMatch[1] !== '*') {
          const start = Number(rangeMatch[2]);
          if (start !== session.size) return error(400, `chunk starts at ${start}, expected ${session.size}`, 'invalid');
          session.received.push(body);
          session.size += body.length;
        }
        // A streamed rest (`S-*`) of unknown total ends the upload with its request, as GCS finalizes it.
        const total = rangeMatch[4] === '*' ? (rangeMatch[3] === '*' ? session.size : undefined) : Number(rangeMatch[4]);
        if (total !== undefined && session.size >= total) {
          this.sessions.delete(url.searchParams.get('upload_id')!);
          const precondition = session.ifGenerationMatch === undefined ? null : String(session.ifGenerationMatch);
          return this.store(
            session.bucket,
            session.name,
            Buffer.concat(session.received),
            { contentType: session.contentType, metadata: session.metadata },
            precondition,
            respond,
            error,
          );
        }
        return respond(308, undefined, session.size > 0 ? { range: `bytes=0-${session.size - 1}` } : {});
      }
      return error(400, `unsupported upload ${req.method} ${type}`, 'invalid');
    }
    if ((m = /^\/storage\/v1\/b\/([^/]+)\/o\/(.+)$/.exec(path))) {
      const bucket = this.buckets.get(decodeURIComponent(m[1]!));
      const name = decodeURIComponent(m[2]!);
      const object = bucket?.get(name);
      if (bucket === undefined || object === undefined)
        return error(404, `No such object: ${decodeURIComponent(m[1]!)}/${name}`, 'notFound');
      if (req.method === 'DELETE') {
        bucket.delete(name);
        this.markRead(decodeURIComponent(m[1]!), name);
        return respond(204);
      }
      const generation = url.searchParams.get('generation');
      if (generation !== null && Number(generation) !== object.generation)
        return error(404, `No such object: ${decodeURIComponent(m[1]!)}/${name}#${generation}`, 'notFound');
      if (url.searchParams.get('alt') === 'media') {
        const range = byteRange(req.headers.range, object.bytes.length);
        if (range === 'unsatisfiable') return error(416, 'The requested range cannot be satisfied.', 'requestedRangeNotSatisfiable');
        const whole = fault?.kind === 'corrupt-media' ? Buffer.from(object.bytes.map((b, i) => (i === 0 ? b ^ 1 : b))) : object.bytes;
        const served = range === undefined ? whole : whole.subarray(range.start, range.end + 1);
        const headers = {
          'content-type': object.contentType,
          'x-goog-hash': `crc32c=${crc32cBase64(object.bytes)},md5=${md5Base64(object.bytes)}`,
          'x-goog-generation': String(object.generation),
          'x-goog-stored-content-encoding': 'identity',
          ...(range === undefined ? {} : { 'content-range': `bytes ${range.start}-${range.end}/${object.bytes.length}` }),
        };
        if (fault?.kind === 'drop-media') return this.dropAfter(res, served, fault.afterBytes, headers, range === undefined ? 200 : 206);
        respond(range === undefined ? 200 : 206, served, headers);
        this.markRead(decodeURIComponent(m[1]!), name);
        return this.onMedia(decodeURIComponent(m[1]!), name);
      }
      return respond(200, resource(decodeURIComponent(m[1]!), name, object));
    }
    if ((m = /^\/storage\/v1\/b\/([^/]+)\/o$/.exec(path)) && req.method === 'GET') {
      const bucketName = decodeURIComponent(m[1]!);
      const bucket = this.buckets.get(bucketName);
      if (bucket === undefined) return error(404, `bucket ${bucketName} not found`, 'notFound');
      const names = this.objectNames(bucketName, url.searchParams.get('prefix') ?? '');
      const start = Number(url.searchParams.get('pageToken') ?? 0);
      const size = Math.min(this.pageSize, Number(url.searchParams.get('maxResults') ?? this.pageSize));
      const page = names.slice(start, start + size);
      return respond(200, {
        kind: 'storage#objects',
        items: page.map((n) => resource(bucketName, n, bucket.get(n)!)),
        ...(start + size < names.length ? { nextPageToken: String(start + size) } : {}),
      });
    }
    if ((m = /^\/storage\/v1\/b\/([^/]+)$/.exec(path)) && req.method === 'GET') {
      const name = decodeURIComponent(m[1]!);
      if (!this.buckets.has(name)) return error(404, `bucket ${name} not found`, 'notFound');
      return respond(200, { kind: 'storage#bucket', id: name, name, location: 'US-CENTRAL1' });
    }
    if (!path.startsWith('/storage/') && !path.startsWith('/upload/')) return handleXmlApi(this, req, url, body, respond);
    return error(404, `no route for ${req.method} ${path}`, 'notFound');
  }

  /** Sends the head and `afterBytes` of the body, then cuts the connection (a download dropped mid-stream). */
  private dropAfter(res: ServerResponse, body: Buffer, afterBytes: number, headers: Record<string, string>, status: number): void {
    this.log.push({
      method: 'GET',
      path: new URL(res.req.url ?? '/', 'http://localhost').pathname,
      status,
      bytes: Math.min(afterBytes, body.length),
    });
    res.writeHead(status, { ...headers, 'content-length': String(body.length) });
    res.write(body.subarray(0, Math.min(afterBytes, body.length)), () => res.socket?.destroy());
  }

  /** Stores an object unless `ifGenerationMatch` (a generation, 0 = absent) disagrees; the object, or 'precondition-failed'. The caller answers, then calls onWrite. */
  put(
    bucketName: string,
    name: string,
    bytes: Buffer,
    contentType: string,
    metadata: Record<string, string>,
    ifGenerationMatch: string | null,
  ): StoredObject | 'precondition-failed' {
    const bucket = this.buckets.get(bucketName)!;
    const existing = bucket.get(name);
    if (ifGenerationMatch !== null && Number(ifGenerationMatch) !== (existing?.generation ?? 0)) return 'precondition-failed';
    const object: StoredObject = { bytes, generation: ++this.generation, contentType, metadata, updated: new Date(0).toISOString() };
    bucket.set(name, object);
    this.writes.push(name);
    return object;
  }

  private async store(
    bucketName: string,
    name: string,
    bytes: Buffer,
    metadata: Record<string, unknown>,
    precondition: string | null,
    respond: (status: number, body?: unknown) => void,
    error: (status: number, message: string, reason: string) => void,
  ): Promise<void> {
    if (this.holds.some((matches) => matches(name, bytes))) {
      this.held.push(name);
      return;
    }
    const gated = this.readGates.some((matches) => matches(name));
    if (gated) await this.unread.get(`${bucketName}/${name}`)?.read;
    const object = this.put(
      bucketName,
      name,
      bytes,
      typeof metadata.contentType === 'string' ? metadata.contentType : 'application/octet-stream',
      (metadata.metadata ?? {}) as Record<string, string>,
      precondition,
    );
    if (object === 'precondition-failed')
      return error(412, 'At least one of the pre-conditions you specified did not hold.', 'conditionNotMet');
    if (gated) {
      let wake = (): void => {};
      const read = new Promise<void>((resolve) => (wake = resolve));
      this.unread.set(`${bucketName}/${name}`, { read, wake });
    }
    respond(200, resource(bucketName, name, object));
    this.onWrite(bucketName, name);
  }
}

/** The range a `Range: bytes=S-E` (or `S-`, or `-N`) header asks of an object of `size` bytes, inclusive. */
export function byteRange(header: string | undefined, size: number): { start: number; end: number } | 'unsatisfiable' | undefined {
  const m = /^bytes=(\d*)-(\d*)$/.exec(header ?? '');
  if (m === null) return undefined;
  const [start, end] =
    m[1] === '' ? [Math.max(0, size - Number(m[2])), size - 1] : [Number(m[1]), m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1)];
  return start >= size || start > end ? 'unsatisfiable' : { start, end };
}

function md5Base64(bytes: Uint8Array): string {
  return createHash('md5').update(bytes).digest('base64');
}

function resource(bucket: string, name: string, object: StoredObject): Record<string, unknown> {
  return {
    kind: 'storage#object',
    id: `${bucket}/${name}/${object.generation}`,
    bucket,
    name,
    generation: String(object.generation),
    metageneration: '1',
    contentType: object.contentType,
    size: String(object.bytes.length),
    md5Hash: md5Base64(object.bytes),
    crc32c: crc32cBase64(object.bytes),
    metadata: object.metadata,
    updated: object.updated,
  };
}

/** multipart/related: a JSON metadata part, then the media part. */
function parseMultipart(body: Buffer, contentType: string): { metadata: Record<string, unknown>; media: Buffer } {
  const boundary = /boundary="?([^";]+)"?/.exec(contentType)?.[1];
  if (boundary === undefined) throw new Error(`multipart upload without a boundary: ${contentType}`);
  const delimiter = Buffer.from(`--${boundary}`);
  const parts: Buffer[] = [];
  let at = body.indexOf(delimiter);
  while (at >= 0) {
    const next = body.indexOf(delimiter, at + delimiter.length);
    if (next < 0) break;
    parts.push(body.subarray(at + delimiter.length, next));
    at = next;
  }
  const contentOf = (part: Buffer): Buffer => {
    const headerEnd = part.indexOf('\r\n\r\n');
    return part.subarray(headerEnd + 4, part.length - 2); // drop the CRLF before the next delimiter
  };
  return { metadata: JSON.parse(contentOf(parts[0]!).toString('utf8')) as Record<string, unknown>, media: contentOf(parts[1]!) };
}
