"""The mesh is real: 8 XLA CPU devices (conftest), meshes 1x1x1, 8x1x1, 2x2x2 and 1x4x2 give the same
vectors (fp32, 1e-5 max abs), every device holds the parameter shard its logical axes imply, a mesh that
does not divide the model is refused with the dimension named, and length buckets bound compilations."""

import jax
import numpy as np
import pytest
from helpers import random_rows, write_random_v2

from strand_jax.checkpoint import load_model
from strand_jax.embedder import Embedder
from strand_jax.pooling import PoolingRule
from strand_jax.sharding import MeshError, MeshSpec, check_mesh_fits

MESHES = [MeshSpec(1, 1, 1), MeshSpec(8, 1, 1), MeshSpec(2, 2, 2), MeshSpec(1, 4, 2)]
TOLERANCE = 1e-5


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return load_model(write_random_v2(tmp_path_factory.mktemp("v2"), seed=31))


@pytest.fixture(scope="module")
def rows():
    return random_rows(seed=32, count=21, low=3, high=60)


def embedder_for(model, spec, **kwargs):
    config, params = model
    devices = jax.devices()[: spec.size]
    return Embedder(
        config,
        params,
        spec,
        per_device_batch=2,
        rule=PoolingRule("mean", include_cls=False),
        max_length=64,
        devices=devices,
        **kwargs,
    )


def test_eight_cpu_devices_are_available():
    assert len(jax.devices()) == 8


def test_every_mesh_gives_the_same_vectors(model, rows):
    vectors = {spec: embedder_for(model, spec).embed(rows) for spec in MESHES}
    reference = vectors[MeshSpec(1, 1, 1)]
    for spec, v in vectors.items():
        diff = np.abs(v - reference).max()
        print(f"mesh {spec}: max abs diff vs 1x1x1 {diff:.2e}")
        assert diff <= TOLERANCE, spec


@pytest.mark.parametrize("spec", MESHES, ids=lambda s: f"{s.data}x{s.fsdp}x{s.tp}")
def test_each_device_holds_the_shard_its_logical_axes_imply(model, spec):
    config, _ = model
    embedder = embedder_for(model, spec)
    h, n, d, f, L, v = (
        config.hidden_size,
        config.num_heads,
        config.head_dim,
        config.ffn_size,
        config.num_layers,
        config.vocab_size,
    )
    expected = {
        ("embed", "word"): (v, h // spec.fsdp),
        ("layers", "query", "kernel"): (L, h // spec.fsdp, n // spec.tp, d),
        ("layers", "query", "bias"): (L, n // spec.tp, d),
        ("layers", "out", "kernel"): (L, n // spec.tp, d, h // spec.fsdp),
        ("layers", "wi_gate", "kernel"): (L, h // spec.fsdp, f // spec.tp),
        ("layers", "wi_up", "kernel"): (L, h // spec.fsdp, f // spec.tp),
        ("layers", "wo", "kernel"): (L, f // spec.tp, h // spec.fsdp),
        ("layers", "attn_norm", "scale"): (L, h // spec.fsdp),
        ("final_norm", "scale"): (h // spec.fsdp,),
    }
    for path, shape in expected.items():
        leaf = embedder.params
        for key in path:
            leaf = leaf[key]
        shards = leaf.addressable_shards
        assert len(shards) == spec.size
        assert {s.data.shape for s in shards} == {shape}, path
        assert {s.device for s in shards} == set(jax.devices()[: spec.size])


def test_a_tp_that_does_not_divide_the_heads_is_refused(model):
    config, _ = model
    with pytest.raises(MeshError, match=r"tp=3 does not divide the model's 4 attention heads"):
        check_mesh_fits(config, MeshSpec(1, 1, 3))
    with pytest.raises(MeshError, match=r"tp=3 does not divide"):
        embedder_for(model, MeshSpec(2, 1, 3))


def test_a_tp_that_does_not_divide_the_ffn_and_an_fsdp_that_does_not_divide_hidden_are_refused(tmp_path):
    config, _ = load_model(write_random_v2(tmp_path, seed=33, heads=4, ffn=90))
    with pytest.raises(MeshError, match=r"tp=8 does not divide the model's 4 attention heads"):
        check_mesh_fits(config, MeshSpec(1, 1, 8))
    with pytest.raises(MeshError, match=r"tp=4 does not divide the model's feed-forward size 90"):
        check_mesh_fits(config, MeshSpec(1, 2, 4))
    with pytest.raises(MeshError, match=r"fsdp=3 does not divide the model's hidden size 64"):
        check_mesh_fits(config, MeshSpec(1, 3, 1))


def test_a_mesh_larger_than_the_devices_is_refused(model):
    with pytest.raises(MeshError, match=r"needs 16 devices, 8 are available"):
        check_mesh_fits(model[0], MeshSpec(4, 2, 2), devices=8)


def test_mesh_specs_parse_and_bad_ones_are_explained():
    assert MeshSpec.parse("2,2,2") == MeshSpec(2, 2, 2)
    assert MeshSpec.parse("data=4, tp=2") == MeshSpec(4, 1, 2)
    for bad, message in (("2,2", "is not data,fsdp,tp"), ("data=2,pp=2", "unknown axis 'pp'"), ("0,1,1", "at least 1")):
        with pytest.raises(MeshError, match=message):
            MeshSpec.parse(bad)


def test_length_buckets_bound_the_compilations(model, rows):
    embedder = embedder_for(model, MeshSpec(2, 2, 2))
    embedder.embed(rows)
    # Rows of 3..60 tokens fall into the 32 and 64 buckets: two programs, however many batches.
    assert embedder.buckets == (32, 64)
    assert embedder.stats.programs == 2
    assert sorted(embedder.stats.shapes) == [(8, 32), (8, 64)]
    embedder.embed(rows[:5])
    assert embedder.stats.programs == 2


def test_bf16_computes_in_bfloat16_and_pools_in_fp32(model, rows):
    fp32 = embedder_for(model, MeshSpec(2, 2, 2)).embed(rows)
    bf16_embedder = embedder_for(model, MeshSpec(2, 2, 2), precision="bf16")
    assert bf16_embedder.params["layers"]["query"]["kernel"].dtype == jax.numpy.bfloat16
    bf16 = bf16_embedder.embed(rows)
    assert bf16.dtype == np.float32
    cosine = np.sum(fp32 * bf16, axis=1) / np.linalg.norm(fp32, axis=1) / np.linalg.norm(bf16, axis=1)
    print(f"bf16 vs fp32: max abs diff {np.abs(fp32 - bf16).max():.2e}, min cosine {cosine.min():.5f}")
    assert np.abs(fp32 - bf16).max() < 0.1 and cosine.min() > 0.999
