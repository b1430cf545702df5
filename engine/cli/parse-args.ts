// Owns parsing a command line into positionals and flags, against the flags a command declares.

export interface FlagSpec {
  name: string;
  /** Takes a value (`--state-dir DIR`); repeatable flags collect every value. */
  value?: string;
  repeatable?: boolean;
  /** A one-letter alias (`o` for `-o FILE`). */
  short?: string;
  description: string;
}

export interface ParsedArgs {
  positionals: string[];
  flags: Map<string, string[]>;
}

export class UsageError extends Error {}

export function parseArgs(argv: readonly string[], specs: readonly FlagSpec[]): ParsedArgs {
  const positionals: string[] = [];
  const flags = new Map<string, string[]>();
  for (let i = 0; i < argv.length; i++) {
    const short = specs.find((s) => s.short !== undefined && argv[i] === `-${s.short}`);
    const arg = short ? `--${short.name}` : argv[i]!;
    if (!arg.startsWith('--') || arg === '--') {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq === -1 ? undefined : eq);
    const spec = specs.find((s) => s.name === name);
    if (spec === undefined) throw new UsageError(`unknown option --${name}`);
    let value = 'true';
    if (spec.value !== undefined) {
      const next = eq === -1 ? argv[++i] : arg.slice(eq + 1);
      if (next === undefined) throw new UsageError(`--${name} needs a value (${spec.value})`);
      value = next;
    }
    const list = flags.get(name) ?? [];
    if (list.length > 0 && !spec.repeatable) throw new UsageError(`--${name} given twice`);
    flags.set(name, [...list, value]);
  }
  return { positionals, flags };
}

export function flag(args: ParsedArgs, name: string): string | undefined {
  return args.flags.get(name)?.[0];
}

export function has(args: ParsedArgs, name: string): boolean {
  return args.flags.has(name);
}

/** `--param k=v` style values as a record. */
export function keyValues(args: ParsedArgs, name: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of args.flags.get(name) ?? []) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new UsageError(`--${name} takes NAME=VALUE, got "${item}"`);
    out[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return out;
}

export function positiveInteger(args: ParsedArgs, name: string, fallback: number): number {
  const raw = flag(args, name);
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < 1) throw new UsageError(`--${name} takes a positive whole number, got "${raw}"`);
  return Number(raw);
}
