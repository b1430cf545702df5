"""Owns a LoRA fine-tuning run of a TrainJob (job.py) on this process's devices: the settings the train step
is built from (`job_settings`, shared with the pre-flight's train-step program), the batch order (a seeded
permutation per epoch, so step N's batch is the same in every attempt), evaluation every N steps, Orbax
checkpoints every N steps or M minutes (the clock is injected), TensorBoard scalars (and the same scalars to a
W&B run when the job has wandb: wandb_run.py, with the run's config), and the outputs (peft adapters, the head,
the metrics history). The examples file is examples.py's.

Resuming: the state and the history restored from the last complete checkpoint (Orbax writes a checkpoint
under a temporary name and renames it when whole; the engine keeps the one it was told of), the dropout keys
and batches derived from the step, so a resumed run ends with the same adapters, byte for byte, as one that
was never stopped. Emits `train-progress` per step, `eval`, `checkpoint` (durable: the engine may keep it);
`run` returns the `train-summary`.

Over several processes (a multi-host slice's one program, distributed.py) the same code runs on every host:
each derives the step's batch from the seed and places its own rows on its own devices; the state is
replicated, so the primary process alone writes each checkpoint, from host memory, as a one-process Orbax
checkpoint in its local folder (hosts share no filesystem), and every process restores its own copy.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Sequence
from typing import Any

import jax
import numpy as np
from jax.experimental.multihost_utils import process_allgather

from .checkpoint import load_model
from .classification_metrics import accuracy_and_macro_f1
from .config import ModelConfig
from .distributed import is_primary
from .examples import TRAIN, VAL, padded, read_examples
from .export_peft import write_head, write_peft_adapters
from .job import TrainJob, TrainPaths
from .lora import LoraSettings, adapter_parameter_count
from .pooling import PoolingRule
from .sharding import check_mesh_fits, make_mesh
from .taxonomy_head import HeadSpec
from .tensorboard_events import EventWriter
from .train_step import PRECISIONS, TrainProgram, TrainSettings, build_train_program
from .wandb_run import WandbRun


def job_settings(
    settings: dict[str, Any], precision: str, config: ModelConfig, total_steps: int, classes: Sequence[int]
) -> tuple[LoraSettings, TrainSettings, HeadSpec]:
    """The LoRA, training and head settings from a TrainSettings value (jax_job.schema.json: `lora`, `train`,
    `hidden`, `weights`) and the placement's precision; the pre-flight builds its train step the same way."""
    lora = LoraSettings(**{**settings["lora"], "targets": tuple(settings["lora"]["targets"])})
    train = TrainSettings(total_steps=total_steps, precision=precision, **settings["train"])
    head = HeadSpec(config.hidden_size, settings["hidden"], tuple(classes), tuple(settings["weights"]))
    return lora, train, head


class TrainingDiverged(ValueError):
    """The loss or the gradient norm stopped being a number: nothing from that step on is saved, and the run
    stops there. `hint` is the fix, apart from the message (the CLI's `hint:` line; a worker's report gives it
    in parentheses)."""

    def __init__(
        self, job: TrainJob, step: int, loss: float, grad_norm: float, checkpointed: int | None, primary: bool
    ):
        if not primary:
            kept = "host 0 keeps the checkpoints"  # only the primary process saves them
        elif checkpointed:
            kept = f"its last checkpoint (step {checkpointed}) is kept"
        else:
            kept = "it had no checkpoint yet"
        super().__init__(
            f"the training diverged at step {step}: loss {loss}, gradient norm {grad_norm}; nothing from step "
            f"{step} on is saved and {kept}"
        )
        bf16 = ", or train in fp32 (precision: fp32)" if job.placement.precision == "bf16" else ""
        self.hint = f"lower learning_rate (now {job.settings['train']['learning_rate']}) or raise warmup_steps{bf16}"


def train_pooling(include_cls: bool, prefix: int) -> PoolingRule:
    """The head reads the mean of the encoder's hidden states."""
    return PoolingRule("mean", include_cls, prefix)


class Trainer:
    def __init__(
        self,
        job: TrainJob,
        paths: TrainPaths,
        emit: Callable[[dict], None],
        clock: Callable[[], float] = time.monotonic,
        devices: list | None = None,
    ):
        self.job, self.paths, self.emit, self.clock = job, paths, emit, clock
        self.config, host_params = load_model(paths.model)
        self.examples = read_examples(paths.data, len(job.levels))
        self.train_rows, self.val_rows = self.examples.indices(TRAIN), self.examples.indices(VAL)
        if len(self.train_rows) == 0:
            raise ValueError("no training examples")
        placement = job.placement
        spec = placement.mesh
        self.devices = list(jax.devices()) if devices is None else devices
        check_mesh_fits(self.config, spec, len(self.devices))
        mesh = make_mesh(spec, self.devices)
        longest = max(len(r) for r in self.examples.rows)
        self.length = min(job.max_length or longest, -(-longest // 8) * 8)
        micro = placement.per_device_batch * spec.data * spec.fsdp
        grad_accum = int(job.settings["train"]["grad_accum"])
        self.steps_per_epoch = math.ceil(len(self.train_rows) / (micro * grad_accum))
        total = job.length.steps or self.steps_per_epoch * (job.length.epochs or 1)
        lora, train, head = job_settings(
            job.settings, placement.precision, self.config, total, [len(c) for c in job.classes]
        )
        self.program: TrainProgram = build_train_program(
            self.config,
            lora,
            train,
            head,
            mesh,
            placement.per_device_batch,
            self.length,
            train_pooling(job.include_cls, job.prefix),
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
    def batch(self, step: int) -> tuple[dict, int, int]:
        """Step `step`'s batch on the mesh (each process places its own rows), its examples and real tokens."""
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
        return jax.device_put(batch, p.batch_sharding), len(chosen), int(mask.sum())

    # --- evaluation ----------------------------------------------------------------------------------------
    def evaluate(self, trainable: dict) -> list[dict]:
        p, levels = self.program, self.job.levels
        batches: list[np.ndarray] = []
        sums, counts = np.zeros(len(levels)), np.zeros(len(levels))
        for start in range(0, len(self.val_rows), p.micro_batch):
            chosen = self.val_rows[start : start + p.micro_batch]
            rows = [self.examples.rows[i] for i in chosen] + [np.zeros(0, np.int32)] * (p.micro_batch - len(chosen))
            ids, mask = padded(rows, self.length, self.config.pad_token_id)
            labels = np.full((p.micro_batch, len(levels)), -1, dtype=np.int32)
            labels[: len(chosen)] = self.examples.labels[chosen]
            args = jax.device_put((ids, mask, labels), p.eval_sharding)
            pred, s, c = p.evaluate(self.base, trainable, *args)
            # The predictions are sharded over the batch: every process gathers all of them.
            batches.append(process_allgather(pred, tiled=True)[: len(chosen)])
            sums, counts = sums + np.asarray(s), counts + np.asarray(c)
        predicted = np.concatenate(batches) if batches else np.zeros((0, len(levels)), np.int32)
        truth = self.examples.labels[self.val_rows]
        rows = []
        for level, name in enumerate(levels):
            accuracy, macro_f1, count = accuracy_and_macro_f1(
                predicted[:, level], truth[:, level], len(self.job.classes[level])
            )
            loss = float(sums[level] / counts[level]) if counts[level] else None
            rows.append({"level": name, "loss": loss, "accuracy": accuracy, "macro_f1": macro_f1, "examples": count})
        return rows

    def run_config(self) -> dict[str, Any]:
        """What a W&B run shows as its config: the model, the adapters, the batch, the optimizer and the mesh."""
        job, p = self.job, self.program
        mesh = job.placement.mesh
        return {
            "model": job.base_model,
            "rank": p.lora.rank,
            "alpha": p.lora.alpha,
            "dropout": p.lora.dropout,
            "targets": list(p.lora.targets),
            "batch_size": p.global_batch,
            "per_device_batch": job.placement.per_device_batch,
            **{k: job.settings["train"][k] for k in ("learning_rate", "weight_decay", "warmup_steps", "schedule")},
            **{k: job.settings["train"][k] for k in ("grad_accum", "remat", "seed")},
            "steps": p.train.total_steps,
            "mesh": f"{mesh.data}x{mesh.fsdp}x{mesh.tp}",
            "devices": len(self.devices),
            "platform": job.placement.platform,
            "precision": job.placement.precision,
            "levels": list(job.levels),
        }

    # --- the run -------------------------------------------------------------------------------------------
    def run(self) -> dict:
        import orbax.checkpoint as ocp

        job, paths, p = self.job, self.paths, self.program
        total = p.train.total_steps
        # Restored into host memory, then replicated over the mesh (every process from its own copy).
        host = jax.tree_util.tree_map(lambda s: np.zeros(s.shape, s.dtype), p.abstract_state())
        history: dict = {"steps": [], "evals": []}
        state = None
        if paths.resume is not None:
            with ocp.CheckpointManager(paths.resume.resolve(), options=_local_options()) as restoring:
                latest = restoring.latest_step()
                if latest is None:
                    raise ValueError(f"{paths.resume} holds no complete checkpoint")
                restored = restoring.restore(
                    latest,
                    args=ocp.args.Composite(state=ocp.args.StandardRestore(host), history=ocp.args.JsonRestore()),
                )
            state, history = jax.device_put(restored["state"], p.replicated), restored["history"]
        if state is None:
            state = p.init_state()
        step = int(state["step"])
        manager = None
        if is_primary():
            paths.checkpoints.mkdir(parents=True, exist_ok=True)
            manager = ocp.CheckpointManager(paths.checkpoints.resolve(), options=_local_options())
        writers: list[EventWriter | WandbRun] = [EventWriter(str(paths.tensorboard), time.time())]
        # One W&B run for the slice's one program: the primary process logs it.
        if job.wandb is not None and is_primary():
            if paths.wandb is None:
                raise ValueError("the job logs to W&B but its paths name no wandb folder")
            writers.append(WandbRun(job.wandb, paths.wandb, self.run_config()))

        def close(exit_code: int = 0) -> None:
            if manager is not None:
                manager.close()
            for writer in writers:
                if isinstance(writer, WandbRun):
                    writer.close(exit_code)
                else:
                    writer.close()

        def scalars(step: int, values: dict[str, float], wall_time: float) -> None:
            for writer in writers:
                writer.scalars(step, values, wall_time)

        # A resumed run's writers get the history so far first: each attempt's files (and W&B run) are whole.
        replay = [(r["step"], _tensorboard_step(r), r["wall_time"]) for r in history["steps"]]
        replay += [(r["step"], _tensorboard_eval(r), r["wall_time"]) for r in history["evals"]]
        for at, values, wall_time in sorted(replay, key=lambda r: r[0]):
            scalars(at, values, wall_time)
        every_steps, every_minutes = job.checkpoint_every_steps, job.checkpoint_every_minutes
        eval_every = job.eval_every or total
        last_checkpoint = self.clock()
        started = time.perf_counter()
        # Time in train steps only: the rate is the trainer's throughput, not diluted by evaluations and checkpoints.
        training_seconds = 0.0
        rows_done = tokens_done = 0
        first = checkpointed = step
        while step < total:
            batch, rows, tokens = self.batch(step)
            step_started = time.perf_counter()
            state, metrics = self.step_fn(self.base, state, batch)
            # Waits for the step: dispatch is asynchronous, and the time must cover the compute.
            metrics = jax.device_get(metrics)
            training_seconds += time.perf_counter() - step_started
            step += 1
            loss, grad_norm = float(metrics["loss"]), float(metrics["grad_norm"])
            if not (math.isfinite(loss) and math.isfinite(grad_norm)):
                # Before anything of the step is written: no progress line, row or checkpoint carries it (an
                # infinite gradient with a finite loss has already made the parameters not numbers).
                try:
                    close(exit_code=1)
                finally:
                    raise TrainingDiverged(job, step, loss, grad_norm, checkpointed, primary=manager is not None)
            rows_done += rows
            tokens_done += tokens
            elapsed = time.perf_counter() - started
            rate = tokens_done / training_seconds if training_seconds > 0 else 0.0
            record = {
                "step": step,
                "loss": loss,
                "lr": float(metrics["lr"]),
                "grad_norm": grad_norm,
                "tokens_per_second": rate,
                "wall_time": time.time(),
            }
            history["steps"].append(record)
            # Written with the evaluation below when there is one: a W&B row is one per step.
            row = _tensorboard_step(record)
            eta = (total - step) * elapsed / max(1, step - first)
            self.emit(
                {
                    "kind": "train-progress",
                    "step": step,
                    "total": total,
                    "loss": record["loss"],
                    # Examples and real tokens trained on in this attempt (the engine's rate counter).
                    "rows": rows_done,
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
                row |= _tensorboard_eval(evaluation)
                self.emit({"kind": "eval", **evaluation})
            scalars(step, row, record["wall_time"])
            due = (every_steps and step % every_steps == 0) or (
                every_minutes and self.clock() - last_checkpoint >= 60 * every_minutes
            )
            if due and step < total and manager is not None:
                # From host memory: the replicated state is whole on every process.
                saved = jax.device_get(state)
                manager.save(
                    step,
                    args=ocp.args.Composite(state=ocp.args.StandardSave(saved), history=ocp.args.JsonSave(history)),
                )
                manager.wait_until_finished()
                last_checkpoint, checkpointed = self.clock(), step
                self.emit({"kind": "checkpoint", "step": step, "dir": str(paths.checkpoints.resolve() / str(step))})
        close()
        summary = self.finish(state, history)
        wandb_run = next((w for w in writers if isinstance(w, WandbRun)), None)
        if wandb_run is not None and paths.wandb is not None:
            summary["wandb"] = wandb_run.folder.relative_to(paths.wandb.resolve()).as_posix()
        return summary

    def finish(self, state: dict, history: dict) -> dict:
        job, out = self.job, self.paths.out
        out.mkdir(parents=True, exist_ok=True)
        trainable = jax.device_get(state["trainable"])
        lora = self.program.lora
        write_peft_adapters(out / "adapters", trainable["adapters"], self.config, lora, job.base_model)
        meta = {
            "levels": list(job.levels),
            "classes": [list(c) for c in job.classes],
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
            "devices": len(self.devices),
            "platform": self.devices[0].platform,
            "adapters": str(out / "adapters"),
            "head": str(out / "head.safetensors"),
            "metrics": str(out / "metrics.json"),
            "tensorboard": str(self.paths.tensorboard),
        }


def _local_options():
    """A checkpoint manager of this process alone, on its local storage (see the module doc)."""
    import orbax.checkpoint as ocp

    alone = ocp.options.MultiprocessingOptions(primary_host=jax.process_index(), active_processes={jax.process_index()})
    return ocp.CheckpointManagerOptions(
        max_to_keep=None, create=False, enable_async_checkpointing=False, multiprocessing_options=alone
    )


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
