// Owns the one apache-arrow instance Strand uses. apache-arrow ships both CommonJS and ESM builds;
// LanceDB loads the CommonJS one, and Arrow checks classes with instanceof, so tables built from the
// ESM build reach LanceDB as empty. Every Strand module takes Arrow from here.
// Loaded on first use, not on import: the built-in steps import it, and `strand validate` loads those
// steps without reading a single Arrow table (apache-arrow is some 500 CommonJS modules).
import { lazyRequire } from './lazy-require.js';

type Arrow = typeof import('apache-arrow');
const load = lazyRequire<Arrow>('apache-arrow');

export const arrow: Arrow = new Proxy({} as Arrow, { get: (_, name) => Reflect.get(load(), name) as unknown });
