// Owns SHA-256 hashing of bytes and values (the one digest function of Strand).
import { createHash } from 'node:crypto';
import { canonicalJson } from './canonical-json.js';

/** A lowercase hex SHA-256 digest. */
export type Sha256Hex = string & { readonly __brand: 'Sha256Hex' };

export function sha256(data: string | Uint8Array): Sha256Hex {
  return createHash('sha256').update(data).digest('hex') as Sha256Hex;
}

export function sha256OfValue(value: unknown): Sha256Hex {
  return sha256(canonicalJson(value));
}
