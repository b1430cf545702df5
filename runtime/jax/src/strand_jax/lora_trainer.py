"""Owns a LoRA fine-tuning run: the job (a JSON file the engine writes), the examples (an Arrow IPC file: id,
tokens, split, labels — label ids per level, -1 masked, computed by the engine's taxonomy label handling),
the batch order (a seeded permutation per epoch, so step N's batch is the same in every attempt), evaluation
every N steps, Orbax checkpoints every N steps or M minutes (the clock is injected), TensorBoard scalars, and
the outputs (peft adapters, the head, the metrics history).

Resuming: the state and the history restored from the last complete checkpoint (Orbax writes a checkpoint
under a temporary name and renames it when whole; the engine keeps the one it was told of), the dropout keys
and batches derived from the step, so a resumed run ends with the same adapters, byte for byte, as one that
was never stopped. Prints JSON lines on stdout: `train-progress` per step, `eval`, `checkpoint`
(durable: the engine may keep it), and `train-summary` last.
"""

from __future__ import annotations

import json
import math
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import jax
import numpy as np
import pyarrow as pa

from .checkpoint import load_model
from .classification_metrics import accuracy_and_macro_f1
from .config import ModelConfig
from .export_peft import write_head, write_peft_adapters
from .lora import LoraSettings, adapter_parameter_count
from .pooling import PoolingRule
from .sharding import MeshSpec, check_mesh_fits, make_mesh
from .taxonomy_head import HeadSpec
from .tensorboard_events import EventWriter
from .train_step import PRECISIONS, TrainProgram, TrainSettings, build_train_program

TRAIN, VAL = "train", "val"


@dataclass
class Examples:
    ids: list[str]
    rows: list[np.ndarray]
    split: list[str]
    labels: np.ndarray  # [examples, levels]

    def indices(self, which: str) -> np.ndarray:
        return np.asarray([i for i, s in enumerate(self.split) if s == which], dtype=np.int64)


def read_examples(path: str | Path, levels: int) -> Examples:
    with pa.memory_map(str(path)) as source:
        table = pa.ipc.open_file(source).read_all()
    missing = [c for c in ("id", "tokens", "split", "labels") if c not in table.column_names]
    if missing:
        raise ValueError(f"{path} has no column {missing[0]!r} (columns: {', '.join(table.column_names)})")
    tokens = table.column("tokens").combine_chunks()
    offsets, values = tokens.offsets.to_numpy(), tokens.values.to_numpy().astype(np.int32)
    rows = [values[offsets[i] : offsets[i + 1]] for i in range(len(tokens))]
    labels = np.asarray(table.column("labels").to_pylist(), dtype=np.int32).reshape(len(rows), levels)
    return Examples(table.column("id").to_pylist(), rows, table.column("split").to_pylist(), labels)


def padded(rows: list[np.ndarray], length: int, pad_id: int) -> tuple[np.ndarray, np.ndarray]:
    ids = np.full((len(rows), length), pad_id, dtype=np.int32)
    mask = np.zeros((len(rows), length), dtype=np.int32)
    for i, row in enumerate(rows):
        ids[i, : len(row)], mask[i, : len(row)] = row[:length], 1
    return ids, mask


def job_settings(
    job: dict, config: ModelConfig, total_steps: int, classes: Sequence[int]
) -> tuple[LoraSettings, TrainSettings, HeadSpec, PoolingRule]:
    """The LoRA, training, head and pooling settings of a job (its `lora`, `train`, `hidden`, `weights`,
    `include_cls`, `prefix`); the pre-flight builds the train step from the same keys."""
    lora = LoraSettings(**{**job["lora"], "targets": tuple(job["lora"]["targets"])})
    train = TrainSettings(
        total_steps=total_steps,
        **{k: v for k, v in job["train"].items() if k not in ("steps", "epochs")},
    )
    head = HeadSpec(config.hidden_size, job.get("hidden", 128), tuple(classes), tuple(job["weights"]))
    rule = PoolingRule("mean", job.get("include_cls", True), job.get("prefix", 1))
    return lora, train, head, rule


class Trainer:
    def __init__(self, job: dict, emit: Callable[[dict], None], clock: Callable[[], float] = time.monotonic):
        self.job, self.emit, self.clock = job, emit, clock
        self.config, host_params = load_model(job["model"])
        levels = job["levels"]
        self.examples = read_examples(job["data"], len(levels))
        self.train_rows, self.val_rows = self.examples.indices(TRAIN), self.examples.indices(VAL)
        if len(self.train_rows) == 0:
            raise ValueError("no training examples")
        spec = MeshSpec(**job["mesh"])
        devices = jax.devices()
        check_mesh_fits(self.config, spec, len(devices))
        mesh = make_mesh(spec, devices)
        longest = max(len(r) for r in self.examples.rows)
        self.length = min(job.get("max_length") or longest, -(-longest // 8) * 8)
        micro = job["per_device_batch"] * spec.data * spec.fsdp
        t = job["train"]
        steps_per_epoch = math.ceil(len(self.train_rows) / (micro * t.get("grad_accum", 1)))
        self.steps_per_epoch = steps_per_epoch
        total = t["steps"] if t.get("steps") else steps_per_epoch * t.get("epochs", 1)
        lora, train, head, rule = job_settings(job, self.config, total, [len(c) for c in job["classes"]])
        self.program: TrainProgram = build_train_program(
            self.config, lora, train, head, mesh, job["per_device_batch"], self.length, rule
        )
        dtype = PRECISIONS[train.precision]
        self.base = jax.device_put(
            jax.tree_util.tree_map(lambda x: np.asarray(x).astype(dtype), host_params), self.program.base_shardings
        )
        compiled = self.program.step.lower(*self.program.abstract_args()).compile()
        memory = compiled.memory_analysis()
        self.memory_per_device = (
            None
            if memory is None
            else memory.argument_size_in_bytes
            + memory.output_size_in_bytes
            - memory.alias_size_in_bytes
            + memory.temp_size_in_bytes
        )
        self.step_fn = compiled
        self.trainable_parameters = adapter_parameter_count(self.config, lora)

    # --- batches -------------------------------------------------------------------------------------------
    def batch(self, step: int) -> dict:
        p = self.program
        epoch, within = divmod(step, self.steps_per_epoch)
        order = np.random.default_rng([p.train.seed, epoch]).permutation(self.train_rows)
        chosen = order[within * p.global_batch : (within + 1) * p.global_batch]
        rows = [self.examples.rows[i] for i in chosen] + [np.zeros(0, np.int32)] * (p.global_batch - len(chosen))
        ids, mask = padded(rows, self.length, self.config.pad_token_id)
        labels = np.full((p.global_batch, len(p.head.classes)), -1, dtype=np.int32)
        labels[: len(chosen)] = self.examples.labels[chosen]
        shape = (p.train.grad_accum, p.micro_batch)
        batch = {
            "input_ids": ids.reshape(*shape, -1),
            "attention_mask": mask.reshape(*shape, -1),
            "labels": labels.reshape(*shape, -1),
        }
        return jax.device_put(batch, p.batch_sharding)

    # --- evaluation ----------------------------------------------------------------------------------------
    def evaluate(self, trainable: dict) -> list[dict]:
        p, levels = self.program, self.job["levels"]
        predicted, sums, counts = [], np.zeros(len(levels)), np.zeros(len(levels))
        for start in range(0, len(self.val_rows), p.micro_batch):
            chosen = self.val_rows[start : start + p.micro_batch]
            rows = [self.examples.rows[i] for i in chosen] + [np.zeros(0, np.int32)] * (p.micro_batch - len(chosen))
            ids, mask = padded(rows, self.length, self.config.pad_token_id)
            labels = np.full((p.micro_batch, len(levels)), -1, dtype=np.int32)
            labels[: len(chosen)] = self.examples.labels[chosen]
            args = jax.device_put((ids, mask, labels), p.eval_sharding)
            pred, s, c = p.evaluate(self.base, trainable, *args)
            predicted.append(np.asarray(pred)[: len(chosen)])
            sums, counts = sums + np.asarray(s), counts + np.asarray(c)
        predicted = np.concatenate(predicted) if predicted else np.zeros((0, len(levels)), np.int32)
        truth = self.examples.labels[self.val_rows]
        rows = []
        for level, name in enumerate(levels):
            accuracy, macro_f1, count = accuracy_and_macro_f1(
                predicted[:, level], truth[:, level], len(self.job["classes"][level])
            )
            loss = float(sums[level] / counts[level]) if counts[level] else None
            rows.append({"level": name, "loss": loss, "accuracy": accuracy, "macro_f1": macro_f1, "examples": count})
        return rows

    # --- the run -------------------------------------------------------------------------------------------
    def run(self) -> dict:
        import orbax.checkpoint as ocp

        job, p = self.job, self.program
        total = p.train.total_steps
        abstract = jax.tree_util.tree_map(
            lambda s: jax.ShapeDtypeStruct(s.shape, s.dtype, sharding=p.replicated), p.abstract_state()
        )
        history: dict = {"steps": [], "evals": []}
        state = None
        if job.get("resume"):
            with ocp.CheckpointManager(Path(job["resume"]).resolve()) as restoring:
                latest = restoring.latest_step()
                if latest is None:
                    raise ValueError(f"{job['resume']} holds no complete checkpoint")
                restored = restoring.restore(
                    latest,
                    args=ocp.args.Composite(state=ocp.args.StandardRestore(abstract), history=ocp.args.JsonRestore()),
                )
            state, history = restored["state"], restored["history"]
        if state is None:
            state = p.init_state()
        step = int(state["step"])
        options = ocp.CheckpointManagerOptions(max_to_keep=None, create=True, enable_async_checkpointing=False)
        manager = ocp.CheckpointManager(Path(job["checkpoints"]).resolve(), options=options)
        writer = EventWriter(job["tensorboard"], time.time())
        for record in history["steps"]:
            writer.scalars(record["step"], _tensorboard_step(record), record["wall_time"])
        for record in history["evals"]:
            writer.scalars(record["step"], _tensorboard_eval(record), record["wall_time"])
        every_steps, every_minutes = job.get("checkpoint_every_steps"), job.get("checkpoint_every_minutes")
        eval_every = job.get("eval_every") or total
        last_checkpoint = self.clock()
        started = time.perf_counter()
        # Time in train steps only: the rate is the trainer's throughput, not diluted by evaluations and checkpoints.
        training_seconds = 0.0
        tokens_done = 0
        first = step
        while step < total:
            batch = self.batch(step)
            tokens = int(np.asarray(batch["attention_mask"]).sum())
            step_started = time.perf_counter()
            state, metrics = self.step_fn(self.base, state, batch)
            # Waits for the step: dispatch is asynchronous, and the time must cover the compute.
            metrics = jax.device_get(metrics)
            training_seconds += time.perf_counter() - step_started
            step += 1
            tokens_done += tokens
            elapsed = time.perf_counter() - started
            rate = tokens_done / training_seconds if training_seconds > 0 else 0.0
            record = {
                "step": step,
                "loss": float(metrics["loss"]),
                "lr": float(metrics["lr"]),
                "grad_norm": float(metrics["grad_norm"]),
                "tokens_per_second": rate,
                "wall_time": time.time(),
            }
            history["steps"].append(record)
            writer.scalars(step, _tensorboard_step(record), record["wall_time"])
            eta = (total - step) * elapsed / max(1, step - first)
            self.emit(
                {
                    "kind": "train-progress",
                    "step": step,
                    "total": total,
                    "loss": record["loss"],
                    # Real tokens trained on in this attempt (the engine's rate counter).
                    "tokens": tokens_done,
                    "tokens_per_second": rate,
                    "eta_seconds": eta,
                }
            )
            if step % eval_every == 0 or step == total:
                evaluation = {
                    "step": step,
                    "levels": self.evaluate(state["trainable"]),
                    "lr": record["lr"],
                    "grad_norm": record["grad_norm"],
                    "tokens_per_second": rate,
                    "memory_per_device": self.memory_per_device,
                    "wall_time": record["wall_time"],
                }
                history["evals"].append(evaluation)
                writer.scalars(step, _tensorboard_eval(evaluation), evaluation["wall_time"])
                self.emit({"kind": "eval", **evaluation})
            due = (every_steps and step % every_steps == 0) or (
                every_minutes and self.clock() - last_checkpoint >= 60 * every_minutes
            )
            if due and step < total:
                manager.save(
                    step,
                    args=ocp.args.Composite(state=ocp.args.StandardSave(state), history=ocp.args.JsonSave(history)),
                )
                manager.wait_until_finished()
                last_checkpoint = self.clock()
                self.emit(
                    {"kind": "checkpoint", "step": step, "dir": str(Path(job["checkpoints"]).resolve() / str(step))}
                )
        manager.close()
        writer.close()
        return self.finish(state, history)

    def finish(self, state: dict, history: dict) -> dict:
        job, out = self.job, Path(self.job["out"])
        out.mkdir(parents=True, exist_ok=True)
        trainable = jax.device_get(state["trainable"])
        lora = self.program.lora
        write_peft_adapters(
            out / "adapters", trainable["adapters"], self.config, lora, job.get("base_model", job["model"])
        )
        meta = {
            "levels": job["levels"],
            "classes": job["classes"],
            "hidden": self.program.head.hidden,
            "dim": self.config.hidden_size,
        }
        write_head(out / "head.safetensors", trainable["head"], meta)
        (out / "metrics.json").write_text(json.dumps(history, sort_keys=True))
        base_parameters = self.config.parameter_count
        return {
            "kind": "train-summary",
            "steps": int(state["step"]),
            "length": self.length,
            "global_batch": self.program.global_batch,
            "trainable_parameters": self.trainable_parameters,
            # Mean training loss of the first and the last five steps (of the whole run, resumed or not).
            "loss_first": float(np.mean([r["loss"] for r in history["steps"][:5]])),
            "loss_last": float(np.mean([r["loss"] for r in history["steps"][-5:]])),
            "base_parameters": base_parameters,
            "memory_per_device": self.memory_per_device,
            "devices": len(jax.devices()),
            "platform": jax.devices()[0].platform,
            "adapters": str(out / "adapters"),
            "head": str(out / "head.safetensors"),
            "metrics": str(out / "metrics.json"),
            "tensorboard": str(Path(job["tensorboard"])),
        }


def _tensorboard_step(record: dict) -> dict[str, float]:
    return {f"train/{k}": record[k] for k in ("loss", "lr", "grad_norm", "tokens_per_second")}


def _tensorboard_eval(record: dict) -> dict[str, float]:
    values = {}
    for row in record["levels"]:
        for metric in ("loss", "accuracy", "macro_f1"):
            if row[metric] is not None:
                values[f"eval/{metric}/{row['level']}"] = row[metric]
    if record.get("memory_per_device") is not None:
        values["eval/memory_per_device_mib"] = record["memory_per_device"] / 2**20
    return values


def main(job_path: str) -> int:
    job = json.loads(Path(job_path).read_text())

    def emit(event: dict) -> None:
        print(json.dumps(event, sort_keys=True), flush=True)

    summary = Trainer(job, emit).run()
    emit(summary)
    sys.stdout.flush()
    return 0
