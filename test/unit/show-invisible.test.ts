import { describe, expect, it } from 'vitest';
import { withoutByteOrderMark } from '../../engine/util/byte-order-mark.js';
import { quoteText, showInvisible } from '../../engine/util/show-invisible.js';

describe('showInvisible and quoteText', () => {
  it('escapes the characters that print as nothing or as a plain space', () => {
    expect(showInvisible('\uFEFF>seq \u200Bx\u00A0y\u2028z\u0007')).toBe('\\uFEFF>seq \\u200Bx\\u00A0y\\u2028z\\u0007');
  });

  it('leaves printable text, spaces, tabs and line breaks alone', () => {
    expect(showInvisible('ACGT é λ 漢\tcol\nnext')).toBe('ACGT é λ 漢\tcol\nnext');
  });

  it('writes characters past the basic plane with braces', () => {
    expect(showInvisible('a\u{E0001}b')).toBe('a\\u{E0001}b');
  });

  it('quotes as JSON does, with invisible characters escaped', () => {
    expect(quoteText('\uFEFF>bom_firs')).toBe('"\\uFEFF>bom_firs"');
    expect(quoteText('say "hi"\n')).toBe('"say \\"hi\\"\\n"');
  });
});

describe('withoutByteOrderMark', () => {
  it('drops one leading mark and nothing else', () => {
    expect(withoutByteOrderMark('\uFEFFversion: 1')).toBe('version: 1');
    expect(withoutByteOrderMark('a\uFEFF')).toBe('a\uFEFF');
    expect(withoutByteOrderMark('')).toBe('');
  });
});
