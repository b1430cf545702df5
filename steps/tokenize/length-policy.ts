// Owns what happens to token sequences longer than a model takes: `truncate` keeps the first
// max tokens, `error` refuses, `windows` splits the body into consecutive windows, each with the
// leading special tokens repeated (their vectors are averaged per sequence by the embed step).

export type LengthPolicy = 'truncate' | 'error' | 'windows';

export class TooLongError extends Error {
  constructor(
    readonly length: number,
    readonly maxTokens: number,
  ) {
    super(`${length} tokens, more than the ${maxTokens} the model takes`);
  }
}

/**
 * @param prefix number of leading special tokens (CLS) kept at the start of every window
 * @param suffix number of trailing special tokens (SEP) kept at the end of every window
 */
export function applyLengthPolicy(tokens: Int32Array, maxTokens: number, policy: LengthPolicy, prefix: number, suffix = 0): Int32Array[] {
  if (tokens.length <= maxTokens) return [tokens];
  switch (policy) {
    case 'error':
      throw new TooLongError(tokens.length, maxTokens);
    case 'truncate': {
      const out = new Int32Array(maxTokens);
      out.set(tokens.subarray(0, maxTokens - suffix));
      out.set(tokens.subarray(tokens.length - suffix), maxTokens - suffix);
      return [out];
    }
    case 'windows': {
      const head = tokens.subarray(0, prefix);
      const tail = tokens.subarray(tokens.length - suffix);
      const body = tokens.subarray(prefix, tokens.length - suffix);
      const room = maxTokens - prefix - suffix;
      const windows: Int32Array[] = [];
      for (let start = 0; start < body.length; start += room) {
        const part = body.subarray(start, start + room);
        const w = new Int32Array(prefix + part.length + suffix);
        w.set(head);
        w.set(part, prefix);
        w.set(tail, prefix + part.length);
        windows.push(w);
      }
      return windows;
    }
    default: {
      const unreachable: never = policy;
      throw new Error(`unknown length policy ${String(unreachable)}`);
    }
  }
}
