// Owns packing a small directory tree (an Orbax checkpoint, a peft adapter folder) into one byte string and
// back: a JSON index of relative paths and sizes, sorted, then the files' bytes. Deterministic, so equal
// trees give equal bytes; unpacking refuses paths that would leave the target folder.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, normalize, relative, sep } from 'node:path';

function listFiles(root: string, under = ''): string[] {
  return readdirSync(join(root, under), { withFileTypes: true })
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .flatMap((entry) => {
      const path = under === '' ? entry.name : `${under}/${entry.name}`;
      return entry.isDirectory() ? listFiles(root, path) : [path];
    });
}

/** The files under `root`, each named by its path relative to `base` (default: `root` itself). */
export function packDirectory(root: string, base = root): Uint8Array {
  const prefix = relative(base, root)
    .split(sep)
    .filter((p) => p !== '')
    .join('/');
  const files = listFiles(root).map((path) => ({
    path: prefix === '' ? path : `${prefix}/${path}`,
    bytes: readFileSync(join(root, path)),
  }));
  const index = Buffer.from(JSON.stringify(files.map((f) => ({ path: f.path, size: f.bytes.length }))));
  const header = Buffer.alloc(4);
  header.writeUInt32LE(index.length, 0);
  return Buffer.concat([header, index, ...files.map((f) => f.bytes)]);
}

/** Writes the packed files under `target`; returns their relative paths. */
export function unpackDirectory(bytes: Uint8Array, target: string): string[] {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const length = buffer.readUInt32LE(0);
  const index = JSON.parse(buffer.subarray(4, 4 + length).toString('utf8')) as { path: string; size: number }[];
  let at = 4 + length;
  for (const { path, size } of index) {
    const clean = normalize(path);
    if (isAbsolute(clean) || clean.startsWith('..')) throw new Error(`bug: packed path ${path} leaves its folder`);
    const file = join(target, clean);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, buffer.subarray(at, at + size));
    at += size;
  }
  if (at !== buffer.length) throw new Error(`bug: packed directory has ${buffer.length - at} trailing bytes`);
  return index.map((f) => f.path);
}
