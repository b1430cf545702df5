// Lint rules: typescript-eslint's strict type-checked set, plus the import boundaries of the design —
// the pure core (workflow, graph, plan, diagnostics, devices) imports no Node module and no I/O library,
// and built-in steps import the engine only through its public plugin API (engine/index.ts).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const IO_LIBRARIES = ['onnxruntime-node', '@lancedb/lancedb', 'ink', 'ink-*', 'chokidar', '@google-cloud/*', 'google-auth-library', 'react'];

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'runtime/', '.strand/', 'out/', 'bench/results/', 'workflows/plugins/'] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: { allowDefaultProject: ['vitest.config.ts', 'eslint.config.js'] }, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
      '@typescript-eslint/no-confusing-void-expression': 'off',
    },
  },
  {
    files: ['engine/workflow/**/*.ts', 'engine/graph/**/*.ts', 'engine/plan/**/*.ts', 'engine/diagnostics/**/*.ts', 'engine/devices/**/*.ts'],
    ignores: ['engine/devices/device-catalog.ts', 'engine/devices/onnx-model-facts.ts', 'engine/devices/safetensors-parameters.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['node:*'], message: 'the core is pure: take file-system and machine facts as arguments' }, { group: IO_LIBRARIES, message: 'the core is pure: I/O libraries live at the edges' }] }],
    },
  },
  {
    files: ['steps/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ regex: '^(\\.\\./)+engine/(?!index\\.js$)', message: 'steps use only the public plugin API: import from engine/index.js' }] }],
    },
  },
  { files: ['**/*.js', '**/*.mjs'], ...tseslint.configs.disableTypeChecked },
);
