// Owns SHA-256 hashing of bytes and values (the one digest function of Strand).
import { hash } from 'node:crypto';
import { canonicalJson } from './canonical-json.js';

/** A lowercase hex SHA-256 digest. */
export type Sha256Hex = string & { readonly __brand: 'Sha256Hex' };

export function sha256(data: string | Uint8Array): Sha256Hex {
  // One-shot: no Hash object per digest (a plan of 100,000 steps computes as many keys).
  return hash('sha256', data, 'hex') as Sha256Hex;
}

export function sha256OfValue(value: unknown): Sha256Hex {
  return sha256(canonicalJson(value));
}
