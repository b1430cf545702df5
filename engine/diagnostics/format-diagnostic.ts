// Owns the text form of diagnostics: `file:line:column: error: message`, a code frame with a
// `^~~~` underline, and a `hint:` line — the format editors and CI annotate. Messages quote input (keys,
// values), so invisible characters in them are shown escaped.
import { showInvisible } from '../util/show-invisible.js';
import type { Diagnostic, SourceLocation } from './diagnostic.js';

export type SourceLookup = (file: string) => string | undefined;

function codeFrame(location: SourceLocation, sources: SourceLookup): string[] {
  const text = sources(location.file);
  if (text === undefined) return [];
  const line = text.split(/\r?\n/)[location.line - 1];
  if (line === undefined) return [];
  const gutter = `${location.line} | `;
  const underline = '^' + '~'.repeat(Math.max(0, Math.min(location.length, line.length - location.column + 1) - 1));
  return [`${gutter}${line}`, `${' '.repeat(gutter.length - 2)}| ${' '.repeat(location.column - 1)}${underline}`];
}

function position(location: SourceLocation): string {
  return `${location.file}:${location.line}:${location.column}`;
}

export function formatDiagnostic(diagnostic: Diagnostic, sources: SourceLookup): string {
  const lines = [`${position(diagnostic.location)}: ${diagnostic.severity}: ${showInvisible(diagnostic.message)} [${diagnostic.code}]`];
  lines.push(...codeFrame(diagnostic.location, sources));
  for (const related of diagnostic.related ?? []) {
    lines.push(`${position(related.location)}: note: ${showInvisible(related.message)}`);
  }
  if (diagnostic.hint !== undefined) lines.push(`hint: ${showInvisible(diagnostic.hint)}`);
  return lines.join('\n');
}

export function formatDiagnostics(diagnostics: readonly Diagnostic[], sources: SourceLookup): string {
  const errors = diagnostics.filter((d) => d.severity === 'error').length;
  const body = diagnostics.map((d) => formatDiagnostic(d, sources)).join('\n\n');
  return `${body}\n\n${errors} error${errors === 1 ? '' : 's'}, ${diagnostics.length - errors} warning${diagnostics.length - errors === 1 ? '' : 's'}`;
}
