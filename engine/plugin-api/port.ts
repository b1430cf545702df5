// Owns what flows between steps: port types and the ports a plugin declares. Part of the public plugin API.

/** Data types that flow between steps. Ports are wired by type; add your own strings for custom data. */
export type PortType = 'sequences' | 'tokens' | 'embeddings' | 'model' | 'table' | 'metrics' | (string & {});

/** An input or output port of a step. */
export interface PortSpec {
  /** What flows through it; `needs` wires an input to the one upstream output of the same type. */
  type: PortType;
  description?: string;
  /** An optional input may stay unwired. */
  optional?: boolean;
  /** Wired only by `inputs:`, never by type from `needs` (for a second input of a type the step already takes). */
  explicit?: boolean;
}
