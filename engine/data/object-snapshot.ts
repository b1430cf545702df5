// Owns what a run knows of its gs:// paths before any step starts: each input and output path listed
// once (every page), so planning stays pure and synchronous, and the digest that stands in for a file's
// content digest in the cache key — made of each object's name, generation, size, crc32c and md5 (no
// download to hash). Steps then read exactly these generations.
import type { GcsObjects, ObjectVersion } from '../cloud/gcs-objects.js';
import { sha256OfValue, type Sha256Hex } from '../util/sha256.js';

export function isGcsUri(path: string): boolean {
  return path.startsWith('gs://');
}

/** The cache-key digest of a listing: identity of every object version, in name order. */
function listingDigest(versions: readonly ObjectVersion[]): Sha256Hex {
  return sha256OfValue({ kind: 'gcs-objects', objects: versions.map((v) => [v.bucket, v.name, v.generation, v.size, v.crc32c, v.md5]) });
}

export class ObjectSnapshot {
  private readonly listings = new Map<string, ObjectVersion[]>();

  constructor(readonly objects: GcsObjects) {}

  /** Lists each path (again), replacing what was known of it. */
  async refresh(uris: readonly string[]): Promise<void> {
    for (const uri of new Set(uris)) this.listings.set(uri, await this.objects.list(uri));
  }

  versions(uri: string): readonly ObjectVersion[] | undefined {
    return this.listings.get(uri);
  }

  /** undefined when the path was not listed or names nothing. */
  digest(uri: string): Sha256Hex | undefined {
    const versions = this.listings.get(uri);
    return versions === undefined || versions.length === 0 ? undefined : listingDigest(versions);
  }
}
