// Owns counting the parameters of a safetensors file from its header alone (8-byte length, then a JSON
// table of tensor shapes): exact, and a few KiB read however large the weights are.
import { closeSync, openSync, readSync } from 'node:fs';

/** Elements of every tensor in the file; undefined when it is not a readable safetensors file. */
export function safetensorsParameters(path: string): number | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const head = Buffer.alloc(8);
    if (readSync(fd, head, 0, 8, 0) !== 8) return undefined;
    const length = Number(head.readBigUInt64LE(0));
    if (length <= 0 || length > 100 * 2 ** 20) return undefined;
    const json = Buffer.alloc(length);
    if (readSync(fd, json, 0, length, 8) !== length) return undefined;
    const header = JSON.parse(json.toString('utf8')) as Record<string, { shape?: unknown }>;
    let total = 0;
    for (const [name, tensor] of Object.entries(header)) {
      if (name === '__metadata__') continue;
      if (!Array.isArray(tensor.shape) || !tensor.shape.every((d) => Number.isInteger(d) && d >= 0)) return undefined;
      total += (tensor.shape as number[]).reduce((a, b) => a * b, 1);
    }
    return total;
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
