"""LoRA training on the tiny NT v2 (models/tiny-nt) over 8 XLA CPU devices: the train step compiles from shapes
alone with the base sharded as `embed` shards it; gradient accumulation equals one large batch; a run's loss goes
down; a run resumed from an Orbax checkpoint ends with adapters byte-identical to an uninterrupted one; a fake
clock triggers the every-M-minutes checkpoint; TensorBoard's own reader reads every metric back; a diverging run
stops at its first step that is not a number, keeps the checkpoint before it and ends its W&B run failed."""

import json
from dataclasses import replace

import jax
import numpy as np
import pyarrow as pa
import pytest
from helpers import TINY_NT, wandb_summary
from safetensors.numpy import load_file

from strand_jax.checkpoint import load_model
from strand_jax.job import TrainPaths, parse_job
from strand_jax.lora import LoraSettings
from strand_jax.lora_trainer import Trainer, TrainingDiverged
from strand_jax.sharding import MeshSpec, make_mesh, param_shardings
from strand_jax.taxonomy_head import HeadSpec
from strand_jax.train_step import TrainSettings, build_train_program
from strand_jax.worker import failure_message

LEVELS = ["kingdom", "genus"]
CLASSES = [["K0", "K1"], ["G0", "G1", "G2", "G3"]]


def write_examples(path, count=48, seed=5):
    """Rows whose labels follow from their second token (learnable), a fifth of them held out."""
    rng = np.random.default_rng(seed)
    rows, labels = [], []
    for i in range(count):
        genus = i % 4
        row = rng.integers(6, 4000, size=int(rng.integers(10, 22))).astype(np.int32)
        row[0], row[1:4] = 3, 100 + 50 * genus
        rows.append(row.tolist())
        labels.append([genus // 2, genus if i % 7 else -1])  # some genus labels masked
    table = pa.table(
        {
            "id": [f"s{i}" for i in range(count)],
            "tokens": pa.array(rows, type=pa.list_(pa.int32())),
            "split": ["val" if i % 5 == 0 else "train" for i in range(count)],
            "labels": pa.array(labels, type=pa.list_(pa.int32())),
        }
    )
    with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)
    return path


def make_job(learning_rate=0.02, **overrides):
    """A TrainJob (jax_job.schema.json) on the 8 CPU devices, mesh 2x2x2, 10 steps; parsed, so it is one the
    schema accepts."""
    job = {
        "kind": "train",
        "base_model": "models/tiny-nt",
        "levels": LEVELS,
        "classes": CLASSES,
        "include_cls": True,
        "prefix": 1,
        "max_length": None,
        "settings": {
            "lora": {"rank": 4, "alpha": 8, "dropout": 0.1, "targets": ["query", "value"]},
            "train": {
                "learning_rate": learning_rate,
                "weight_decay": 0.01,
                "warmup_steps": 2,
                "schedule": "cosine",
                "grad_accum": 1,
                "remat": "full",
                "seed": 1,
            },
            "hidden": 16,
            "weights": [2.0, 0.8],
        },
        "length": {"steps": 10},
        "eval_every": 5,
        "checkpoint_every_steps": 4,
        "checkpoint_every_minutes": 30,
        "placement": {
            "platform": "cpu",
            "hosts": 1,
            "host_devices": 8,
            "mesh": {"data": 2, "fsdp": 2, "tp": 2},
            "per_device_batch": 2,
            "precision": "fp32",
        },
    }
    return parse_job(job | overrides)


def make_paths(tmp, name, resume=None):
    folder = tmp / name
    return TrainPaths(
        model=TINY_NT,
        data=tmp / "examples.arrow",
        out=folder / "out",
        checkpoints=folder / "checkpoints",
        tensorboard=folder / "tensorboard",
        resume=resume,
    )


def test_the_train_step_compiles_from_shapes_with_the_base_sharded_as_embed_shards_it():
    config, _ = load_model(TINY_NT)
    mesh = make_mesh(MeshSpec(2, 2, 2))
    program = build_train_program(
        config,
        LoraSettings(),
        TrainSettings(total_steps=10, grad_accum=2),
        HeadSpec(64, 32, (2, 4), (1.0, 1.0)),
        mesh,
        2,
        64,
    )
    base, state, batch = program.abstract_args()
    assert jax.tree_util.tree_map(lambda s: s.sharding, base) == param_shardings(mesh, config)
    assert base["layers"]["query"]["kernel"].shape == (2, 64, 4, 16)
    assert all(leaf.sharding.is_fully_replicated for leaf in jax.tree_util.tree_leaves(state))
    assert batch["input_ids"].shape == (2, 8, 64)
    compiled = program.step.lower(base, state, batch).compile()
    assert compiled.memory_analysis().temp_size_in_bytes > 0


def test_gradient_accumulation_equals_one_batch_of_the_same_rows():
    config, params = load_model(TINY_NT)
    mesh = make_mesh(MeshSpec(2, 2, 1), jax.devices()[:4])
    head = HeadSpec(64, 0, (3,), (1.0,))
    rng = np.random.default_rng(1)
    ids = rng.integers(6, 4000, size=(16, 24)).astype(np.int32)
    mask = np.ones_like(ids)
    labels = (ids[:, 1:2] % 3).astype(np.int32)
    results = []
    for accum, per_device in ((1, 4), (2, 2), (4, 1)):
        program = build_train_program(
            config,
            LoraSettings(rank=2, dropout=0.0),
            TrainSettings(total_steps=3, warmup_steps=0, grad_accum=accum, learning_rate=0.01),
            head,
            mesh,
            per_device,
            24,
        )
        base = jax.device_put(params, program.base_shardings)
        shape = (accum, 16 // accum)
        batch = jax.device_put(
            {
                "input_ids": ids.reshape(*shape, 24),
                "attention_mask": mask.reshape(*shape, 24),
                "labels": labels.reshape(*shape, 1),
            },
            program.batch_sharding,
        )
        state, metrics = program.step(base, program.init_state(), batch)
        results.append((float(metrics["loss"]), np.asarray(state["trainable"]["adapters"]["query"]["a"])))
    for loss, a in results[1:]:
        assert abs(loss - results[0][0]) < 1e-5
        assert np.abs(a - results[0][1]).max() < 1e-6


def test_training_lowers_the_loss_and_a_resumed_run_ends_byte_identical(tmp_path):
    write_examples(tmp_path / "examples.arrow")
    events = []
    whole = Trainer(make_job(), make_paths(tmp_path, "whole"), events.append).run()
    losses = [e["loss"] for e in events if e["kind"] == "train-progress"]
    assert len(losses) == 10 and np.mean(losses[-3:]) < np.mean(losses[:3])
    assert [e["step"] for e in events if e["kind"] == "checkpoint"] == [4, 8]
    assert [e["step"] for e in events if e["kind"] == "eval"] == [5, 10]

    # A second run stopped after its first checkpoint: only that checkpoint survives, then it resumes.
    job, first = make_job(), make_paths(tmp_path, "stopped")
    partial = []

    class Stop(Exception):
        pass

    def stop_at_checkpoint(event):
        partial.append(event)
        if event["kind"] == "checkpoint":
            raise Stop

    with pytest.raises(Stop):
        Trainer(job, first, stop_at_checkpoint).run()
    assert partial[-1] == {
        "kind": "checkpoint",
        "step": 4,
        "dir": str((tmp_path / "stopped" / "checkpoints" / "4").resolve()),
    }
    # A save cut short leaves Orbax's temporary folder: never taken as a checkpoint.
    torn = tmp_path / "stopped" / "checkpoints" / "8.orbax-checkpoint-tmp-1"
    (torn / "state").mkdir(parents=True)
    (torn / "state" / "junk").write_bytes(b"half")
    resumed_events = []
    resumed_paths = make_paths(tmp_path, "stopped", resume=first.checkpoints)
    resumed = Trainer(job, resumed_paths, resumed_events.append).run()
    assert [e["step"] for e in resumed_events if e["kind"] == "train-progress"] == list(range(5, 11))
    for name in ("adapters/adapter_model.safetensors", "head.safetensors"):
        assert (tmp_path / "whole" / "out" / name).read_bytes() == (tmp_path / "stopped" / "out" / name).read_bytes()
    history = json.loads((tmp_path / "stopped" / "out" / "metrics.json").read_text())
    assert [e["step"] for e in history["evals"]] == [5, 10]
    assert whole["trainable_parameters"] == resumed["trainable_parameters"] == 2 * 2 * (64 * 4 + 4 * 64)
    adapters = load_file(tmp_path / "whole" / "out" / "adapters" / "adapter_model.safetensors")
    assert np.abs(adapters["base_model.model.encoder.layer.0.attention.self.value.lora_B.weight"]).max() > 0


def test_a_loss_that_is_not_a_number_stops_the_training_at_its_step_keeps_the_checkpoint_before_and_fails_its_wandb_run(
    tmp_path, monkeypatch
):
    # A learning rate of 1e30 (after 2 warmup steps) makes the loss NaN at step 3 on the tiny NT, every time.
    write_examples(tmp_path / "examples.arrow")
    monkeypatch.setenv("HOME", str(tmp_path))  # no `wandb login` credentials of the machine's user reach the run
    events = []
    wandb = {"project": "strand-test", "entity": None, "name": "diverged", "mode": "offline"}
    job = make_job(1e30, length={"steps": 6}, eval_every=None, checkpoint_every_steps=2, wandb=wandb)
    with pytest.raises(TrainingDiverged) as stopped:
        Trainer(job, replace(make_paths(tmp_path, "nan"), wandb=tmp_path / "nan"), events.append).run()
    assert str(stopped.value) == (
        "the training diverged at step 3: loss nan, gradient norm nan; nothing from step 3 on is saved and its last"
        " checkpoint (step 2) is kept"
    )
    assert stopped.value.hint == "lower learning_rate (now 1e+30) or raise warmup_steps"  # fp32: no precision to change
    assert [e["step"] for e in events if e["kind"] == "train-progress"] == [1, 2]
    assert [e["step"] for e in events if e["kind"] == "checkpoint"] == [2]
    assert sorted(p.name for p in (tmp_path / "nan" / "checkpoints").iterdir()) == ["2"]
    # A host of a slice reports it with the fix in parentheses.
    assert failure_message(stopped.value) == f"{stopped.value} (lower learning_rate (now 1e+30) or raise warmup_steps)"
    # Its W&B run ends failed (exit code 1), not finished.
    (folder,) = (tmp_path / "nan" / "wandb").glob("offline-run-*")
    summary = wandb_summary(folder)
    assert (summary["name"], summary["state"]) == ("diverged", "failed")


def test_a_gradient_norm_that_is_not_a_number_stops_the_training_though_the_loss_is_finite(tmp_path):
    # The loss is computed before the update: an infinite gradient makes the parameters not numbers while that
    # step's loss is still finite, so the step must not be saved either. The compiled step's second answer is
    # given an infinite norm (no learning rate makes only the norm overflow reproducibly).
    write_examples(tmp_path / "examples.arrow")
    events = []
    trainer = Trainer(
        make_job(length={"steps": 4}, eval_every=None, checkpoint_every_steps=2),
        make_paths(tmp_path, "inf"),
        events.append,
    )
    compiled = trainer.step_fn

    def step_fn(base, state, batch):
        state, metrics = compiled(base, state, batch)
        return state, metrics | ({"grad_norm": np.float32(np.inf)} if int(state["step"]) == 2 else {})

    trainer.step_fn = step_fn
    with pytest.raises(TrainingDiverged, match=r"^the training diverged at step 2: loss [0-9.]+, gradient norm inf; "):
        trainer.run()
    assert [e["step"] for e in events if e["kind"] == "train-progress"] == [1]
    assert [e["kind"] for e in events if e["kind"] == "checkpoint"] == []
    assert not (tmp_path / "inf" / "checkpoints").exists() or not any((tmp_path / "inf" / "checkpoints").iterdir())


def test_a_diverged_slice_host_other_than_the_first_names_host_0_for_the_checkpoints_and_bf16_gets_fp32_as_a_fix():
    placement = {"platform": "cpu", "hosts": 1, "host_devices": 8, "mesh": {"data": 2, "fsdp": 2, "tp": 2}}
    bf16 = make_job(placement=placement | {"per_device_batch": 2, "precision": "bf16"})
    error = TrainingDiverged(bf16, 7, float("nan"), 3.5, 6, primary=False)
    assert str(error) == (
        "the training diverged at step 7: loss nan, gradient norm 3.5; nothing from step 7 on is saved and host 0"
        " keeps the checkpoints"
    )
    assert error.hint == "lower learning_rate (now 0.02) or raise warmup_steps, or train in fp32 (precision: fp32)"


def test_the_minutes_clock_triggers_checkpoints(tmp_path):
    write_examples(tmp_path / "examples.arrow")
    ticks = iter(range(0, 10_000, 60))  # each reading of the clock is a minute later
    events = []
    job = make_job(checkpoint_every_steps=None, checkpoint_every_minutes=2, eval_every=None, length={"steps": 5})
    Trainer(job, make_paths(tmp_path, "clock"), events.append, clock=lambda: float(next(ticks))).run()
    assert [e["step"] for e in events if e["kind"] == "checkpoint"] == [2, 4]


def test_tensorboard_reads_every_metric(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    write_examples(tmp_path / "examples.arrow")
    paths = make_paths(tmp_path, "tb")
    Trainer(make_job(checkpoint_every_steps=None, length={"steps": 4}, eval_every=2), paths, lambda e: None).run()
    history = json.loads((tmp_path / "tb" / "out" / "metrics.json").read_text())
    accumulator = EventAccumulator(str(paths.tensorboard))
    accumulator.Reload()
    tags = set(accumulator.Tags()["scalars"])
    expected = {f"train/{m}" for m in ("loss", "lr", "grad_norm", "tokens_per_second")}
    expected |= {f"eval/{m}/{level}" for m in ("loss", "accuracy", "macro_f1") for level in LEVELS}
    expected |= {"eval/memory_per_device_mib"}
    assert tags == expected
    loss = accumulator.Scalars("train/loss")
    assert [e.step for e in loss] == [1, 2, 3, 4]
    assert np.allclose([e.value for e in loss], [r["loss"] for r in history["steps"]], rtol=1e-6)
    accuracy = accumulator.Scalars("eval/accuracy/genus")
    assert [e.step for e in accuracy] == [2, 4]
    assert np.allclose([e.value for e in accuracy], [r["levels"][1]["accuracy"] for r in history["evals"]])
