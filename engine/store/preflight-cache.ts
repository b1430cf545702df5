// Owns the pre-flight's compile results on disk: STATE/preflight/<sha256 of the request's canonical JSON>.json
// holding { request, answer }. The request carries everything the answer depends on — program, topology,
// mesh, batch, max length, precision, memory limit, the model's config.json, pooling, program options — and
// the runtime version, so a new runtime never reads an old answer. Written atomically; an entry whose
// stored request differs from the one asked (or that does not parse) is a miss, never an answer.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { canonicalJson } from '../util/canonical-json.js';
import { sha256 } from '../util/sha256.js';
import { checkPreflight, type PreflightAnswer, type PreflightRequest } from '../jax/preflight-contract.js';
import { writeFileAtomic } from './atomic-write.js';

export class PreflightCache {
  constructor(
    private readonly dir: string,
    /** Identifies the compiler (the runtime's sources), part of every key. */
    private readonly compiler: string,
  ) {}

  private path(request: PreflightRequest): string {
    return join(this.dir, `${sha256(canonicalJson({ compiler: this.compiler, request }))}.json`);
  }

  get(request: PreflightRequest): PreflightAnswer | undefined {
    let entry: { compiler?: unknown; request?: unknown; answer?: unknown };
    try {
      entry = JSON.parse(readFileSync(this.path(request), 'utf8')) as typeof entry;
    } catch {
      return undefined;
    }
    if (entry.compiler !== this.compiler || canonicalJson(entry.request) !== canonicalJson(request)) return undefined;
    const answer = checkPreflight<PreflightAnswer>('PreflightAnswer', entry.answer);
    return answer.ok ? answer.value : undefined;
  }

  put(request: PreflightRequest, answer: PreflightAnswer): void {
    writeFileAtomic(this.path(request), JSON.stringify({ compiler: this.compiler, request, answer }));
  }
}
