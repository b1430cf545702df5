// What a step record keeps of a glob or folder input, read from files on disk: each file by its name
// relative to the project and its content digest, so a later plan can name what changed.
import { symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { StrandState } from '../../engine/store/strand-state.js';
import { sha256 } from '../../engine/util/sha256.js';
import { removeProjects, writeProject } from '../helpers/project.js';

afterEach(removeProjects);

describe('the file list of an input path', () => {
  const root = (): string =>
    writeProject({
      'data/a.fasta': '>a\nACGT\n',
      'data/sub/b.fasta': '>b\nGGCC\n',
      'data/notes.txt': 'not matched',
      'models/nt/config.json': '{}',
      'models/nt/weights/model.safetensors': 'w',
      'models/nt/.tmp-123': 'being written',
    });

  it('lists each file a glob matches, by name and content digest', () => {
    const dir = root();
    const state = new StrandState(join(dir, '.strand'), dir);
    expect(state.inputPath('data/**/*.fasta').files()).toEqual([
      { name: 'data/a.fasta', digest: sha256('>a\nACGT\n') },
      { name: 'data/sub/b.fasta', digest: sha256('>b\nGGCC\n') },
    ]);
  });

  it('lists every file below a folder, leaving out temporaries being written', () => {
    const dir = root();
    const state = new StrandState(join(dir, '.strand'), dir);
    expect(
      state
        .inputPath('models/nt')
        .files()
        ?.map((f) => f.name),
    ).toEqual(['models/nt/config.json', 'models/nt/weights/model.safetensors']);
  });

  it('lists a link to nothing in a folder by name (a model folder copied without its model.onnx target)', () => {
    const dir = root();
    symlinkSync('../missing.onnx', join(dir, 'models/nt/model.onnx'));
    const state = new StrandState(join(dir, '.strand'), dir);
    expect(state.inputPath('models/nt').files()).toEqual([
      { name: 'models/nt/config.json', digest: sha256('{}') },
      { name: 'models/nt/model.onnx' },
      { name: 'models/nt/weights/model.safetensors', digest: sha256('w') },
    ]);
  });

  it('keeps no list for one plain file: its digest says it all', () => {
    const dir = root();
    expect(new StrandState(join(dir, '.strand'), dir).inputPath('data/a.fasta').files()).toBeUndefined();
  });
});
