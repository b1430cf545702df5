// Owns what changed among the files a glob, folder or gs:// path param names: the files (objects)
// added, removed and changed between the listing kept in a step's record and the listing now, and their
// short text for plans (the first few by name, a count for the rest). Pure.
import type { Sha256Hex } from '../util/sha256.js';

/** One file a glob, folder or gs:// path param named when a step was planned. */
export interface InputFile {
  /** Relative to the project for a local file; the object's gs:// URI for an object. */
  name: string;
  /** Content digest of a local file. */
  digest?: Sha256Hex;
  /** Generation of a gs:// object: replacing the object gives it a new one. */
  generation?: string;
}

/**
 * The files each glob, folder or gs:// path param named, by param key. Kept in the step record beside the
 * fingerprint, not in it: the key already holds their combined digest, and this only names what changed.
 */
export type InputFileLists = Record<string, InputFile[]>;

/** A file as a plan names it: its name, and for a gs:// object its generation. */
export interface NamedFile {
  name: string;
  generation?: string;
}

/** A file present before and now with other content; for a gs:// object, its generation before and now. */
export interface ChangedFile {
  name: string;
  from?: string;
  to?: string;
}

export interface InputFileChanges {
  added: NamedFile[];
  removed: NamedFile[];
  changed: ChangedFile[];
}

/** How many names of each kind the text shows before "and N more". */
export const NAMED_FILES = 3;

function named(file: InputFile): NamedFile {
  return file.generation === undefined ? { name: file.name } : { name: file.name, generation: file.generation };
}

/** Added, removed and changed files between two listings, each in name order. */
export function diffInputFiles(previous: readonly InputFile[], current: readonly InputFile[]): InputFileChanges {
  const before = new Map(previous.map((f) => [f.name, f]));
  const now = new Map(current.map((f) => [f.name, f]));
  const byName = (a: { name: string }, b: { name: string }): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  const changed: ChangedFile[] = [];
  for (const file of current) {
    const old = before.get(file.name);
    if (old === undefined || (old.digest === file.digest && old.generation === file.generation)) continue;
    changed.push({
      name: file.name,
      ...(old.generation !== undefined ? { from: old.generation } : {}),
      ...(file.generation !== undefined ? { to: file.generation } : {}),
    });
  }
  return {
    added: current
      .filter((f) => !before.has(f.name))
      .map(named)
      .sort(byName),
    removed: previous
      .filter((f) => !now.has(f.name))
      .map(named)
      .sort(byName),
    changed: changed.sort(byName),
  };
}

export function hasInputFileChanges(changes: InputFileChanges): boolean {
  return changes.added.length + changes.removed.length + changes.changed.length > 0;
}

function firstFew(names: readonly string[], limit: number): string {
  const shown = names.slice(0, limit).join(', ');
  return names.length > limit ? `${shown} and ${names.length - limit} more` : shown;
}

/** `changed a (generation 1 -> 2); added b, c, d and 2 more; removed e`: empty kinds are left out. */
export function describeInputFileChanges(changes: InputFileChanges, limit = NAMED_FILES): string {
  const generation = (g: string | undefined): string => (g === undefined ? '' : ` (generation ${g})`);
  const parts: [string, string[]][] = [
    [
      'changed',
      changes.changed.map((f) =>
        f.from !== undefined || f.to !== undefined ? `${f.name} (generation ${f.from ?? '?'} -> ${f.to ?? '?'})` : f.name,
      ),
    ],
    ['added', changes.added.map((f) => `${f.name}${generation(f.generation)}`)],
    ['removed', changes.removed.map((f) => `${f.name}${generation(f.generation)}`)],
  ];
  return parts
    .filter(([, names]) => names.length > 0)
    .map(([verb, names]) => `${verb} ${firstFew(names, limit)}`)
    .join('; ');
}
