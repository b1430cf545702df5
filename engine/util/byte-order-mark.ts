// Owns the UTF-8 byte-order mark that some editors (Notepad and others on Windows) write at the start of
// a text file: readers of FASTA, FASTQ, TSV and YAML read through it, as if it were not there. Pure.

export const BYTE_ORDER_MARK = '\uFEFF';

/** `text` without a leading byte-order mark. */
export function withoutByteOrderMark(text: string): string {
  return text.startsWith(BYTE_ORDER_MARK) ? text.slice(BYTE_ORDER_MARK.length) : text;
}
