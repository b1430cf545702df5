// Owns the Diagnostic value: every user-facing problem (YAML syntax to memory checks) is one of these,
// with a stable code, a location in a file, and a hint that says how to fix it.

/** A place in a source file; line and column are 1-based, length counts characters to underline. */
export interface SourceLocation {
  file: string;
  line: number;
  column: number;
  length: number;
}

/** Stable, kebab-case diagnostic codes: listed in docs/diagnostics.md, used by tests and `--json`. */
export type DiagnosticCode =
  | 'yaml-syntax'
  | 'yaml-alias-limit'
  | 'unknown-key'
  | 'wrong-type'
  | 'missing-key'
  | 'invalid-value'
  | 'unknown-plugin'
  | 'plugin-load-failed'
  | 'unknown-step'
  | 'needs-cycle'
  | 'unwired-input'
  | 'ambiguous-input'
  | 'port-type-mismatch'
  | 'unknown-port'
  | 'bad-expression'
  | 'unknown-param'
  | 'param-type'
  | 'missing-param'
  | 'invalid-param-override'
  | 'file-not-found'
  | 'path-escapes-workspace'
  | 'unsupported-uri'
  | 'uri-needs-remote-device'
  | 'remote-step-not-runnable'
  | 'gcs-credentials'
  | 'gcs-listing-failed'
  | 'recipe-not-found'
  | 'recipe-changed'
  | 'lock-invalid'
  | 'recipe-runs-code'
  | 'unknown-device'
  | 'mesh-device-mismatch'
  | 'mesh-heads-mismatch'
  | 'mesh-model-mismatch'
  | 'mesh-hosts-mismatch'
  | 'batch-mesh-mismatch'
  | 'memory-exceeded'
  | 'preflight-does-not-fit'
  | 'preflight-failed'
  | 'external-data-missing'
  | 'external-data-escapes'
  | 'external-data-truncated'
  | 'model-facts-unknown'
  | 'model-config-unreadable'
  | 'runtime-unsupported'
  | 'runtime-model-missing'
  | 'precision-unsupported';

export interface Diagnostic {
  severity: 'error' | 'warning';
  code: DiagnosticCode;
  message: string;
  hint?: string;
  location: SourceLocation;
  /** Further places that explain the problem (each edge of a cycle, the other candidate of an ambiguity). */
  related?: { message: string; location: SourceLocation }[];
}

export function warningAt(code: DiagnosticCode, location: SourceLocation, message: string, hint: string): Diagnostic {
  return { severity: 'warning', code, message, hint, location };
}

export function errorAt(code: DiagnosticCode, location: SourceLocation, message: string, hint?: string): Diagnostic {
  return hint === undefined ? { severity: 'error', code, message, location } : { severity: 'error', code, message, hint, location };
}
