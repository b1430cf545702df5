// Owns the one apache-arrow instance Strand uses. apache-arrow ships both CommonJS and ESM builds;
// LanceDB loads the CommonJS one, and Arrow checks classes with instanceof, so tables built from the
// ESM build reach LanceDB as empty. Every Strand module takes Arrow from here.
import { createRequire } from 'node:module';

export const arrow = createRequire(import.meta.url)('apache-arrow') as typeof import('apache-arrow');
