// Owns reading the plain YAML that workflow files are mostly written in, faster than js-yaml can: block
// mappings of plain keys, whose values are plain, single- or double-quoted scalars on one line, or flow
// mappings and sequences on one line (`s1: { uses: source/fasta, with: { path: x.fa }, needs: [a] }`).
// Anything else — block sequences and scalars, anchors, aliases, tags, escapes, multi-line scalars or flow
// collections, tabs, non-ASCII text, duplicate keys, a construct this cannot be sure of — is left to js-yaml:
// the answer is then undefined. Where there is an answer, it is the value js-yaml gives (core schema),
// plain scalars resolved by js-yaml's own resolvers (null, booleans, integers, floats).
//
// Why (issue 27): js-yaml took a fifth of `strand plan`'s time on a 100,000-step workflow (14 MB); this
// reads it in about 0.6 of js-yaml's time (`npm run bench -- yaml-parse`), to a smaller value (a long
// scalar is a slice of the text). test/unit/parse-simple-yaml.test.ts holds it to js-yaml's answers.
import { CORE_SCHEMA } from 'js-yaml';

interface ImplicitType {
  resolve(data: string): boolean;
  construct(data: string): unknown;
}
/** The core schema's resolvers of plain scalars, in the order js-yaml tries them. */
const IMPLICIT = (CORE_SCHEMA as unknown as { compiledImplicit: ImplicitType[] }).compiledImplicit;

/** Printable ASCII and line feeds only: no tabs, carriage returns, control or non-ASCII characters. */
const SIMPLE_TEXT = /^[\x20-\x7e\n]*$/;
/** A plain key: no indicator, no space, nothing that could start another kind of node. */
const KEY = /[A-Za-z0-9_][A-Za-z0-9_.-]*/y;
/** Deeper nesting than this is left to js-yaml. */
const MAX_DEPTH = 64;

const SPACE = 0x20;
const NEWLINE = 0x0a;
const HASH = 0x23;
const COLON = 0x3a;
const COMMA = 0x2c;
const DOUBLE_QUOTE = 0x22;
const SINGLE_QUOTE = 0x27;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const DASH = 0x2d;

/** Characters that start a node other than a plain scalar (or a plain scalar this leaves to js-yaml). */
const NOT_PLAIN_START = new Set(Array.from('-?:,[]{}#&*!|>\'"%@`', (c) => c.charCodeAt(0)));
const FLOW_INDICATOR = new Set([COMMA, OPEN_BRACKET, CLOSE_BRACKET, OPEN_BRACE, CLOSE_BRACE]);

/** Thrown inside the parser when the text leaves the subset; caught at the top. */
class OutsideSubset extends Error {}
const outside = new OutsideSubset();

/**
 * First characters of the plain scalars those resolvers can take (`~`, null, true, false, numbers, `.inf`,
 * `.nan`); a scalar starting with any other is a string, without asking them.
 */
const MAY_RESOLVE = new Set(Array.from('-+.0123456789~nNtTfF', (c) => c.charCodeAt(0)));

function plainScalar(text: string): unknown {
  if (!MAY_RESOLVE.has(text.charCodeAt(0))) return text;
  for (const type of IMPLICIT) if (type.resolve(text)) return type.construct(text);
  return text;
}

function keyOf(text: string): string {
  return String(plainScalar(text));
}

class Reader {
  pos = 0;
  constructor(readonly text: string) {}

  code(at = this.pos): number {
    return at < this.text.length ? this.text.charCodeAt(at) : NEWLINE;
  }

  atEnd(): boolean {
    return this.pos >= this.text.length;
  }

  skipSpaces(): void {
    while (this.text.charCodeAt(this.pos) === SPACE) this.pos++;
  }

  /**
   * The indent of the next line holding content, from the start of a line, skipping blank lines and (unless
   * `comments`) comment lines; -1 at the end. `pos` moves to that line's start.
   */
  nextIndent(comments: boolean): number {
    for (;;) {
      if (this.atEnd()) return -1;
      const start = this.pos;
      this.skipSpaces();
      const c = this.code();
      if (c === NEWLINE || (c === HASH && !comments)) {
        this.toLineEnd();
        if (!this.atEnd()) this.pos++;
        continue;
      }
      const indent = this.pos - start;
      this.pos = start;
      return indent;
    }
  }

  toLineEnd(): void {
    const end = this.text.indexOf('\n', this.pos);
    this.pos = end === -1 ? this.text.length : end;
  }

  /** After a value: spaces, perhaps a comment, then the end of the line (consumed). */
  endLine(): void {
    const before = this.pos;
    this.skipSpaces();
    const c = this.code();
    if (c === HASH && this.pos > before) this.toLineEnd();
    else if (c !== NEWLINE) throw outside;
    if (!this.atEnd()) this.pos++;
  }

  key(): string {
    KEY.lastIndex = this.pos;
    if (!KEY.test(this.text)) throw outside;
    const key = keyOf(this.text.slice(this.pos, KEY.lastIndex));
    this.pos = KEY.lastIndex;
    // `key: value` only: `key:value` is one plain scalar, `key :` and `? key` are left to js-yaml.
    if (this.code() !== COLON) throw outside;
    this.pos++;
    const next = this.code();
    if (next !== SPACE && next !== NEWLINE) throw outside;
    return key;
  }

  blockMap(indent: number, depth: number): Record<string, unknown> {
    if (depth > MAX_DEPTH) throw outside;
    const map: Record<string, unknown> = {};
    for (;;) {
      const at = this.nextIndent(false);
      if (at === -1 || at < indent) return map;
      if (at > indent) throw outside;
      this.pos += indent;
      const key = this.key();
      this.skipSpaces();
      let value: unknown;
      const c = this.code();
      if (c === NEWLINE || c === HASH) {
        // A nested block mapping, or nothing (null).
        this.toLineEnd();
        if (!this.atEnd()) this.pos++;
        const start = this.pos;
        const nested = this.nextIndent(false);
        this.pos = start;
        value = nested > indent ? this.blockMap(nested, depth + 1) : null;
      } else {
        // `-1` and `-x` are plain scalars too; `- x` is a block sequence (then `node` refuses it).
        const next = this.code(this.pos + 1);
        const plain = !NOT_PLAIN_START.has(c) || (c === DASH && next !== SPACE && next !== NEWLINE);
        value = plain ? this.blockPlain() : this.node(depth);
        this.endLine();
        // A more indented line after a plain scalar would continue it: left to js-yaml.
        if (plain) {
          const start = this.pos;
          const next = this.nextIndent(true);
          this.pos = start;
          if (next > indent) throw outside;
        }
      }
      set(map, key, value);
    }
  }

  /** A plain scalar in block context: to the end of the line or a comment. */
  blockPlain(): unknown {
    const start = this.pos;
    let end = start;
    for (;;) {
      const c = this.code();
      if (c === NEWLINE) break;
      if (c === HASH && this.text.charCodeAt(this.pos - 1) === SPACE) break;
      // `a: b: c` is a nested key, not a scalar.
      if (c === COLON && (this.code(this.pos + 1) === SPACE || this.code(this.pos + 1) === NEWLINE)) throw outside;
      this.pos++;
      if (c !== SPACE) end = this.pos;
    }
    this.pos = end;
    return plainScalar(this.text.slice(start, end));
  }

  /** A quoted scalar or a flow collection (block or flow context), or a plain scalar in flow context. */
  node(depth: number): unknown {
    if (depth > MAX_DEPTH) throw outside;
    const c = this.code();
    if (c === DOUBLE_QUOTE || c === SINGLE_QUOTE) return this.quoted(c);
    if (c === OPEN_BRACE) return this.flowMap(depth + 1);
    if (c === OPEN_BRACKET) return this.flowSeq(depth + 1);
    if (NOT_PLAIN_START.has(c)) {
      // `-1` and `-x` are plain scalars; `- ` starts a sequence entry.
      const next = this.code(this.pos + 1);
      if (c !== DASH || next === SPACE || next === NEWLINE || FLOW_INDICATOR.has(next)) throw outside;
    }
    return this.flowPlain();
  }

  quoted(quote: number): string {
    const start = this.pos + 1;
    let end = start;
    for (;;) {
      const c = this.code(end);
      if (c === NEWLINE || c === BACKSLASH) throw outside;
      if (c === quote) break;
      end++;
    }
    // '' inside single quotes is an escaped quote: left to js-yaml.
    if (quote === SINGLE_QUOTE && this.code(end + 1) === SINGLE_QUOTE) throw outside;
    this.pos = end + 1;
    return this.text.slice(start, end);
  }

  /** A plain scalar in flow context: up to `,`, `]` or `}`. */
  flowPlain(): unknown {
    const start = this.pos;
    let end = start;
    for (;;) {
      const c = this.code();
      if (c === COMMA || c === CLOSE_BRACKET || c === CLOSE_BRACE) break;
      if (c === NEWLINE || c === OPEN_BRACE || c === OPEN_BRACKET) throw outside;
      if (c === HASH && this.text.charCodeAt(this.pos - 1) === SPACE) throw outside;
      if (c === COLON) {
        const next = this.code(this.pos + 1);
        if (next === SPACE || next === NEWLINE || FLOW_INDICATOR.has(next)) throw outside;
      }
      this.pos++;
      if (c !== SPACE) end = this.pos;
    }
    this.pos = end;
    return plainScalar(this.text.slice(start, end));
  }

  flowMap(depth: number): Record<string, unknown> {
    const map: Record<string, unknown> = {};
    this.pos++;
    this.skipSpaces();
    if (this.code() === CLOSE_BRACE) {
      this.pos++;
      return map;
    }
    for (;;) {
      const key = this.key();
      if (this.code() !== SPACE) throw outside;
      this.skipSpaces();
      set(map, key, this.node(depth));
      if (this.closes(CLOSE_BRACE)) return map;
    }
  }

  flowSeq(depth: number): unknown[] {
    const seq: unknown[] = [];
    this.pos++;
    this.skipSpaces();
    if (this.code() === CLOSE_BRACKET) {
      this.pos++;
      return seq;
    }
    for (;;) {
      seq.push(this.node(depth));
      if (this.closes(CLOSE_BRACKET)) return seq;
    }
  }

  /** After a flow entry: `,` and the next entry (true: the collection goes on), or `close`. */
  closes(close: number): boolean {
    this.skipSpaces();
    const c = this.code();
    this.pos++;
    if (c === close) return true;
    if (c !== COMMA) throw outside;
    this.skipSpaces();
    // A trailing comma, or an empty entry: left to js-yaml.
    const next = this.code();
    if (next === COMMA || next === close || next === NEWLINE) throw outside;
    return false;
  }
}

function set(map: Record<string, unknown>, key: string, value: unknown): void {
  // A duplicate key is an error js-yaml reports; `__proto__` needs its care.
  if (key === '__proto__' || Object.hasOwn(map, key)) throw outside;
  map[key] = value;
}

/** The value js-yaml (core schema) reads from `text`, when `text` is in the subset; else undefined. */
export function parseSimpleYaml(text: string): { value: Record<string, unknown> } | undefined {
  if (!SIMPLE_TEXT.test(text)) return undefined;
  const reader = new Reader(text);
  try {
    const value = reader.blockMap(0, 0);
    if (!reader.atEnd() || Object.keys(value).length === 0) return undefined;
    return { value };
  } catch (error) {
    if (error === outside) return undefined;
    throw error;
  }
}
