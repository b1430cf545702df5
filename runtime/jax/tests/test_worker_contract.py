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
