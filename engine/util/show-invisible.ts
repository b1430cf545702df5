// Owns how text read from a user's files appears in messages: characters that print as nothing or as a
// plain space (a byte-order mark, zero-width spaces, no-break spaces, control characters) are written as
// escapes, so a message that quotes input never hides what is wrong with it. Pure.

/** Invisible or look-alike characters: controls, format characters (U+FEFF, U+200B), separators other than the space. */
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Co}\p{Cn}\p{Zl}\p{Zp}\u00A0\u1680\u2000-\u200A\u202F\u205F\u3000]/gu;

function escape(char: string): string {
  const code = char.codePointAt(0)!;
  const hex = code.toString(16).toUpperCase();
  return code > 0xffff ? `\\u{${hex}}` : `\\u${hex.padStart(4, '0')}`;
}

/** `text` with each invisible character written as `\uXXXX` (tabs and line breaks stay, for multi-line messages). */
export function showInvisible(text: string): string {
  return text.replace(INVISIBLE, (char) => (char === '\n' || char === '\t' ? char : escape(char)));
}

/** `text` in double quotes, as JSON writes a string, with invisible characters escaped: `"\uFEFF>seq1"`. */
export function quoteText(text: string): string {
  return JSON.stringify(text).replace(INVISIBLE, escape);
}
