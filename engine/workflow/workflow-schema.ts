// Owns the JSON Schema of workflow files: the base shape plus each plugin's `with:` schema folded in
// (`if uses = X then with = X's schema`). schemas/workflow.schema.json is this, generated and committed.
import type { JsonSchema, StepPlugin } from '../plugin-api/step-plugin.js';

export const WORKFLOW_SCHEMA_ID = 'https://strand.dev/schemas/workflow.schema.json';

const NAME_PATTERN = '^[A-Za-z_][A-Za-z0-9_-]*$';
/** Step ids: a name, or names joined by dots where recipes are expanded (`embed.tokenize`). */
const STEP_ID_PATTERN = '^[A-Za-z_][A-Za-z0-9_-]*(\\.[A-Za-z_][A-Za-z0-9_-]*)*$';

export const RECIPE_SCHEMA_ID = 'https://strand.dev/schemas/recipe.schema.json';

/** The workflow schema without plugins (see workflowShapeSchema). */
export const WORKFLOW_SHAPE_SCHEMA_ID = 'https://strand.dev/schemas/workflow-shape.schema.json';

export function buildWorkflowSchema(plugins: readonly StepPlugin[]): JsonSchema {
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: WORKFLOW_SCHEMA_ID,
    title: 'Strand workflow',
    description: 'A Strand workflow: typed params and a DAG of steps. See docs/workflows.md.',
    type: 'object',
    additionalProperties: false,
    required: ['version', 'name', 'steps'],
    properties: {
      version: { description: 'Workflow file format version.', const: 1 },
      name: { description: 'Names the workflow; cache history is kept per name.', type: 'string', pattern: NAME_PATTERN },
      description: { type: 'string' },
      params: {
        description: 'Typed inputs, referenced as ${{ params.NAME }}; override with --param NAME=VALUE.',
        type: 'object',
        propertyNames: { pattern: NAME_PATTERN },
        additionalProperties: { $ref: '#/$defs/param' },
      },
      devices: {
        description: 'Named devices steps run on (on: NAME); the local CPU needs none.',
        type: 'object',
        propertyNames: { pattern: NAME_PATTERN },
        additionalProperties: { $ref: '#/$defs/device' },
      },
      allow_paths: {
        description: "Directories outside the workflow's folder that recipes may read or write.",
        type: 'array',
        items: { type: 'string' },
      },
      steps: STEPS,
    },
    $defs: definitions(plugins),
  };
}

/**
 * The workflow schema of no plugins: every key and type checked, `uses` any string, `with:` any mapping.
 * A document it accepts is accepted by the full schema exactly when each step's `uses` names a plugin and
 * its `with:` fits that plugin's `pluginWithSchema`: the full schema adds nothing else (see fitsWorkflowSchema).
 */
export function workflowShapeSchema(): JsonSchema {
  return { ...buildWorkflowSchema([]), $id: WORKFLOW_SHAPE_SCHEMA_ID };
}

/** What the workflow schema requires of `with:` when `uses` names `plugin`. */
export function pluginWithSchema(plugin: Pick<StepPlugin, 'description' | 'with'>): JsonSchema {
  return { description: plugin.description, type: 'object', additionalProperties: false, ...plugin.with };
}

/** A recipe: a reusable sub-workflow with typed params, data inputs and outputs (`kind: recipe`). */
export function buildRecipeSchema(): JsonSchema {
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: RECIPE_SCHEMA_ID,
    title: 'Strand recipe',
    type: 'object',
    additionalProperties: false,
    required: ['kind', 'version', 'name', 'steps'],
    properties: {
      kind: { const: 'recipe' },
      version: { const: 1 },
      name: { type: 'string', pattern: NAME_PATTERN },
      description: { type: 'string' },
      params: { type: 'object', propertyNames: { pattern: NAME_PATTERN }, additionalProperties: { $ref: '#/$defs/param' } },
      inputs: {
        description: 'Data the calling step passes in, wired from its needs by type; used as ${{ inputs.NAME }}.',
        type: 'object',
        propertyNames: { pattern: NAME_PATTERN },
        additionalProperties: {
          type: 'object',
          additionalProperties: false,
          required: ['type'],
          properties: { type: { type: 'string' }, description: { type: 'string' } },
        },
      },
      outputs: {
        description: 'Data the recipe gives: NAME: ${{ steps.ID.outputs.PORT }}.',
        type: 'object',
        propertyNames: { pattern: NAME_PATTERN },
        additionalProperties: { type: 'string' },
      },
      steps: STEPS,
    },
    $defs: definitions([]),
  };
}

const STEPS = {
  description: 'The steps, by id. Order does not matter: edges come from needs and inputs.',
  type: 'object',
  minProperties: 1,
  propertyNames: { pattern: STEP_ID_PATTERN },
  additionalProperties: { $ref: '#/$defs/step' },
};

function definitions(plugins: readonly StepPlugin[]): JsonSchema {
  // Code-point order, not localeCompare: the first localeCompare of a process builds an ICU collator
  // (15 ms of `strand validate`), and ids are ASCII, where the two orders agree.
  const sorted = [...plugins].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const local = { type: 'string', pattern: '^(\\.{1,2}/|recipe:)' };
  return {
    device: {
      type: 'object',
      additionalProperties: false,
      required: ['kind'],
      properties: {
        kind: { enum: ['cpu', 'tpu', 'gpu'] },
        runtime: {
          enum: ['onnx', 'jax'],
          description:
            'what computes steps with more than one runtime (embed/nt): onnx (default on cpu) or jax (tpu and gpu always run jax)',
        },
        devices: {
          type: 'integer',
          minimum: 1,
          description: 'kind: cpu, runtime: jax: XLA host devices the CPU is split into (default 1)',
        },
        type: {
          type: 'string',
          description: 'TPU slice (v3-8, v4-32, v5litepod-8, v5p-8, v6e-8) or GPU (a100-40gb, a100-80gb, h100, h200)',
        },
        count: { type: 'integer', minimum: 1, description: 'GPUs' },
        spot: { type: 'boolean' },
        project: { type: 'string' },
        zone: { type: 'string' },
        keep: { type: 'boolean', description: 'keep the node after the run' },
        bucket: {
          type: 'string',
          pattern: '^gs://[a-z0-9][a-z0-9._-]+[a-z0-9](/.*)?$',
          description: 'gs://BUCKET/PREFIX where remote steps stage inputs, job specs and shard markers',
        },
        runtime_version: { type: 'string', description: "TPU VM image (default: the catalog's for the TPU generation)" },
        worker_command: { type: 'string', description: 'command that starts Strand on each TPU VM host (default: strand)' },
        replicas: {
          type: 'integer',
          minimum: 1,
          description:
            'kind: tpu: nodes of this type a shard-parallel step runs on at once, their hosts claiming shards as they free up (default 1)',
        },
        max_attempts: { type: 'integer', minimum: 1, description: 'nodes created for a step before it fails (preemptions; default 5)' },
        stall_minutes: {
          type: 'number',
          exclusiveMinimum: 0,
          description: 'minutes without a finished shard or host report before the step fails (default 30)',
        },
      },
    },
    param: {
      type: 'object',
      additionalProperties: false,
      required: ['type'],
      properties: {
        type: { enum: ['string', 'number', 'integer', 'boolean'] },
        default: { type: ['string', 'number', 'boolean'] },
        description: { type: 'string' },
        secret: { type: 'boolean', description: 'Redacted from output, never in a cache key.' },
        env: { type: 'string', description: 'Environment variable the value is read from.' },
      },
    },
    step: {
      type: 'object',
      additionalProperties: false,
      required: ['uses'],
      properties: {
        uses: {
          description: 'A built-in step id, a local plugin (./plugins/my-step.js) or a recipe (./recipes/x.yaml, recipe:NAME).',
          ...(sorted.length > 0 ? { anyOf: [{ enum: sorted.map((p) => p.id) }, local] } : { type: 'string' }),
        },
        description: { type: 'string' },
        needs: {
          description: "Upstream steps; their outputs are wired to this step's inputs by type.",
          type: 'array',
          items: { type: 'string' },
          uniqueItems: true,
        },
        inputs: {
          description: 'Explicit wiring: PORT: ${{ steps.ID.outputs.PORT }}.',
          type: 'object',
          additionalProperties: { type: 'string' },
        },
        with: { description: 'Parameters of the step plugin.', type: 'object' },
        on: { type: 'string', description: 'A device from devices: (default: the local CPU).' },
        mesh: {
          description: "Device mesh: data x fsdp x tp = the placement's devices.",
          type: 'object',
          additionalProperties: false,
          properties: { data: { type: 'integer', minimum: 1 }, fsdp: { type: 'integer', minimum: 1 }, tp: { type: 'integer', minimum: 1 } },
        },
        batch: {
          description: '{ global: N }, { per_device: N } or auto (the largest per-device batch that fits).',
          anyOf: [
            { const: 'auto' },
            { type: 'object', additionalProperties: false, required: ['global'], properties: { global: { type: 'integer', minimum: 1 } } },
            {
              type: 'object',
              additionalProperties: false,
              required: ['per_device'],
              properties: { per_device: { type: 'integer', minimum: 1 } },
            },
          ],
        },
        precision: { enum: ['fp32', 'bf16'], description: 'Numerics: part of the cache key.' },
        tokens: {
          type: 'integer',
          minimum: 1,
          description:
            'Tokens per sequence for the estimates and the pre-flight (default 1000), never more than the cap of the tokenizer feeding the step (its max_tokens).',
        },
        model_facts: {
          description:
            'Facts of the model for placement estimates, over what Strand reads from the ONNX file, its config.json and its graph (NT-2.5B: layers 32, hidden 2560, heads 20, ffn 10240).',
          type: 'object',
          additionalProperties: false,
          minProperties: 1,
          properties: {
            parameters: {
              type: 'number',
              minimum: 1,
              description: 'parameter count (default: the initializers of the ONNX file; else derived from layers, hidden and ffn)',
            },
            layers: { type: 'integer', minimum: 1, description: 'transformer layers (HF num_hidden_layers)' },
            hidden: { type: 'integer', minimum: 1, description: 'hidden size (HF hidden_size)' },
            heads: { type: 'integer', minimum: 1, description: 'attention heads (HF num_attention_heads); tp must divide it' },
            ffn: { type: 'integer', minimum: 1, description: 'feed-forward width (HF intermediate_size)' },
            trained_parameters: { type: 'number', minimum: 0, description: 'parameters that train (LoRA adapters); default all' },
          },
        },
      },
      ...(sorted.length === 0
        ? {}
        : {
            allOf: sorted.map((plugin) => ({
              if: { properties: { uses: { const: plugin.id } }, required: ['uses'] },
              then: { properties: { with: pluginWithSchema(plugin) } },
            })),
          }),
    },
  };
}
