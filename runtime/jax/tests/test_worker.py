"""The Python worker against an in-process server of GCS's wire protocol (gcs_wire.py): the contract of
engine/cloud/run-worker.ts — the JobSpec's job parsed, shards claimed by the hosts as they free up, a marker
only after its object, shards with a marker or another host's claim skipped, a report per host — and many
hosts: two "hosts" of 4 devices each, running at once, give the bytes one local run (`run`'s embed path) on
all 8 devices with the same mesh gives, with and without peft adapters."""

import hashlib
import json
from concurrent.futures import ThreadPoolExecutor

import jax
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from gcs_wire import Fault, GcsWire
from helpers import (
    SAMPLE,
    TINY_NT,
    embed_job,
    golden,
    jax_placement,
    job_spec,
    pack_directory,
    placement,
    tokenize_nt_v2,
)
from test_cli import write_token_shard

from strand_jax.gcs import Backoff, Bucket, GcsClient, md5_of
from strand_jax.host_progress import HostProgress
from strand_jax.job import parse_local_run
from strand_jax.local_run import run_embed
from strand_jax.staging import StagingError, unpack_directory
from strand_jax.worker import JobError, run_worker

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
# embed/nt on a v4-16 (2 hosts of 4 chips), as the engine builds it; the hosts' devices are the 8 CPU devices.
JOB = embed_job(max_length=1000, placement=jax_placement("tpu", hosts=2, mesh=(2, 2, 2), per_device_batch=2))


def placed(hosts, mesh, **changes):
    """JOB placed on `hosts` hosts with the whole mesh `mesh` (data, fsdp, tp)."""
    layout = dict(zip(("data", "fsdp", "tp"), mesh, strict=True))
    return {**JOB, "placement": {**JOB["placement"], "hosts": hosts, "mesh": layout}} | changes


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
            step={"id": "embed", "uses": "embed/nt", "version": "1"},
            files=files,
            inputs={"tokens": {"schema": 1, "type": "tokens", "shards": shards, "meta": TOKENS_META}},
            placement=placement("v4-16", 2, "fp32"),
            job=JOB,
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


def vectors_of_a_local_run(token_shards, tmp_path, adapters=None) -> list[str]:
    """The oracle: the local executor's embed path on all 8 devices, mesh 2x2x2 on one host, the same job."""
    job = JOB | {
        "adapters": adapters is not None,
        "placement": jax_placement("cpu", mesh=(2, 2, 2), per_device_batch=2),
    }
    paths = {"model": str(TINY_NT), "tokens": [str(p) for p in token_shards], "out": str(tmp_path / "local")}
    if adapters is not None:
        paths["adapters"] = str(adapters)
    run = parse_local_run({"job": job, "paths": paths})
    run_embed(run.job, run.paths, lambda line: None)
    return [hashlib.sha256((tmp_path / "local" / p.name).read_bytes()).hexdigest() for p in token_shards]


def test_two_hosts_at_once_compute_each_shard_once_and_match_one_run_on_the_whole_mesh_byte_for_byte(
    slice_, token_shards, tmp_path
):
    slice_.write_job()
    with ThreadPoolExecutor(2) as hosts:
        reports = list(hosts.map(lambda host: slice_.run(host, tmp_path), [0, 1]))
    # Which host claims which shard is a race; that each is claimed, computed and marked once is not.
    assert [(r["worker"], r["status"]) for r in reports] == [(0, "ok"), (1, "ok")]
    assert sum(r["produced"] for r in reports) == 4
    # The engine writes the rest of the artifact's meta itself, as for a local run.
    assert reports[0]["meta"] == reports[1]["meta"] == {"embeddings": {"dim": 64}}
    markers = slice_.markers()
    writes = slice_.wire.writes
    for index, marker in markers.items():
        claim = slice_.wire.json("bkt", f"{ROOT}/jobs/{KEY}/claims/{index:06d}.json")
        assert claim == {"index": index, "attempt": 1, "worker": marker["worker"]}
        assert writes.count(f"{ROOT}/jobs/{KEY}/markers/embeddings/{index:06d}.json") == 1
        # Every marker was written after its object, and names an object whose bytes hash to it.
        name = f"{ROOT}/objects/{marker['object']}"
        assert writes.index(name) < writes.index(f"{ROOT}/jobs/{KEY}/markers/embeddings/{marker['index']:06d}.json")
        assert hashlib.sha256(slice_.wire.objects[("bkt", name)]).hexdigest() == marker["object"]
    assert [markers[i]["object"] for i in range(4)] == vectors_of_a_local_run(token_shards, tmp_path)
    assert sorted(n.rsplit("/", 1)[1] for n in slice_.wire.names("bkt", f"{ROOT}/jobs/{KEY}/workers/")) == [
        "0001-0.json",
        "0001-1.json",
    ]
    # Each host's last progress write says it stopped, and counts the rows of the shards it marked.
    progress = [slice_.wire.json("bkt", f"{ROOT}/jobs/{KEY}/progress/0001-{host}.json") for host in (0, 1)]
    assert [p["running"] for p in progress] == [False, False]
    assert [p["shards"] for p in progress] == [r["produced"] for r in reports]
    assert [p["rows"] for p in progress] == [12 * r["produced"] for r in reports]
    assert all(p["tokens"] > p["rows"] for p in progress if p["rows"])


def test_a_host_rewrites_its_progress_at_most_every_progress_seconds(slice_):
    now = [0.0]
    progress = HostProgress(Bucket.at(slice_.client, f"gs://bkt/{ROOT}"), slice_.job, 0, clock=lambda: now[0])
    assert slice_.job["progressSeconds"] == 10
    progress.start_shard(2)
    for _ in range(100):  # a batch a second for 100 s
        now[0] += 1.0
        progress.batch(4, 400)
    progress.end_shard()
    progress.write(running=False)
    name = f"{ROOT}/jobs/{KEY}/progress/0001-0.json"
    # The first batch, then one every 10 s (at 11, 21, ... 91 s), then the last: 11 writes for 100 batches.
    assert slice_.wire.writes.count(name) == 11
    assert slice_.wire.json("bkt", name) == {
        "attempt": 1,
        "worker": 0,
        "running": False,
        "shard": None,
        "shards": 1,
        "rows": 400,
        "tokens": 40000,
        "seconds": 100.0,
    }


def train_progress(step: int) -> dict:
    """The trainer's train-progress line after `step` of 30 (lora_trainer.py): 16 examples of 1,600 tokens a step."""
    return {
        "kind": "train-progress",
        "step": step,
        "total": 30,
        "loss": 2.0 / step,
        "rows": 16 * step,
        "tokens": 1600 * step,
        "tokens_per_second": 800.0,
        "eta_seconds": 2.0 * (30 - step),
    }


def test_a_training_host_rewrites_its_last_train_step_at_most_every_progress_seconds_and_once_at_the_end(slice_):
    name = f"{ROOT}/jobs/{KEY}/progress/0001-0.json"
    written = []
    slice_.wire.on_write = lambda n: written.append(slice_.wire.json("bkt", n)) if n == name else None
    now = [0.0]
    progress = HostProgress(Bucket.at(slice_.client, f"gs://bkt/{ROOT}"), slice_.job, 0, clock=lambda: now[0])
    for step in range(1, 31):  # a step every 2 s for 60 s, checkpoints after steps 6 and 8
        now[0] += 2.0
        progress.train_step(train_progress(step))
        if step in (6, 8):
            progress.flush()
    progress.write(running=False)
    # The first step, then the first step 10 s after the last write (6, then 13, 18, ...), a checkpoint's step
    # unless it was just written (8, not 6 again), then the last: 8 writes for 30 steps, each with that step's line.
    assert [w["training"]["step"] for w in written] == [1, 6, 8, 13, 18, 23, 28, 30]
    assert [w["running"] for w in written] == [True] * 7 + [False]
    assert written[-1] == {
        "attempt": 1,
        "worker": 0,
        "running": False,
        "shard": None,
        "shards": 0,
        "rows": 480,
        "tokens": 48000,
        "seconds": 60.0,
        "training": {"step": 30, "total": 30, "loss": 2.0 / 30, "tokens_per_second": 800.0, "eta_seconds": 0.0},
    }


def test_a_progress_write_that_fails_is_skipped_and_the_next_one_due_is_made(slice_):
    logged = []
    now = [0.0]
    bucket = Bucket.at(slice_.client, f"gs://bkt/{ROOT}")
    progress = HostProgress(bucket, slice_.job, 0, logged.append, clock=lambda: now[0])
    slice_.wire.faults.append(Fault(403, "POST", "/upload/"))  # not retried: fails for good
    progress.train_step(train_progress(1))
    assert logged and "progress not written" in logged[0]
    now[0] += 10.0
    progress.train_step(train_progress(2))
    assert slice_.wire.json("bkt", f"{ROOT}/jobs/{KEY}/progress/0001-0.json")["training"]["step"] == 2


def test_a_shard_another_host_claimed_is_left_to_it_and_taken_once_its_claim_is_released(slice_, tmp_path):
    slice_.write_job(workers=1, job=placed(1, (1, 2, 2)))
    claim = f"{ROOT}/jobs/{KEY}/claims/000001.json"
    slice_.wire.objects[("bkt", claim)] = json.dumps({"index": 1, "attempt": 1, "worker": 3}).encode()
    first = slice_.run(0, tmp_path)
    assert first["status"] == "ok" and first["produced"] == 3
    assert sorted(slice_.markers()) == [0, 2, 3]
    # The engine deletes a lost node's claims on unmarked shards; the next host to look takes the shard.
    del slice_.wire.objects[("bkt", claim)]
    slice_.wire.objects.pop(("bkt", f"{ROOT}/jobs/{KEY}/workers/0001-0.json"))
    second = slice_.run(0, tmp_path)
    assert second["status"] == "ok" and second["produced"] == 1
    assert sorted(slice_.markers()) == [0, 1, 2, 3]
    assert slice_.wire.json("bkt", claim) == {"index": 1, "attempt": 1, "worker": 0}


def test_a_shard_that_has_a_marker_is_not_run_again(slice_, tmp_path):
    slice_.write_job(shards=[0, 1, 2, 3], workers=1, job=placed(1, (1, 2, 2)))
    marker = {"port": "embeddings", "index": 2, "object": "c" * 64, "rows": 12, "attempt": 0, "worker": 0}
    slice_.wire.objects[("bkt", f"{ROOT}/jobs/{KEY}/markers/embeddings/000002.json")] = json.dumps(marker).encode()
    report = slice_.run(0, tmp_path)
    assert report["status"] == "ok" and report["produced"] == 3
    assert slice_.markers()[2] == marker


def test_a_marker_another_host_wrote_first_stands(slice_, tmp_path):
    slice_.write_job(workers=1, job=placed(1, (1, 2, 2)))
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
    slice_.write_job(shards=[1], workers=1, job=placed(1, (1, 2, 2)))
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
    def failed(**changes):
        slice_.wire.objects.pop(("bkt", f"{ROOT}/jobs/{KEY}/workers/0001-0.json"), None)
        slice_.write_job(**changes)
        report = slice_.run(0, tmp_path)
        assert report["status"] == "failed"
        return report["message"]

    assert failed(job=placed(2, (1, 8, 1))).startswith("mesh data=1 does not divide over the slice's 2 hosts")
    assert failed(job=placed(4, (4, 1, 2))) == (
        "the job is placed on 4 hosts and this slice has 2; run the Strand version that staged it"
    )
    assert failed(job=JOB | {"adapters": True}) == "the job has adapters, and the job spec has no adapters input"


def test_a_step_without_a_jax_job_is_refused_as_strand_worker_s(slice_, tmp_path):
    spec = {k: v for k, v in slice_.job.items() if k != "job"}
    step = {"id": "embed", "uses": "embed/onnx", "version": "1", "params": {}}
    slice_.wire.objects[("bkt", f"{ROOT}/jobs/{KEY}/attempts/0001.json")] = json.dumps(spec | {"step": step}).encode()
    assert slice_.run(0, tmp_path)["message"] == (
        "embed/onnx has no JAX job in its job spec; it runs on `strand worker`, not this worker"
    )


def test_a_job_outside_the_schema_is_refused_before_a_report_naming_the_key(slice_, tmp_path):
    # What broke every embed/nt on a slice: the step's raw params (with their defaults) in the job.
    slice_.write_job(job=JOB | {"batch_size": 8})
    with pytest.raises(JobError, match=r"JobSpec at job: Additional properties are not allowed \('batch_size'"):
        slice_.run(0, tmp_path)


def test_a_job_spec_whose_job_has_adapters_embeds_with_them_as_a_local_run_does(slice_, token_shards, tmp_path):
    from strand_jax.checkpoint import load_model
    from strand_jax.export_peft import write_peft_adapters
    from strand_jax.lora import LoraSettings, init_adapters

    config, _ = load_model(TINY_NT)
    settings = LoraSettings(rank=4, alpha=8, targets=("query", "value"))
    folder = tmp_path / "peft"
    adapters = init_adapters(config, settings, jax.random.PRNGKey(3), b_scale=0.2)
    write_peft_adapters(folder, adapters, config, settings, "models/tiny-nt")
    # finetune/nt-lora's adapters artifact: one row, the peft folder packed (steps/finetune/nt-lora.ts).
    table = pa.table({"peft": pa.array([pack_directory(folder)], pa.binary())})
    sink = pa.BufferOutputStream()
    with pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)
    digest = slice_.stage(sink.getvalue().to_pybytes())
    manifest = {"schema": 1, "type": "adapters", "shards": [{"index": 0, "digest": digest, "rows": 1}], "meta": {}}
    slice_.write_job(job=JOB | {"adapters": True}, inputs={**slice_.job["inputs"], "adapters": manifest})
    reports = [slice_.run(0, tmp_path), slice_.run(1, tmp_path)]
    # One after the other: the first host claims every shard, the second finds them marked.
    assert [(r["status"], r["produced"]) for r in reports] == [("ok", 4), ("ok", 0)]
    markers = slice_.markers()
    with_adapters = vectors_of_a_local_run(token_shards, tmp_path / "with", folder)
    assert [markers[i]["object"] for i in range(4)] == with_adapters
    assert with_adapters != vectors_of_a_local_run(token_shards, tmp_path / "without")


def test_a_packed_folder_is_unpacked_and_a_path_leaving_it_is_refused(tmp_path):
    (tmp_path / "peft" / "sub").mkdir(parents=True)
    (tmp_path / "peft" / "adapter_config.json").write_text("{}")
    (tmp_path / "peft" / "sub" / "w").write_bytes(b"weights")
    assert unpack_directory(pack_directory(tmp_path / "peft"), tmp_path / "out") == ["adapter_config.json", "sub/w"]
    assert (tmp_path / "out" / "sub" / "w").read_bytes() == b"weights"
    index = b'[{"path":"../escape","size":1}]'
    with pytest.raises(StagingError, match=r"packed path ../escape leaves its folder"):
        unpack_directory(len(index).to_bytes(4, "little") + index + b"x", tmp_path / "evil")
    assert not (tmp_path / "escape").exists()


def test_a_gs_model_folder_is_read_at_the_planned_generation_and_a_replaced_one_fails_the_report(slice_, tmp_path):
    # The model in its own bucket, as the plan listed it (generation 1), not staged under the job's root.
    slice_.wire.buckets.add("models")
    files = []
    for name in ("config.json", "model.safetensors"):
        data = (TINY_NT / name).read_bytes()
        slice_.wire.objects[("models", f"nt/{name}")] = data
        version = {"bucket": "models", "name": f"nt/{name}", "generation": "1", "size": len(data)}
        files.append({"path": f"gs://models/nt/{name}", "gcs": {**version, "crc32c": None, "md5": md5_of(data)}})
    slice_.write_job(files=files, job=JOB | {"model": "gs://models/nt"}, shards=[0, 2])
    ok = slice_.run(0, tmp_path)
    assert (ok["status"], ok["produced"]) == ("ok", 2)

    slice_.write_job(files=files, job=JOB | {"model": "gs://models/nt"}, shards=[1, 3])
    generation = slice_.wire.replace("models", "nt/model.safetensors", b"other weights")
    failed = slice_.run(1, tmp_path)
    assert failed["status"] == "failed"
    assert failed["message"] == (
        f"gs://models/nt/model.safetensors changed after the plan: generation 1 was planned, {generation} is there now"
    )
    assert sorted(slice_.markers()) == [0, 2]


def test_a_train_job_without_its_training_part_is_a_failed_report_saying_why(slice_, tmp_path):
    train = golden("train-job.json") | {"placement": jax_placement("tpu", hosts=2, mesh=(2, 2, 2), per_device_batch=1)}
    step = {"id": "lora", "uses": "finetune/nt-lora", "version": "2"}
    slice_.write_job(step=step, shards=[], inputs={}, job=train)
    assert slice_.run(0, tmp_path)["message"] == "a train job runs as a training job; the job spec has no training part"


def test_a_checkpoint_folder_goes_up_by_content_and_comes_back_checked(slice_, tmp_path):
    from strand_jax.gcs import Bucket
    from strand_jax.training_worker import download_files, upload_folder

    folder = tmp_path / "checkpoints" / "2"
    (folder / "state").mkdir(parents=True)
    (folder / "state" / "data").write_bytes(b"state")
    (folder / "_CHECKPOINT_METADATA").write_bytes(b"{}")
    bucket = Bucket.at(slice_.client, f"gs://bkt/{ROOT}")
    files = upload_folder(bucket, folder.parent, folder)
    assert [f["path"] for f in files] == ["2/_CHECKPOINT_METADATA", "2/state/data"]
    assert all(slice_.wire.objects[("bkt", f"{ROOT}/objects/{f['object']}")] for f in files)
    download_files(bucket, files, tmp_path / "resume")
    assert (tmp_path / "resume" / "2" / "state" / "data").read_bytes() == b"state"
    # An object that does not match its digest is refused, not used.
    slice_.wire.objects[("bkt", f"{ROOT}/objects/{files[1]['object']}")] = b"other"
    with pytest.raises(StagingError, match="does not match its digest"):
        download_files(bucket, files, tmp_path / "again")
