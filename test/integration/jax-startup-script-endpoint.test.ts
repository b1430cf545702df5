// The TPU node's startup script finds the storage server by the engine's names, in the engine's order
// (STORAGE_EMULATOR_HOST, then the alias STRAND_GCS_EMULATOR_HOST), else Google's with the node's token:
// the script's own lines, run by bash with the metadata server stood in for by a function.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { jaxStartupScript } from '../../engine/cloud/jax-startup-script.js';
import type { Sha256Hex } from '../../engine/util/sha256.js';

const script = jaxStartupScript({
  bucket: { bucket: 'bkt', prefix: 'strand' },
  manifest: 'ab'.repeat(32) as Sha256Hex,
  hosts: 1,
  chipsPerHost: 8,
  oneProgram: false,
});
const lines = script.split('\n');
const endpointLines = lines.slice(
  lines.findIndex((l) => l.startsWith('api=')),
  lines.findIndex((l) => l === 'fi') + 1,
);

function endpoint(env: Record<string, string>): string {
  const program = [`meta() { echo '{"access_token": "node-token"}'; }`, ...endpointLines, 'echo "$api ${auth[*]:-no-auth}"'].join('\n');
  const { PATH } = process.env;
  const run = spawnSync('bash', ['--norc', '--noprofile', '-c', program], { env: { PATH: PATH ?? '', ...env }, encoding: 'utf8' });
  expect(run.stderr).toBe('');
  return run.stdout.trim();
}

describe('the JAX startup script', () => {
  it('uses the local server STORAGE_EMULATOR_HOST names, without a token', () => {
    expect(endpoint({ STORAGE_EMULATOR_HOST: '127.0.0.1:4443' })).toBe('http://127.0.0.1:4443 no-auth');
  });

  it('takes STRAND_GCS_EMULATOR_HOST as an alias, the conventional name first', () => {
    expect(endpoint({ STRAND_GCS_EMULATOR_HOST: 'http://alias:1' })).toBe('http://alias:1 no-auth');
    expect(endpoint({ STRAND_GCS_EMULATOR_HOST: 'http://alias:1', STORAGE_EMULATOR_HOST: 'http://conventional:2' })).toBe(
      'http://conventional:2 no-auth',
    );
  });

  it("uses Google's endpoint with the node's token when neither is set", () => {
    expect(endpoint({})).toBe('https://storage.googleapis.com -H Authorization: Bearer node-token');
  });
});
