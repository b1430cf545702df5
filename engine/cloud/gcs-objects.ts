// Owns workflow data on Cloud Storage through the official client: listing what a `gs://` path or glob
// names (every page), each object by version (generation, size, crc32c, md5 — the cache key is made of
// these, never of a download); ranged reads of exactly the planned generation (a changed object stops the
// read by name; a dropped connection or a short answer is retried, then named as truncated), a whole
// version downloaded to a file and checked against its listed checksums; and objects written once
// (ifGenerationMatch: 0), streamed, then verified against the crc32c computed while writing.
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { CRC32C, type Storage } from '@google-cloud/storage';
import { StepError } from '../plugin-api/step-error.js';
import { globToRegExp, hasGlob } from '../util/glob-files.js';
import type { CloudSettings } from './cloud-settings.js';
import type { Sha256Hex } from '../util/sha256.js';
import { objectUri, parseGcsUri } from './gcs-uri.js';
import { createStorage } from './storage-client.js';

/** One version of one object: what a plan saw, and what a read must still find. */
export interface ObjectVersion {
  bucket: string;
  name: string;
  generation: string;
  size: number;
  crc32c: string | null;
  md5: string | null;
}

const PROJECT_PLACEHOLDER = 'strand-objects';

const GOOGLE_STORAGE = 'https://storage.googleapis.com';

/** Bytes per ranged read when a whole object is downloaded. */
const DOWNLOAD_CHUNK = 8 * 2 ** 20;

/** How many times a read that failed, dropped or came back short is tried before the object is called truncated. */
const READ_ATTEMPTS = 6;
/** First backoff between read attempts (then doubled). */
const RETRY_DELAY_MS = 200;

interface ApiError {
  code?: unknown;
  status?: unknown;
  response?: { status?: unknown };
}

/** The HTTP status of a client error: `code` on the JSON API path, gaxios's `response.status` (and its `code` as a string) on uploads. */
function statusOf(error: unknown): number | undefined {
  const e = error as ApiError;
  for (const candidate of [e.response?.status, e.status, e.code]) {
    const status = typeof candidate === 'string' && /^\d{3}$/.test(candidate) ? Number(candidate) : candidate;
    if (typeof status === 'number') return status;
  }
  return undefined;
}

function versionOf(bucket: string, metadata: Record<string, unknown>): ObjectVersion {
  return {
    bucket,
    name: String(metadata.name),
    generation: String(metadata.generation),
    size: Number(metadata.size),
    crc32c: typeof metadata.crc32c === 'string' ? metadata.crc32c : null,
    md5: typeof metadata.md5Hash === 'string' ? metadata.md5Hash : null,
  };
}

export class GcsObjects {
  private readonly storage: Storage;

  constructor(
    readonly settings: Pick<CloudSettings, 'storageEndpoint' | 'authenticate' | 'credentialsFile'>,
    /** Objects per list request (GCS serves at most 1,000). */
    private readonly pageSize = 1000,
  ) {
    // Objects need no project; naming one keeps the client from looking one up (a Resource Manager call).
    this.storage = createStorage({
      projectId: PROJECT_PLACEHOLDER,
      ...(settings.storageEndpoint ? { apiEndpoint: settings.storageEndpoint } : {}),
      authenticateEndpoint: settings.authenticate,
    });
  }

  /**
   * The objects a path names, sorted: a glob's matches (by listing the prefix before its first wildcard),
   * else the object itself and everything under `path/` (a LanceDB table is such a tree).
   */
  async list(uri: string): Promise<ObjectVersion[]> {
    const location = parseGcsUri(uri);
    if (location === undefined) throw new StepError(`${uri} is not a gs://bucket/name URI`);
    const path = location.prefix;
    const matcher = hasGlob(path) ? globToRegExp(path) : undefined;
    const prefix = matcher ? path.slice(0, path.search(/[*?]/)) : path;
    const found: ObjectVersion[] = [];
    let pageToken: string | undefined;
    try {
      do {
        const [files, next] = await this.storage
          .bucket(location.bucket)
          .getFiles({ prefix, autoPaginate: false, maxResults: this.pageSize, ...(pageToken ? { pageToken } : {}) });
        for (const file of files) {
          const name = file.name;
          if (matcher ? matcher.test(name) : name === path || name.startsWith(`${path}/`) || path === '')
            found.push(versionOf(location.bucket, file.metadata));
        }
        pageToken = (next as { pageToken?: string } | null)?.pageToken;
      } while (pageToken);
    } catch (error) {
      throw this.explain(error, uri);
    }
    return found.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /**
   * Bytes [start, end) of exactly `version`: a ranged `alt=media` GET of the JSON API. It goes through
   * fetch with the client's own credentials, not the client's download: that one never settles when a
   * connection drops mid-body (seen with 7.22 against the local server), while fetch fails and is retried.
   */
  async read(version: ObjectVersion, start: number, end: number): Promise<Uint8Array> {
    const want = Math.min(end, version.size) - start;
    if (want <= 0) return new Uint8Array(0);
    const url = `${this.settings.storageEndpoint ?? GOOGLE_STORAGE}/storage/v1/b/${encodeURIComponent(version.bucket)}/o/${encodeURIComponent(version.name)}?alt=media&generation=${version.generation}`;
    let got = 0;
    for (let attempt = 1; attempt <= READ_ATTEMPTS; attempt++) {
      if (attempt > 1) await new Promise((r) => setTimeout(r, RETRY_DELAY_MS * 2 ** (attempt - 2)));
      const token = this.settings.authenticate ? await this.storage.authClient.getAccessToken() : undefined;
      let response: Response;
      try {
        response = await fetch(url, {
          headers: { range: `bytes=${start}-${start + want - 1}`, ...(token ? { authorization: `Bearer ${token}` } : {}) },
        });
      } catch {
        continue; // the connection failed before an answer
      }
      if (response.status === 404) throw await this.changed(version);
      if (response.status === 416) {
        got = 0; // the object ends before `start`: shorter than listed
        continue;
      }
      if (response.status === 429 || response.status >= 500) continue;
      if (response.status !== 200 && response.status !== 206)
        throw this.explain({ code: response.status, message: await response.text() }, objectUri(version));
      try {
        const bytes = new Uint8Array(await response.arrayBuffer());
        if (bytes.length === want) return bytes;
        got = bytes.length;
      } catch {
        // the connection dropped mid-body
      }
    }
    throw new StepError(
      `${objectUri(version)} is truncated: bytes ${start}..${start + want} of ${version.size} came back as ${got} bytes after ${READ_ATTEMPTS} tries`,
      'the object is shorter than its listing says, or the connection keeps dropping: check it with `gcloud storage objects describe`',
    );
  }

  /**
   * Downloads exactly `version` to `destination` by ranged reads (each retried as `read` does; another
   * generation stops it, named), checks the bytes against the crc32c (else the md5) the listing gave, and
   * resolves with their SHA-256.
   */
  async download(version: ObjectVersion, destination: string): Promise<Sha256Hex> {
    const crc = new CRC32C();
    const md5 = createHash('md5');
    const sha = createHash('sha256');
    const fd = openSync(destination, 'w');
    try {
      for (let start = 0; start < version.size; start += DOWNLOAD_CHUNK) {
        const bytes = await this.read(version, start, start + DOWNLOAD_CHUNK);
        crc.update(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
        md5.update(bytes);
        sha.update(bytes);
        for (let written = 0; written < bytes.length;) written += writeSync(fd, bytes, written);
      }
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    const [kind, expected, got] =
      version.crc32c !== null ? ['crc32c', version.crc32c, crc.toString()] : ['md5', version.md5, md5.digest('base64')];
    if (expected !== null && got !== expected)
      throw new StepError(
        `${objectUri(version)} (generation ${version.generation}) does not match its listed ${kind} (${expected}; read ${got})`,
        'the object or the connection is corrupt: check it with `gcloud storage objects describe`, then run again',
      );
    return sha.digest('hex') as Sha256Hex;
  }

  /** Why a pinned generation is gone: the object changed or was deleted since the plan. */
  private async changed(version: ObjectVersion): Promise<StepError> {
    const uri = objectUri(version);
    const [exists] = await this.storage.bucket(version.bucket).file(version.name).exists();
    const now = exists ? String((await this.storage.bucket(version.bucket).file(version.name).getMetadata())[0].generation) : undefined;
    return new StepError(
      now === undefined
        ? `${uri} was deleted after the plan (it was generation ${version.generation})`
        : `${uri} changed after the plan: generation ${version.generation} was planned, ${now} is there now`,
      'nothing read from it is kept under this plan; run again to plan with the objects as they are now',
    );
  }

  /** The bytes of a small object (a side file), crc32c-validated; undefined when there is none. */
  async get(uri: string): Promise<Buffer | undefined> {
    const location = parseGcsUri(uri);
    if (location === undefined) throw new StepError(`${uri} is not a gs://bucket/name URI`);
    try {
      return (await this.storage.bucket(location.bucket).file(location.prefix).download({ validation: 'crc32c' }))[0];
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw this.explain(error, uri);
    }
  }

  /**
   * Replaces a small side file (a table's provenance) only if it is still the version read here
   * (ifGenerationMatch), so a concurrent writer fails instead of being overwritten unseen.
   */
  async replace(uri: string, bytes: Uint8Array, contentType = 'application/json'): Promise<void> {
    const location = parseGcsUri(uri);
    if (location === undefined) throw new StepError(`${uri} is not a gs://bucket/name URI`);
    const file = this.storage.bucket(location.bucket).file(location.prefix);
    const [exists] = await file.exists();
    const generation = exists ? Number((await file.getMetadata())[0].generation) : 0;
    try {
      await file.save(Buffer.from(bytes), {
        resumable: false,
        contentType,
        validation: 'crc32c',
        preconditionOpts: { ifGenerationMatch: generation },
      });
    } catch (error) {
      throw this.explainWrite(error, uri);
    }
  }

  /** Writes `uri` once: streamed, only if absent, then verified. The object appears only on `commit`. */
  createWriter(uri: string, contentType = 'application/octet-stream'): ObjectWriter {
    const location = parseGcsUri(uri);
    if (location === undefined || location.prefix === '') throw new StepError(`${uri} is not a gs://bucket/name URI`);
    const file = this.storage.bucket(location.bucket).file(location.prefix);
    const stream: Writable = file.createWriteStream({
      resumable: true,
      contentType,
      validation: 'crc32c',
      preconditionOpts: { ifGenerationMatch: 0 },
    });
    const failure: { error?: unknown } = {};
    stream.on('error', (error) => (failure.error ??= error));
    const crc = new CRC32C();
    let size = 0;
    const rethrow = (): void => {
      if (failure.error !== undefined) throw this.explainWrite(failure.error, uri);
    };
    return {
      write: async (bytes) => {
        rethrow();
        const chunk = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
        crc.update(chunk);
        size += chunk.length;
        // An 'error' is kept by the listener above and rethrown explained.
        if (!stream.write(chunk)) await Promise.race([once(stream, 'drain'), once(stream, 'error')]).catch(() => undefined);
        rethrow();
      },
      commit: async () => {
        rethrow();
        stream.end();
        await Promise.race([once(stream, 'finish'), once(stream, 'error')]).catch(() => undefined);
        rethrow();
        const [metadata] = await file.getMetadata();
        const written = versionOf(location.bucket, metadata);
        if (written.size !== size || written.crc32c !== crc.toString()) {
          throw new StepError(
            `${uri} does not match what was written (${written.size} bytes, crc32c ${written.crc32c}; expected ${size} bytes, crc32c ${crc.toString()})`,
            'delete the object and run again',
          );
        }
      },
      abort: () => {
        // An unfinished resumable upload never becomes an object.
        stream.destroy();
      },
    };
  }

  private explain(error: unknown, uri: string): StepError {
    const status = statusOf(error);
    if (status === 401)
      return new StepError(
        `${uri}: Cloud Storage refused the credentials (401)`,
        'run `gcloud auth application-default login` or set GOOGLE_APPLICATION_CREDENTIALS',
      );
    if (status === 403)
      return new StepError(
        `${uri}: permission denied (403) with the current credentials`,
        'grant the account storage.objects.get and storage.objects.list on the bucket (roles/storage.objectViewer)',
      );
    if (status === 404) return new StepError(`${uri}: no such bucket or object (404)`, 'check the bucket name');
    return new StepError(`${uri}: ${(error as Error).message}`);
  }

  private explainWrite(error: unknown, uri: string): StepError {
    if (statusOf(error) === 412)
      return new StepError(
        `${uri} already exists or changed while being written: Strand never replaces an object it did not just read`,
        `delete it (gcloud storage rm ${uri}) or write to another path`,
      );
    return this.explain(error, uri);
  }
}

/** An object being written: `write` as often as needed, then `commit` (or `abort` to leave nothing). */
export interface ObjectWriter {
  write(bytes: Uint8Array): Promise<void>;
  /** Finishes the upload and verifies size and crc32c. */
  commit(): Promise<void>;
  abort(): void;
}
