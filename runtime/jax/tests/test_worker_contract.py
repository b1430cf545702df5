"""The worker contract's data, validated against the one JSON Schema the TypeScript side is tested against
too (test/unit/worker-contract-schema.test.ts); layout names and the shard split as worker-contract.ts has them."""

import pytest
from helpers import golden, job_spec, placement

from strand_jax.worker_contract import ContractError, layout, validate

KEY = "a" * 64  # job_spec's key and object digest
DIGEST = "b" * 64


def test_a_job_spec_marker_and_report_as_the_engine_writes_them_are_valid():
    validate("JobSpec", job_spec())
    embed = {"id": "embed", "uses": "embed/nt", "version": "1"}
    validate("JobSpec", job_spec(step=embed, job=golden("embed-job.json")))
    validate(
        "ShardMarker", {"port": "embeddings", "index": 3, "object": DIGEST, "rows": 250, "attempt": 2, "worker": 1}
    )
    validate(
        "WorkerReport", {"attempt": 2, "worker": 1, "status": "ok", "meta": {"embeddings": {"dim": 64}}, "produced": 2}
    )


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (job_spec(key="nothex"), "JobSpec at key: 'nothex' does not match"),
        (
            job_spec(placement=placement("d", 1, "fp32") | {"mesh": {"data": 0, "fsdp": 1, "tp": 1}}),
            "JobSpec at placement/mesh/data: 0 is less than the minimum of 1",
        ),
        ({k: v for k, v in job_spec().items() if k != "shards"}, "'shards' is a required property"),
    ],
)
def test_a_bad_job_spec_is_refused_with_its_path(document, message):
    with pytest.raises(ContractError, match=message):
        validate("JobSpec", document)


def test_a_job_spec_without_a_positive_progress_interval_is_refused():
    with pytest.raises(ContractError, match="JobSpec at progressSeconds: 0 is less than or equal to the minimum of 0"):
        validate("JobSpec", job_spec(progressSeconds=0))
    with pytest.raises(ContractError, match="'progressSeconds' is a required property"):
        validate("JobSpec", {k: v for k, v in job_spec().items() if k != "progressSeconds"})


def test_a_host_progress_object_of_an_embedding_or_a_training_host_is_valid():
    embedding = {"attempt": 2, "worker": 1, "running": True, "shard": 3, "shards": 1, "rows": 130, "tokens": 14000}
    validate("HostProgress", embedding | {"seconds": 12.5})
    step = {"step": 4, "total": 6, "loss": 0.69, "tokens_per_second": 1200.0, "eta_seconds": 3.5}
    training = {"attempt": 1, "worker": 0, "running": True, "shard": None, "shards": 0, "rows": 64, "tokens": 9000}
    validate("HostProgress", training | {"seconds": 8.0, "training": step})
    with pytest.raises(ContractError, match="HostProgress at training: 'loss' is a required property"):
        validate(
            "HostProgress", training | {"seconds": 8.0, "training": {k: v for k, v in step.items() if k != "loss"}}
        )


def test_layout_matches_the_typescript_contract():
    assert layout.marker(KEY, "embeddings", 7) == f"jobs/{KEY}/markers/embeddings/000007.json"
    assert layout.report(KEY, 3, 1) == f"jobs/{KEY}/workers/0003-1.json"
    assert layout.attempt(KEY, 12) == f"jobs/{KEY}/attempts/0012.json"
    assert layout.claim(KEY, 7) == f"jobs/{KEY}/claims/000007.json"


def test_a_training_job_and_its_checkpoint_and_outputs_markers_are_valid():
    training = {"data": DIGEST, "resume": {"step": 2, "marker": "m.json"}}
    step = {"id": "lora", "uses": "finetune/nt-lora", "version": "2"}
    validate("JobSpec", job_spec(step=step, shards=[], training=training, job=golden("train-job.json")))
    # The TrainJob is the JobSpec's job; the training part only names the examples and the resume point.
    with pytest.raises(ContractError, match=r"JobSpec at training: Additional properties .*'trainer'"):
        validate("JobSpec", job_spec(shards=[], training=training | {"trainer": {}}))
    files = [{"path": "2/state/data", "object": DIGEST, "size": 5}]
    validate("CheckpointMarker", {"step": 2, "total": 6, "attempt": 1, "worker": 0, "files": files})
    validate("OutputsMarker", {"attempt": 2, "worker": 0, "files": files, "summary": {"steps": 6}})
    with pytest.raises(ContractError, match="CheckpointMarker at files/0/path"):
        validate(
            "CheckpointMarker",
            {"step": 2, "total": 6, "attempt": 1, "worker": 0, "files": [{**files[0], "path": "../x"}]},
        )


def test_training_layout_matches_the_typescript_contract():
    assert layout.checkpoint(KEY, 4) == f"jobs/{KEY}/checkpoints/00000004.json"
    assert layout.outputs(KEY) == f"jobs/{KEY}/outputs.json"
