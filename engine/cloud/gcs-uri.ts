// Owns the shape of a `gs://bucket/prefix` location. Apart from the storage client, so that checking a
// workflow's gs:// paths does not load @google-cloud/storage.

export interface GcsLocation {
  bucket: string;
  prefix: string;
}

/** Splits `gs://bucket/some/prefix` into bucket and prefix (without slashes at either end). */
export function parseGcsUri(uri: string): GcsLocation | undefined {
  const m = /^gs:\/\/([a-z0-9][a-z0-9._-]{1,221}[a-z0-9])(?:\/(.*))?$/.exec(uri);
  return m === null ? undefined : { bucket: m[1]!, prefix: (m[2] ?? '').replace(/^\/+|\/+$/g, '') };
}

/** The `gs://` URI of one object. */
export function objectUri(version: { bucket: string; name: string }): string {
  return `gs://${version.bucket}/${version.name}`;
}
