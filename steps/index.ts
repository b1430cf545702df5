// Lists the built-in step plugins explicitly. A plugin id is its path: `embed/onnx` is steps/embed/onnx.ts.
import type { StepPlugin } from '../engine/index.js';

export const builtinSteps: readonly StepPlugin[] = [];
