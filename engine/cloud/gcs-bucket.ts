// Owns Strand's use of Cloud Storage through the official @google-cloud/storage client: objects under a
// `gs://bucket/prefix` root, written only if absent (ifGenerationMatch: 0, so a retried or repeated write
// never replaces what another writer finished), read back with the client's checksum validation, listed
// and deleted. Transient errors (429, 5xx, dropped connections) are retried by the client with backoff.
// (Workflow data — gs:// inputs and outputs — goes through gcs-objects.ts.)
import { statSync } from 'node:fs';
import type { Storage } from '@google-cloud/storage';
import type { GcsLocation } from './gcs-uri.js';
import { createStorage } from './storage-client.js';

export interface GcsOptions {
  projectId: string;
  /** `http://host:port` of a server that speaks the GCS JSON API (tests); unset = Google Cloud. */
  apiEndpoint?: string;
  /** Objects larger than this go up as resumable uploads (chunked, resumed after a dropped connection). */
  resumableAboveBytes?: number;
  /** Chunk size of resumable uploads (a multiple of 256 KiB). */
  chunkBytes?: number;
}

function isPreconditionFailed(error: unknown): boolean {
  // The JSON API path reports it as `code`; the resumable-upload path as a gaxios error with `status`.
  const e = error as { code?: unknown; status?: unknown; response?: { status?: unknown } };
  return e.code === 412 || e.status === 412 || e.response?.status === 412;
}

export class GcsBucket {
  private readonly storage: Storage;
  private readonly resumableAbove: number;
  private readonly chunkBytes: number | undefined;

  constructor(
    readonly location: GcsLocation,
    options: GcsOptions,
  ) {
    this.storage = createStorage(options);
    this.resumableAbove = options.resumableAboveBytes ?? 8 * 2 ** 20;
    this.chunkBytes = options.chunkBytes;
  }

  get uri(): string {
    return `gs://${this.location.bucket}${this.location.prefix ? `/${this.location.prefix}` : ''}`;
  }

  private path(name: string): string {
    return this.location.prefix ? `${this.location.prefix}/${name}` : name;
  }

  private file(name: string) {
    return this.storage.bucket(this.location.bucket).file(this.path(name));
  }

  /** Whether the bucket exists and is readable with the current credentials. */
  async exists(): Promise<boolean> {
    const [exists] = await this.storage.bucket(this.location.bucket).exists();
    return exists;
  }

  /** Upload options every write shares: only if absent, crc32c checked, resumable above the threshold. */
  private writeOptions(size: number) {
    return {
      resumable: size > this.resumableAbove,
      ...(this.chunkBytes !== undefined ? { chunkSize: this.chunkBytes } : {}),
      validation: 'crc32c' as const,
      preconditionOpts: { ifGenerationMatch: 0 },
    };
  }

  /** Runs a write; 'exists' when the object was already there (its content is the caller's to judge). */
  private async writeIfAbsent(write: () => Promise<unknown>): Promise<'written' | 'exists'> {
    try {
      await write();
      return 'written';
    } catch (error) {
      if (isPreconditionFailed(error)) return 'exists';
      throw error;
    }
  }

  /** Writes `bytes` at `name` unless an object is already there. The client checks the upload's crc32c. */
  putIfAbsent(name: string, bytes: Uint8Array, contentType = 'application/octet-stream'): Promise<'written' | 'exists'> {
    return this.writeIfAbsent(() =>
      this.file(name).save(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), {
        ...this.writeOptions(bytes.byteLength),
        contentType,
      }),
    );
  }

  /** putIfAbsent for a file on disk, streamed (a model of many GB is never read into memory). */
  uploadFileIfAbsent(name: string, path: string): Promise<'written' | 'exists'> {
    return this.writeIfAbsent(() =>
      this.storage.bucket(this.location.bucket).upload(path, { destination: this.path(name), ...this.writeOptions(statSync(path).size) }),
    );
  }

  /** Streams an object to a file, validated against its crc32c. */
  async downloadFile(name: string, destination: string): Promise<void> {
    await this.file(name).download({ destination, validation: 'crc32c' });
  }

  async putJsonIfAbsent(name: string, value: unknown): Promise<'written' | 'exists'> {
    return this.putIfAbsent(name, Buffer.from(JSON.stringify(value)), 'application/json');
  }

  /** Reads an object, validated against its crc32c; undefined when there is none. */
  async get(name: string): Promise<Buffer | undefined> {
    try {
      const [bytes] = await this.file(name).download({ validation: 'crc32c' });
      return bytes;
    } catch (error) {
      if ((error as { code?: number }).code === 404) return undefined;
      throw error;
    }
  }

  async getJson<T>(name: string): Promise<T | undefined> {
    const bytes = await this.get(name);
    return bytes === undefined ? undefined : (JSON.parse(bytes.toString('utf8')) as T);
  }

  /** Names (relative to the root) of the objects under `prefix`, every page. */
  async list(prefix: string): Promise<string[]> {
    const [files] = await this.storage.bucket(this.location.bucket).getFiles({ prefix: this.path(prefix), autoPaginate: true });
    const strip = this.location.prefix ? this.location.prefix.length + 1 : 0;
    return files.map((f) => f.name.slice(strip)).sort();
  }

  async delete(name: string): Promise<void> {
    await this.file(name).delete({ ignoreNotFound: true });
  }

  async deletePrefix(prefix: string): Promise<number> {
    const names = await this.list(prefix);
    for (const name of names) await this.delete(name);
    return names.length;
  }
}
