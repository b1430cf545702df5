"""XLA's FLOP count for one sequence against 2 x parameters x tokens (bench/jax-runtime.ts runs this).

    python bench/flops.py MODEL_DIR TOKENS...

The layers run under `lax.scan`, and XLA's cost analysis counts a while loop's body once, whatever its trip
count: the rolled figure is about one layer's worth. So the count is taken twice, rolled and with the scan
fully unrolled (`unroll=True`, patched in here only), and the unrolled one is the FLOP count. Prints one
JSON object.
"""

from __future__ import annotations

import functools
import json
import sys

import jax

from strand_jax.checkpoint import load_model
from strand_jax.embedder import Embedder
from strand_jax.sharding import MeshSpec


def flops(config, params, tokens: int) -> float:
    embedder = Embedder(config, params, MeshSpec(1, 1, 1), 1, max_length=tokens, devices=jax.devices()[:1])
    shape = jax.ShapeDtypeStruct((1, tokens), jax.numpy.int32)
    cost = embedder._jitted.lower(embedder.params, embedder.adapters, shape, shape).compile().cost_analysis()
    cost = cost[0] if isinstance(cost, list) else cost
    return float(cost["flops"])


def main() -> None:
    folder, lengths = sys.argv[1], [int(t) for t in sys.argv[2:]]
    config, params = load_model(folder)
    leaves = jax.tree_util.tree_leaves(params)
    total = sum(int(x.size) for x in leaves)
    embedding = int(config.vocab_size * config.hidden_size)
    rolled = {t: flops(config, params, t) for t in lengths}
    scan = jax.lax.scan
    jax.lax.scan = functools.partial(scan, unroll=True)
    try:
        unrolled = {t: flops(config, params, t) for t in lengths}
    finally:
        jax.lax.scan = scan
    print(
        json.dumps(
            {
                "parameters": total,
                "embedding_parameters": embedding,
                "layers": config.num_layers,
                "per_length": [
                    {
                        "tokens": t,
                        "xla_rolled": rolled[t],
                        "xla": unrolled[t],
                        "two_p_t": 2 * total * t,
                        "two_p_t_without_embedding": 2 * (total - embedding) * t,
                    }
                    for t in lengths
                ],
            }
        )
    )


if __name__ == "__main__":
    main()
