import { describe, expect, it } from 'vitest';
import { cleanSequence } from '../../steps/source/sequence-hygiene.js';
import { headerId, parseRegexLineage, parseUniteLineage } from '../../steps/source/lineage.js';

describe('cleanSequence', () => {
  it('upper-cases, turns U into T, ambiguity codes into N and drops gaps', () => {
    expect(cleanSequence('acgu-RYkm.n', 'error')).toEqual({ ok: true, sequence: 'ACGTNNNNN', changed: true });
  });
  it('leaves a clean sequence unchanged', () => {
    expect(cleanSequence('ACGTN', 'error')).toEqual({ ok: true, sequence: 'ACGTN', changed: false });
  });
  it('applies the invalid policy to other letters', () => {
    expect(cleanSequence('ACXG', 'error')).toEqual({ ok: false, reason: 'character "X" at position 3 is not a nucleotide' });
    expect(cleanSequence('ACXG', 'to-n')).toEqual({ ok: true, sequence: 'ACNG', changed: true });
  });
});

describe('lineage parsing', () => {
  const header =
    'KY106088|k__Fungi;p__Ascomycota;c__Saccharomycetes;o__Saccharomycetales;f__Saccharomycetaceae;g__Zygotorulaspora;s__Zygotorulaspora_mrakii|SH1312607.09FU';
  it('reads UNITE lineages (the format of data/mycoai-yeast-its)', () => {
    expect(parseUniteLineage(header)).toEqual({
      kingdom: 'Fungi',
      phylum: 'Ascomycota',
      class: 'Saccharomycetes',
      order: 'Saccharomycetales',
      family: 'Saccharomycetaceae',
      genus: 'Zygotorulaspora',
      species: 'Zygotorulaspora_mrakii',
    });
    expect(headerId(header)).toBe('KY106088');
  });
  it('turns empty and unidentified ranks into null', () => {
    expect(parseUniteLineage('x|k__Fungi;p__;g__Fungi_gen_unidentified;s__unidentified')).toMatchObject({
      kingdom: 'Fungi',
      phylum: null,
      species: null,
    });
  });
  it('reads named groups of a regex', () => {
    expect(parseRegexLineage('id1 genus=Candida', /genus=(?<genus>\w+)/)).toEqual({ genus: 'Candida' });
    expect(parseRegexLineage('id1', /genus=(?<genus>\w+)/)).toEqual({ genus: null });
  });
});
