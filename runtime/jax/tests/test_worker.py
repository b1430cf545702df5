"""The Python worker against an in-process server of GCS's wire protocol (gcs_wire.py): the contract of
engine/cloud/run-worker.ts — shards split over hosts, a marker only after its object, shards with a marker
skipped, a report per host — and the multi-host split: two "hosts" of 4 devices each give the bytes one
run on all 8 devices with the same mesh gives."""

import hashlib
import json

import jax
import pyarrow.parquet as pq
import pytest
from gcs_wire import Fault, GcsWire
from helpers import SAMPLE, TINY_NT, job_spec, placement, tokenize_nt_v2
from test_cli import write_token_shard

from strand_jax.arrow_shards import read_token_shard, write_vector_shard
from strand_jax.checkpoint import load_model
from strand_jax.embedder import Embedder
from strand_jax.gcs import Backoff, GcsClient, md5_of
from strand_jax.pooling import PoolingRule
from strand_jax.sharding import MeshSpec
from strand_jax.worker import JobError, host_mesh, run_worker

KEY = "a" * 64
ROOT = "strand"
TOKENS_META = {
    "tokenizer": "nucleotide-transformer",
    "version": "2",
    "pad_id": 1,
    "prefix": 1,
    "suffix": 0,
    "max_tokens": 1000,
}


@pytest.fixture(scope="module")
def token_shards(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tokens")
    table = pq.read_table(SAMPLE, columns=["id", "sequence"]).slice(0, 48)
    ids, sequences = table.column("id").to_pylist(), table.column("sequence").to_pylist()
    paths = []
    for i in range(4):
        path = folder / f"{i:06d}.arrow"
        write_token_shard(path, ids[12 * i : 12 * i + 12], [tokenize_nt_v2(s) for s in sequences[12 * i : 12 * i + 12]])
        paths.append(path)
    return paths


class Slice:
    """A bucket with the staged model and tokens and an attempt's job spec, as the engine leaves it."""

    def __init__(self, token_shards, sleeps):
        self.wire = GcsWire(buckets={"bkt"})
        self.server, endpoint = self.wire.serve()
        self.client = GcsClient(endpoint, backoff=Backoff(sleep=sleeps.append))
        files = []
        for name in ("config.json", "model.safetensors"):
            files.append({"path": f"models/tiny-nt/{name}", "object": self.stage((TINY_NT / name).read_bytes())})
        shards = [{"index": i, "digest": self.stage(p.read_bytes()), "rows": 12} for i, p in enumerate(token_shards)]
        self.job = job_spec(
            key=KEY,
            attempt=1,
            root=f"gs://bkt/{ROOT}",
            step={"id": "embed", "uses": "embed/nt", "version": "1", "params": {"model": "models/tiny-nt"}},
            files=files,
            inputs={"tokens": {"schema": 1, "type": "tokens", "shards": shards, "meta": TOKENS_META}},
            placement=placement("v4-16", 2, "fp32"),
        )

    def stage(self, data: bytes) -> str:
        digest = hashlib.sha256(data).hexdigest()
        self.wire.objects[("bkt", f"{ROOT}/objects/{digest}")] = data
        return digest

    def write_job(self, **changes):
        self.wire.objects[("bkt", f"{ROOT}/jobs/{KEY}/attempts/0001.json")] = json.dumps(
            {**self.job, **changes}
        ).encode()

    def run(self, host: int, tmp_path, devices=None, pause=lambda: None):
        env = {"STRAND_JOB": f"gs://bkt/{ROOT}/jobs/{KEY}/attempts/0001.json", "STRAND_WORKER_INDEX": str(host)}
        workdir = tmp_path / f"host-{host}"
        workdir.mkdir(exist_ok=True)
        if devices is None:
            devices = jax.devices()[4 * host : 4 * host + 4]
        return run_worker(env, self.client, workdir, pause, lambda m: None, wait_limit=3, devices=devices)

    def markers(self):
        return {
            m["index"]: m
            for m in (self.wire.json("bkt", n) for n in self.wire.names("bkt", f"{ROOT}/jobs/{KEY}/markers/"))
        }


@pytest.fixture
def slice_(token_shards):
    sleeps: list[float] = []
    made = Slice(token_shards, sleeps)
    made.sleeps = sleeps
    yield made
    made.server.shutdown()


def vectors_on_the_whole_mesh(token_shards, tmp_path) -> list[str]:
    """The oracle: one process, all 8 devices, mesh 2x2x2, the same per-device batch and last bucket."""
    config, params = load_model(TINY_NT)
    embedder = Embedder(config, params, MeshSpec(2, 2, 2), 2, "fp32", PoolingRule("mean", True, 1, False), 1000)
    digests = []
    for i, path in enumerate(token_shards):
        ids, rows = read_token_shard(path)
        write_vector_shard(tmp_path / f"local-{i}.arrow", ids, embedder.embed(rows))
        digests.append(hashlib.sha256((tmp_path / f"local-{i}.arrow").read_bytes()).hexdigest())
    return digests


def test_two_hosts_write_each_shard_once_and_match_one_run_on_the_whole_mesh_byte_for_byte(
    slice_, token_shards, tmp_path
):
    slice_.write_job()
    reports = [slice_.run(0, tmp_path), slice_.run(1, tmp_path)]
    assert [(r["worker"], r["status"], r["produced"]) for r in reports] == [(0, "ok", 2), (1, "ok", 2)]
    assert reports[0]["meta"]["embeddings"]["dim"] == 64
    markers = slice_.markers()
    assert {i: m["worker"] for i, m in markers.items()} == {0: 0, 1: 1, 2: 0, 3: 1}
    # Every marker was written after its object, and names an object whose bytes hash to it.
    writes = slice_.wire.writes
    for marker in markers.values():
        name = f"{ROOT}/objects/{marker['object']}"
        assert writes.index(name) < writes.index(f"{ROOT}/jobs/{KEY}/markers/embeddings/{marker['index']:06d}.json")
        assert hashlib.sha256(slice_.wire.objects[("bkt", name)]).hexdigest() == marker["object"]
    assert [markers[i]["object"] for i in range(4)] == vectors_on_the_whole_mesh(token_shards, tmp_path)
    assert sorted(n.rsplit("/", 1)[1] for n in slice_.wire.names("bkt", f"{ROOT}/jobs/{KEY}/workers/")) == [
        "0001-0.json",
        "0001-1.json",
    ]


def test_a_shard_that_has_a_marker_is_not_run_again(slice_, tmp_path):
    slice_.write_job(
        shards=[0, 1, 2, 3], workers=1, placement={**slice_.job["placement"], "mesh": {"data": 1, "fsdp": 2, "tp": 2}}
    )
    marker = {"port": "embeddings", "index": 2, "object": "c" * 64, "rows": 12, "attempt": 0, "worker": 0}
    slice_.wire.objects[("bkt", f"{ROOT}/jobs/{KEY}/markers/embeddings/000002.json")] = json.dumps(marker).encode()
    report = slice_.run(0, tmp_path)
    assert report["status"] == "ok" and report["produced"] == 3
    assert slice_.markers()[2] == marker


def test_a_marker_another_host_wrote_first_stands(slice_, tmp_path):
    slice_.write_job(workers=1, placement={**slice_.job["placement"], "mesh": {"data": 1, "fsdp": 2, "tp": 2}})
    theirs = {"port": "embeddings", "index": 1, "object": "d" * 64, "rows": 12, "attempt": 1, "worker": 7}

    def race(name):
        # Just after this host's object for shard 1 lands, another host's marker for it appears.
        if name.endswith("/markers/embeddings/000000.json"):
            slice_.wire.objects[("bkt", f"{ROOT}/jobs/{KEY}/markers/embeddings/000001.json")] = json.dumps(
                theirs
            ).encode()

    slice_.wire.on_write = race
    report = slice_.run(0, tmp_path)
    assert report["status"] == "ok" and report["produced"] == 3
    assert slice_.markers()[1] == theirs
    assert (("POST", "/upload/storage/v1/b/bkt/o", 412)) in slice_.wire.requests


def test_transient_errors_and_a_corrupted_download_are_retried_with_backoff(slice_, tmp_path):
    slice_.write_job(
        shards=[1], workers=1, placement={**slice_.job["placement"], "mesh": {"data": 1, "fsdp": 2, "tp": 2}}
    )
    slice_.wire.faults += [Fault(503, "GET", "/o/", times=2), Fault(429, "POST", "/upload/", times=1)]
    slice_.wire.corrupt_downloads = 1
    report = slice_.run(0, tmp_path)
    assert report["status"] == "ok" and report["produced"] == 1
    assert slice_.sleeps == [1.0, 2.0, 1.0, 1.0]
    assert [s for _, _, s in slice_.wire.requests].count(503) == 2


def test_waits_for_the_job_spec_the_engine_writes_after_the_node_is_ready(slice_, tmp_path):
    looks = []
    report = slice_.run(0, tmp_path, pause=lambda: (looks.append(1), slice_.write_job(shards=[])))
    assert looks == [1] and report["status"] == "ok" and report["produced"] == 0
    # With nothing to run the output's facts are still reported, from config.json alone (no weights fetched).
    assert report["meta"]["embeddings"]["dim"] == 64
    assert not any("model.safetensors" in str(p) for p in (tmp_path / "host-0" / "model").iterdir())


def test_a_job_it_cannot_run_is_a_failed_report_saying_why(slice_, tmp_path):
    slice_.write_job(placement={**slice_.job["placement"], "mesh": {"data": 1, "fsdp": 8, "tp": 1}})
    assert slice_.run(0, tmp_path)["message"].startswith("mesh data=1 does not divide over the slice's 2 hosts")
    slice_.wire.objects.pop(("bkt", f"{ROOT}/jobs/{KEY}/workers/0001-0.json"))
    slice_.write_job(step={**slice_.job["step"], "uses": "embed/onnx"})
    assert slice_.run(0, tmp_path)["message"] == (
        "this Python worker runs embed/nt, finetune/nt-lora; embed/onnx runs on `strand worker`"
    )
    slice_.wire.objects.pop(("bkt", f"{ROOT}/jobs/{KEY}/workers/0001-0.json"))
    slice_.write_job(step={**slice_.job["step"], "params": {"model": "models/tiny-nt", "temperature": 2}})
    assert "does not know embed/nt param 'temperature'" in slice_.run(0, tmp_path)["message"]


def test_the_mesh_is_divided_over_hosts_along_data():
    assert host_mesh({"data": 8, "fsdp": 1, "tp": 1}, 2) == MeshSpec(4, 1, 1)
    assert host_mesh({"data": 2, "fsdp": 2, "tp": 2}, 2) == MeshSpec(1, 2, 2)


def test_a_gs_model_folder_is_read_at_the_planned_generation_and_a_replaced_one_fails_the_report(slice_, tmp_path):
    # The model in its own bucket, as the plan listed it (generation 1), not staged under the job's root.
    slice_.wire.buckets.add("models")
    files = []
    for name in ("config.json", "model.safetensors"):
        data = (TINY_NT / name).read_bytes()
        slice_.wire.objects[("models", f"nt/{name}")] = data
        version = {"bucket": "models", "name": f"nt/{name}", "generation": "1", "size": len(data)}
        files.append({"path": f"gs://models/nt/{name}", "gcs": {**version, "crc32c": None, "md5": md5_of(data)}})
    step = {**slice_.job["step"], "params": {"model": "gs://models/nt"}}
    slice_.write_job(files=files, step=step)
    ok = slice_.run(0, tmp_path)
    assert (ok["status"], ok["produced"]) == ("ok", 2)
    assert ok["meta"]["embeddings"]["model_digests"]["model.safetensors"] == "gs://models/nt/model.safetensors#1"

    generation = slice_.wire.replace("models", "nt/model.safetensors", b"other weights")
    failed = slice_.run(1, tmp_path)
    assert failed["status"] == "failed"
    assert failed["message"] == (
        f"gs://models/nt/model.safetensors changed after the plan: generation 1 was planned, {generation} is there now"
    )
    assert sorted(slice_.markers()) == [0, 2]


def test_a_training_job_on_more_than_one_host_is_a_failed_report_saying_why(slice_, tmp_path):
    training = {"trainer": {}, "data": slice_.stage(b"examples"), "resume": None}
    step = {"id": "lora", "uses": "finetune/nt-lora", "version": "2", "params": {"model": "models/tiny-nt"}}
    slice_.write_job(step=step, shards=[], inputs={}, training=training)
    assert slice_.run(0, tmp_path)["message"].startswith("a training job runs on one host; this slice has 2")
    slice_.wire.objects.pop(("bkt", f"{ROOT}/jobs/{KEY}/workers/0001-0.json"))
    slice_.write_job(step=step, shards=[], inputs={})
    assert (
        slice_.run(0, tmp_path)["message"]
        == "finetune/nt-lora runs as a training job; the job spec has no training part"
    )


def test_a_checkpoint_folder_goes_up_by_content_and_comes_back_checked(slice_, tmp_path):
    from strand_jax.gcs import Bucket
    from strand_jax.training_worker import download_files, upload_folder
    from strand_jax.worker import read_verified

    folder = tmp_path / "checkpoints" / "2"
    (folder / "state").mkdir(parents=True)
    (folder / "state" / "data").write_bytes(b"state")
    (folder / "_CHECKPOINT_METADATA").write_bytes(b"{}")
    bucket = Bucket.at(slice_.client, f"gs://bkt/{ROOT}")
    files = upload_folder(bucket, folder.parent, folder)
    assert [f["path"] for f in files] == ["2/_CHECKPOINT_METADATA", "2/state/data"]
    assert all(slice_.wire.objects[("bkt", f"{ROOT}/objects/{f['object']}")] for f in files)
    download_files(bucket, files, tmp_path / "resume", read_verified)
    assert (tmp_path / "resume" / "2" / "state" / "data").read_bytes() == b"state"
    # An object that does not match its digest is refused, not used.
    slice_.wire.objects[("bkt", f"{ROOT}/objects/{files[1]['object']}")] = b"other"
    with pytest.raises(JobError, match="does not match its digest"):
        download_files(bucket, files, tmp_path / "again", read_verified)
