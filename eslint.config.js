// Lint rules: typescript-eslint's strict type-checked set, plus the import boundaries of the design —
// the pure core (workflow, graph, plan, diagnostics, devices) imports no Node module and no I/O library,
// and built-in steps import the engine only through its public plugin API (engine/index.ts).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const IO_LIBRARIES = [
  'onnxruntime-node',
  '@lancedb/lancedb',
  'ink',
  'ink-*',
  'chokidar',
  '@google-cloud/*',
  'google-auth-library',
  'react',
];

// Engine modules import each other directly: engine/index.ts is the plugins' entry, only re-exports, and an
// engine module importing it would pull the whole public surface into a cycle (test/integration/import-graph.test.ts).
const NOT_THE_PUBLIC_ENTRY = {
  regex: '^(\\.\\./)*(\\./)?index\\.js$',
  message: "engine modules import the module that defines a name, not engine/index.ts (the plugins' entry)",
};

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'runtime/', '.strand/', 'out/', 'bench/results/', 'workflows/plugins/'] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ['vitest.config.ts', 'eslint.config.js'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
      '@typescript-eslint/no-confusing-void-expression': 'off',
      // Off: with noUncheckedIndexedAccess every `xs[i]` inside a checked bound is `T | undefined`, and `!` is
      // the honest way to say "in bounds" (556 of them; a `?? throw` at each would be noise). A `!` that tsc
      // does not need is still an error, through no-unnecessary-type-assertion.
      '@typescript-eslint/no-non-null-assertion': 'off',
      // Off: `async` without `await` is how a method of a Promise-returning interface (CliIo commands, sinks,
      // DataAccess, test plugins' `run`) is written here, and it turns a synchronous throw into a rejection.
      '@typescript-eslint/require-await': 'off',
      // A leading underscore names what is left out on purpose: an unused parameter, or a key dropped by a
      // rest destructuring (`const { run: _run, ...rest } = step`).
      // Off: typed JSON readers take the expected type as a parameter (`getJson<StepRecord>(digest)`): a cast
      // written at the call, no less checked than `getJson(digest) as StepRecord`, and easier to read.
      '@typescript-eslint/no-unnecessary-type-parameters': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true }],
    },
  },
  {
    // Tests read the CLI's `--json` output and journals with JSON.parse (typed `any`) and check the shape with
    // expect(): a wrong shape fails the assertion, which is the test. Typing each parse would add casts, not safety.
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/restrict-plus-operands': 'off',
    },
  },
  {
    files: ['engine/**/*.ts', 'engine/**/*.tsx'],
    ignores: ['engine/index.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [NOT_THE_PUBLIC_ENTRY] }] },
  },
  {
    files: [
      'engine/workflow/**/*.ts',
      'engine/graph/**/*.ts',
      'engine/plan/**/*.ts',
      'engine/diagnostics/**/*.ts',
      'engine/devices/**/*.ts',
    ],
    ignores: ['engine/devices/device-catalog.ts', 'engine/devices/onnx-model-facts.ts', 'engine/devices/safetensors-parameters.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['node:*'], message: 'the core is pure: take file-system and machine facts as arguments' },
            { group: IO_LIBRARIES, message: 'the core is pure: I/O libraries live at the edges' },
            NOT_THE_PUBLIC_ENTRY,
          ],
        },
      ],
    },
  },
  {
    files: ['steps/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { regex: '^(\\.\\./)+engine/(?!index\\.js$)', message: 'steps use only the public plugin API: import from engine/index.js' },
          ],
        },
      ],
    },
  },
  { files: ['**/*.js', '**/*.mjs'], ...tseslint.configs.disableTypeChecked },
);
