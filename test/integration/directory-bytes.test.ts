// Packing a checkpoint or adapter folder into the step's state and back (steps/finetune/directory-bytes.ts).
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { packDirectory, unpackDirectory } from '../../steps/finetune/directory-bytes.js';

const made: string[] = [];
afterEach(() => made.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));
const temp = (): string => {
  const dir = mkdtempSync(join(tmpdir(), 'strand-dirbytes-'));
  made.push(dir);
  return dir;
};

describe('packDirectory', () => {
  it('round-trips a tree under its name relative to the base, byte for byte and deterministically', () => {
    const root = temp();
    mkdirSync(join(root, '4/state/ocdbt'), { recursive: true });
    writeFileSync(join(root, '4/state/ocdbt/d1'), Buffer.from([0, 1, 2, 255]));
    writeFileSync(join(root, '4/_CHECKPOINT_METADATA'), '{"step":4}');
    writeFileSync(join(root, '4/empty'), '');
    const packed = packDirectory(join(root, '4'), root);
    expect(Buffer.from(packDirectory(join(root, '4'), root)).equals(Buffer.from(packed))).toBe(true);
    const target = temp();
    expect(unpackDirectory(packed, target)).toEqual(['4/_CHECKPOINT_METADATA', '4/empty', '4/state/ocdbt/d1']);
    expect([...readFileSync(join(target, '4/state/ocdbt/d1'))]).toEqual([0, 1, 2, 255]);
    expect(readFileSync(join(target, '4/_CHECKPOINT_METADATA'), 'utf8')).toBe('{"step":4}');
    expect(readFileSync(join(target, '4/empty'), 'utf8')).toBe('');
  });

  it('refuses to unpack a path that leaves the target folder', () => {
    const index = Buffer.from(JSON.stringify([{ path: '../evil', size: 1 }]));
    const header = Buffer.alloc(4);
    header.writeUInt32LE(index.length, 0);
    expect(() => unpackDirectory(Buffer.concat([header, index, Buffer.from('x')]), temp())).toThrow(/leaves its folder/);
  });
});
