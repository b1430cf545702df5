"""The JAX job as the engine writes it: the golden jobs the TypeScript side regenerates from its builders
(tests/golden/*.json) parse into the typed job with the meaning the engine gave them; the schema refuses
what it does not define, naming the path; a placement sets up JAX's platform and this host's mesh."""

import pytest
from helpers import NT_LORA_DEFAULT_OPTIONS, TINY_NT, embed_job, golden, jax_placement

from strand_jax.config import read_model_config
from strand_jax.job import (
    EmbedJob,
    JaxJobError,
    PlatformError,
    TrainJob,
    configure_platform,
    host_mesh,
    parse_job,
    parse_local_run,
    require_platform,
)
from strand_jax.lora_trainer import job_settings
from strand_jax.mesh_spec import MeshError, MeshSpec
from strand_jax.worker_contract import validate


def test_the_golden_embed_job_parses_and_each_host_runs_its_part_of_the_mesh():
    job = parse_job(golden("embed-job.json"))
    assert isinstance(job, EmbedJob) and job.kind == "embed"
    assert (job.model, job.pooling, job.include_cls, job.prefix, job.normalize) == (
        "models/tiny-nt",
        "mean",
        True,
        1,
        False,
    )
    assert (job.pad_id, job.adapters) == (1, False)
    assert job.max_length == 2048  # NT v2's max_tokens: the last length bucket
    placement = job.placement
    assert (placement.platform, placement.hosts, placement.host_devices) == ("tpu", 2, None)
    assert placement.mesh == MeshSpec(2, 2, 2)
    assert host_mesh(placement) == MeshSpec(1, 2, 2)
    assert (placement.per_device_batch, placement.precision) == (4, "fp32")


def test_the_golden_train_job_parses_and_its_precision_reaches_the_train_settings():
    job = parse_job(golden("train-job.json"))
    assert isinstance(job, TrainJob) and job.kind == "train"
    assert len(job.levels) == len(job.classes) == len(job.settings["weights"]) == 7
    assert job.settings == NT_LORA_DEFAULT_OPTIONS  # finetune/nt-lora's defaults: the pre-flight's options too
    assert (job.length.steps, job.length.epochs) == (None, 1)
    assert job.placement.hosts == 1 and host_mesh(job.placement) == job.placement.mesh
    config = read_model_config(TINY_NT)
    lora, train, head = job_settings(job.settings, job.placement.precision, config, 10, [len(c) for c in job.classes])
    assert train.precision == "bf16" and train.total_steps == 10
    assert (lora.rank, lora.targets) == (16, ("query", "value"))
    assert head.classes == tuple(len(c) for c in job.classes) and head.hidden == 128


def test_a_job_spec_carries_the_golden_jobs():
    digest = "b" * 64
    spec = {
        "schema": 1,
        "key": "a" * 64,
        "attempt": 0,
        "root": "gs://bucket/strand",
        "projectId": "p",
        "workers": 2,
        "progressSeconds": 10,
        "step": {"id": "embed", "uses": "embed/nt", "version": "1"},
        "files": [{"path": "models/tiny-nt/config.json", "object": digest}],
        "inputs": {},
        "outputs": {"embeddings": "embeddings"},
        "shards": [0],
        "placement": {
            "device": "v4-16",
            "mesh": {"data": 2, "fsdp": 2, "tp": 2},
            "perDeviceBatch": 4,
            "globalBatch": 16,
            "precision": "fp32",
        },
        "job": golden("embed-job.json"),
    }
    validate("JobSpec", spec)
    validate("JobSpec", spec | {"job": golden("train-job.json"), "training": {"data": digest, "resume": None}})


@pytest.mark.parametrize(
    ("job", "message"),
    [
        (embed_job(temperature=2), r"EmbedJob at \(root\): Additional properties are not allowed \('temperature'"),
        (
            embed_job(placement=jax_placement() | {"batch_size": 8}),
            r"EmbedJob at placement: Additional properties are not allowed \('batch_size'",
        ),
        (golden("train-job.json") | {"bucket": "b"}, r"TrainJob at \(root\): Additional properties .*'bucket'"),
        (embed_job(placement=jax_placement(mesh=(0, 1, 1))), "EmbedJob at placement/mesh/data: 0 is less than"),
        (embed_job(pooling="sum"), "EmbedJob at pooling: 'sum' is not one of"),
    ],
)
def test_a_key_or_value_outside_the_schema_is_refused_with_its_path(job, message):
    with pytest.raises(JaxJobError, match=message):
        parse_job(job)


def test_a_job_spec_whose_job_has_an_unknown_key_is_refused_with_its_path():
    from helpers import job_spec

    from strand_jax.worker_contract import ContractError

    with pytest.raises(ContractError, match=r"JobSpec at job: Additional properties are not allowed \('batch_size'"):
        validate("JobSpec", job_spec(job=embed_job(batch_size=8)))


def test_a_local_run_gives_adapters_exactly_when_the_job_has_them(tmp_path):
    paths = {"model": str(TINY_NT), "tokens": [], "out": str(tmp_path)}
    run = parse_local_run({"job": embed_job(), "paths": paths})
    assert run.paths.adapters is None and run.paths.model == TINY_NT
    with pytest.raises(JaxJobError, match="the job has adapters but no folder is given"):
        parse_local_run({"job": embed_job(adapters=True), "paths": paths})
    with pytest.raises(JaxJobError, match=r"LocalRun at job/placement/mesh/tp"):
        parse_local_run({"job": embed_job(placement=jax_placement(mesh=(1, 1, 0))), "paths": paths})


def test_the_host_part_of_the_mesh_is_data_over_hosts_and_a_remainder_is_refused():
    job = parse_job(embed_job(placement=jax_placement("tpu", hosts=2, mesh=(8, 1, 1))))
    assert host_mesh(job.placement) == MeshSpec(4, 1, 1)
    odd = parse_job(embed_job(placement=jax_placement("tpu", hosts=2, mesh=(1, 8, 1))))
    with pytest.raises(MeshError, match="mesh data=1 does not divide over the slice's 2 hosts"):
        host_mesh(odd.placement)


def test_a_placement_pins_jax_to_its_platform_and_a_cpu_one_splits_it_into_host_devices():
    env = {"XLA_FLAGS": "--xla_dump_to=/tmp/x --xla_force_host_platform_device_count=8"}
    configure_platform(parse_job(embed_job(placement=jax_placement(host_devices=4))).placement, env)
    assert env == {
        "JAX_PLATFORMS": "cpu",
        "XLA_FLAGS": "--xla_dump_to=/tmp/x --xla_force_host_platform_device_count=4",
    }
    tpu: dict[str, str] = {"XLA_FLAGS": "--xla_dump_to=/tmp/x"}
    configure_platform(parse_job(golden("embed-job.json")).placement, tpu)
    assert tpu == {"JAX_PLATFORMS": "tpu", "XLA_FLAGS": "--xla_dump_to=/tmp/x"}


def test_a_job_placed_on_an_accelerator_jax_does_not_see_stops():
    gpu = parse_job(embed_job(placement=jax_placement("gpu"))).placement
    with pytest.raises(PlatformError) as refused:
        require_platform(gpu, "cpu")
    assert str(refused.value) == (
        "this step is placed on a gpu, and JAX here sees only cpu devices; install the accelerator plugin into "
        "the runtime's venv (`strand doctor` says how)"
    )
    require_platform(gpu, "gpu")
    require_platform(parse_job(embed_job()).placement, "cpu")
