// Owns the facts placement needs about a model (parameters, layers, hidden size, heads, FFN width,
// vocabulary), where each came from, and how sources combine: the step's `model_facts:` over `strand.*`
// metadata over a config.json beside the model over what the graph shows. Pure: sources arrive as values.

export const FACT_NAMES = ['parameters', 'layers', 'hidden', 'heads', 'ffn', 'vocab'] as const;
export type FactName = (typeof FACT_NAMES)[number];

/** Where a fact came from, shown in the plan so a surprising estimate can be traced. */
export type FactSource = 'model_facts' | 'metadata' | 'config.json' | 'weights' | 'graph' | 'initializers' | 'derived';

export interface ModelFacts {
  /** Elements of all initializers (those in external data too). */
  parameters?: number;
  layers?: number;
  hidden?: number;
  heads?: number;
  /** Width of the feed-forward block (HF `intermediate_size`). */
  ffn?: number;
  vocab?: number;
  sources?: Partial<Record<FactName, FactSource>>;
}

export type FactValues = Partial<Record<FactName, number>>;

/** Combines sources, the first that knows a fact wins; parameters are derived when only the shape is known. */
export function mergeModelFacts(...sources: readonly { from: FactSource; values: FactValues }[]): ModelFacts {
  const facts: ModelFacts = {};
  const from: Partial<Record<FactName, FactSource>> = {};
  for (const source of sources) {
    for (const name of FACT_NAMES) {
      const value = source.values[name];
      if (facts[name] !== undefined || value === undefined || !Number.isFinite(value) || value <= 0) continue;
      facts[name] = value;
      from[name] = source.from;
    }
  }
  const { layers, hidden, ffn, vocab } = facts;
  if (facts.parameters === undefined && layers !== undefined && hidden !== undefined && ffn !== undefined) {
    // Attention (4 h^2) and FFN (2 h ffn) weights per layer, plus the token embedding; biases and norms are noise.
    facts.parameters = layers * (4 * hidden * hidden + 2 * hidden * ffn) + (vocab ?? 0) * hidden;
    from.parameters = 'derived';
  }
  return { ...facts, sources: from };
}

/** Facts the exporter recorded for Strand (`strand.layers`, `strand.hidden`, `strand.heads`, `strand.ffn`). */
export function factsFromMetadata(metadata: Readonly<Record<string, string>>): FactValues {
  const values: FactValues = {};
  for (const name of ['layers', 'hidden', 'heads', 'ffn'] as const) {
    const text = metadata[`strand.${name}`];
    if (text !== undefined && /^\d+$/.test(text.trim())) values[name] = Number(text);
  }
  return values;
}

const CONFIG_KEYS: Record<Exclude<FactName, 'parameters'>, readonly string[]> = {
  layers: ['num_hidden_layers', 'n_layer', 'num_layers'],
  hidden: ['hidden_size', 'n_embd', 'd_model'],
  heads: ['num_attention_heads', 'n_head'],
  ffn: ['intermediate_size', 'n_inner', 'ffn_dim'],
  vocab: ['vocab_size'],
};

/** Facts from a Hugging Face config.json (what optimum and transformers save beside an export). */
export function factsFromConfig(config: unknown): FactValues {
  const values: FactValues = {};
  if (config === null || typeof config !== 'object' || Array.isArray(config)) return values;
  const record = config as Record<string, unknown>;
  for (const [name, keys] of Object.entries(CONFIG_KEYS) as [Exclude<FactName, 'parameters'>, readonly string[]][]) {
    const value = keys.map((k) => record[k]).find((v): v is number => typeof v === 'number' && Number.isInteger(v) && v > 0);
    if (value !== undefined) values[name] = value;
  }
  return values;
}

/** The facts an estimate cannot do without: memory needs layers and hidden, the tp check needs heads. */
export function missingFacts(facts: ModelFacts, tp: number): FactName[] {
  const needed: FactName[] = ['parameters', 'layers', 'hidden', ...(tp > 1 ? (['heads'] as const) : [])];
  return needed.filter((name) => facts[name] === undefined);
}
