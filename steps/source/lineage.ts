// Owns reading a lineage out of a FASTA header: UNITE style (`k__Fungi;p__...;s__Genus_species`) or a
// user regex with named groups. Empty ranks (`g__`) and unidentified placeholders become null.

export const RANKS = ['kingdom', 'phylum', 'class', 'order', 'family', 'genus', 'species'] as const;
const PREFIX: Record<string, (typeof RANKS)[number]> = {
  k: 'kingdom',
  p: 'phylum',
  c: 'class',
  o: 'order',
  f: 'family',
  g: 'genus',
  s: 'species',
};

export function parseUniteLineage(header: string): Record<string, string | null> {
  const lineage: Record<string, string | null> = Object.fromEntries(RANKS.map((r) => [r, null]));
  const match = /(?:^|[|\s;])(k__[^|\s]*)/.exec(header);
  if (!match) return lineage;
  for (const part of match[1]!.split(';')) {
    const m = /^([kpcofgs])__(.*)$/.exec(part.trim());
    if (m && m[2] !== '' && !/_unidentified$|^unidentified$/i.test(m[2]!)) lineage[PREFIX[m[1]!]!] = m[2]!;
  }
  return lineage;
}

export function parseRegexLineage(header: string, pattern: RegExp): Record<string, string | null> {
  const groups = pattern.exec(header)?.groups ?? {};
  const names = [...pattern.source.matchAll(/\(\?<([A-Za-z_][A-Za-z0-9_]*)>/g)].map((m) => m[1]!);
  return Object.fromEntries(names.map((n) => [n, groups[n] ?? null]));
}

/** The record id: the header up to the first `|` or whitespace. */
export function headerId(header: string): string {
  return header.split(/[|\s]/, 1)[0]!;
}
