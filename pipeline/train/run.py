"""``stance train``: fine-tune a target-conditioned classifier with the HF ``Trainer``.

Reads a dataset folder written by ``stance build``, checks it against the
config before any model loads, trains with class weights, length-grouped
dynamic-padding batches, early stopping and best-checkpoint selection,
resumes from the last checkpoint, fits a calibration temperature on the
validation split, and writes a self-contained model folder. Checkpoints stay
beside it in ``<output_dir>.state/`` (:func:`checkpoint_dir`), out of the
folder a user ships.

:func:`train` is the list of steps; each step is a function here.
"""

from __future__ import annotations

import logging
import os
import platform
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

from pipeline import __version__
from pipeline.config import Config, TrainConfig, to_dict
from pipeline.contracts import MANIFEST, read_manifest, task_view, write_model_files
from pipeline.errors import ConfigError, DataError, ModelError
from pipeline.io import read_json, share_as_umask_allows, write_json
from pipeline.labels import TASK_LABELS
from pipeline.train.model import (
    build_model,
    load_tokenizer,
    resolve_model,
)

log = logging.getLogger(__name__)


def code_version() -> str:
    """``pipeline`` version plus the git commit (and ``-dirty``) when run from a checkout."""
    root = Path(__file__).resolve().parents[2]
    try:
        git = lambda *args: subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, timeout=5)
        sha = git("rev-parse", "--short=12", "HEAD").stdout.strip()
        dirty = git("status", "--porcelain", "--untracked-files=no").stdout.strip()
    except (OSError, subprocess.SubprocessError):
        sha, dirty = "", ""
    return f"{__version__}+{sha}{'-dirty' if dirty else ''}" if sha else __version__


def check_dataset(dataset_dir: str | Path, cfg: Config, where: str) -> dict:
    """Validate a built dataset against the config before any model loads.

    Raises:
        DataError: missing folder, unknown labels, a task the data lacks, an empty split.
    """
    d = Path(dataset_dir)
    manifest_path = d / MANIFEST
    manifest = read_manifest(d, "run `stance build` first or fix build.output")
    if manifest.get("kind") == "attribution":
        if cfg.build.polnear is None:
            raise DataError(f"{d}: holds attribution data (PolNeAR spans); train it with an attribution config")
    elif manifest.get("kind") == "benchmark":
        for task, labels in manifest.get("task_labels", {}).items():
            if not labels or len(set(labels)) != len(labels):
                raise DataError(
                    f"{manifest_path}: task_labels.{task}: {labels} is not a list of distinct labels; "
                    "rebuild the dataset"
                )
    else:
        missing = [t for t in cfg.build.tasks if t not in manifest.get("task_labels", {})]
        if missing:
            has = ", ".join(manifest.get("task_labels", {}))
            raise DataError(
                f"{d}: the dataset has no '{missing[0]}' examples (it has {has}); "
                f"rebuild it with build.tasks including {missing[0]}"
            )
        for task, labels in manifest["task_labels"].items():
            if task not in TASK_LABELS:
                raise DataError(
                    f"{d}: task '{task}' is not one this version knows ({', '.join(TASK_LABELS)}); rebuild the dataset"
                )
            if labels != TASK_LABELS[task]:
                raise DataError(
                    f"{d}: labels for task {task} are {labels}, but this version expects "
                    f"{TASK_LABELS[task]}; rebuild the dataset"
                )
    for split in ("train", "validation"):
        if not manifest["splits"].get(split):
            raise DataError(
                f"{d}: the {split} split is empty; add labelled articles or lower build.split fractions "
                "so every split gets articles"
            )
    return manifest


def task_schema(manifest: dict, cfg: Config) -> tuple[list[str], dict[str, list[str]]]:
    """(tasks to train, labels per task): a benchmark brings its own task and
    labels; commentary trains the configured tasks with the declared labels."""
    if manifest.get("kind") == "benchmark":
        return list(manifest["tasks"]), dict(manifest["task_labels"])
    return list(cfg.build.tasks), {t: TASK_LABELS[t] for t in cfg.build.tasks}


def _compute_metrics_fn(
    tasks: list[str], task_labels: dict[str, list[str]], measure: str | None = None, blocks: dict | None = None
):
    """Metrics over (task, label) classes. The task of each example travels with
    its label (``label_ids = (labels, task_id)``), so it stays aligned when
    predictions are gathered across processes. A joint model's (``blocks``)
    examples carry one label per task and count once per task, so the figures
    mean the same as a shared-slot model's."""
    import numpy as np

    from pipeline.analysis.metrics import classification_metrics, official_measure

    def compute(pred):
        logits = pred.predictions[0] if isinstance(pred.predictions, tuple) else pred.predictions
        if blocks:  # a joint model: each example answers every task, one block of slots each
            view, labels, task_ids = joint_flat(np.asarray(logits), np.asarray(pred.label_ids), blocks)
            preds = view.argmax(-1)
        else:
            labels, task_ids = pred.label_ids
            preds = np.asarray(logits).argmax(-1)
        tasks_of_eval = [tasks[int(i)] for i in task_ids]
        name = lambda t, s: f"{t}:{task_labels[t][int(s)] if int(s) < len(task_labels[t]) else int(s)}"
        names = lambda slots: [name(t, s) for t, s in zip(tasks_of_eval, slots)]
        m = classification_metrics(names(labels), names(preds))
        out = {"accuracy": m["accuracy"], "macro_f1": m["macro_f1"]}
        for task in sorted(set(tasks_of_eval)):
            idx = [i for i, t in enumerate(tasks_of_eval) if t == task]
            lab = lambda s: task_labels[task][int(s)] if int(s) < len(task_labels[task]) else str(int(s))
            mt = classification_metrics([lab(labels[i]) for i in idx], [lab(preds[i]) for i in idx], task_labels[task])
            out[f"{task}_macro_f1"] = mt["macro_f1"]
            if measure and len(tasks) == 1:
                out["official"] = official_measure(measure, [lab(labels[i]) for i in idx], [lab(preds[i]) for i in idx])
        return out

    return compute


RUN_INFO = "run_info.json"


def checkpoint_dir(output_dir: str | Path) -> Path:
    """Where the Trainer keeps its epoch checkpoints: ``<output_dir>.state/checkpoints``.

    Checkpoints hold optimizer states (several times the model's size) and
    pickled training arguments; next to the model folder rather than inside it,
    the folder a user ships holds only what scoring needs, while a rerun with
    the same ``output_dir`` still finds them to resume from.
    """
    out = Path(output_dir)
    if out.name in ("", ".", ".."):
        out = out.resolve()
    return out.with_name(out.name + ".state") / "checkpoints"


@dataclass
class ResumePlan:
    """What :func:`plan_resume` decided about the checkpoint folder."""

    checkpoints: Path  # the folder the Trainer writes checkpoint-N into
    resume_from: Path | None  # the checkpoint to continue; None trains afresh
    stale: bool  # it holds checkpoints this run will not continue, to delete before training


def plan_resume(ckpt_dir: Path, tc: TrainConfig, data_hash: str) -> ResumePlan:
    """Continue from the last checkpoint when ``train.resume`` allows and the
    checkpoints were made from the same base model and the same data.

    Raises:
        ModelError: the checkpoints were trained from another base model (or tiny
            config): continuing would silently mix two models.
    """
    step_of = lambda p: int(p.name.split("-")[-1])
    existing = sorted(ckpt_dir.glob("checkpoint-*"), key=step_of) if ckpt_dir.is_dir() else []
    resume = bool(existing) and tc.resume
    if resume:
        last = existing[-1]
        state_file = last / "trainer_state.json"
        state = read_json(state_file, "checkpoint state") if state_file.is_file() else {}
        info = ckpt_dir / RUN_INFO
        before = read_json(info) if info.is_file() else {}
        if before and (before.get("base_model"), before.get("tiny")) != (tc.model, tc.tiny):
            raise ModelError(
                f"{last}: checkpoint was trained from {before.get('base_model')}, not {tc.model}; "
                f"delete {ckpt_dir} or pass --train.resume false"
            )
        if before.get("data_hash") not in (None, data_hash):
            # the data changed since (labels edited, articles added): those checkpoints cannot be continued
            log.warning(
                "%s: checkpoints were trained on data %s, not the current %s; training afresh",
                ckpt_dir,
                before["data_hash"][:12],
                data_hash[:12],
            )
            resume = False
        else:
            log.info("resuming from %s (step %s)", last, state.get("global_step"))
    return ResumePlan(ckpt_dir, existing[-1] if resume else None, stale=bool(existing) and not resume)


def prepare_checkpoints(plan: ResumePlan, tc: TrainConfig, data_hash: str) -> None:
    """Clear checkpoints this run will not continue and record what the new ones
    are trained from, for the next run's :func:`plan_resume`. Main process only."""
    if int(os.environ.get("RANK", "0")) != 0:  # torchrun / accelerate launch set RANK
        return
    if plan.stale:
        shutil.rmtree(plan.checkpoints)
    write_json(plan.checkpoints / RUN_INFO, {"base_model": tc.model, "tiny": tc.tiny, "data_hash": data_hash})


def slot_names(tasks: list[str], task_labels: dict[str, list[str]], n_slots: int) -> dict[int, str]:
    """The head's ``id2label``: the tasks share slots, so a slot is named by every task's label in it."""
    return {i: "/".join(task_labels[t][i] for t in tasks if i < len(task_labels[t])) for i in range(n_slots)}


def joint_blocks(tasks: list[str], task_labels: dict[str, list[str]]) -> dict[str, tuple[int, int]]:
    """A joint model's slot range per task: the tasks' labels side by side."""
    out, start = {}, 0
    for t in tasks:
        out[t] = (start, start + len(task_labels[t]))
        start += len(task_labels[t])
    return out


def joint_flat(logits, labels, blocks: dict[str, tuple[int, int]]):
    """A joint model's outputs as one row per (example, task) with a label, the shape the shared-slot
    metrics and calibration take: (each row's logits over its task's labels, labels, task indexes)."""
    import numpy as np

    view = task_view({"joint": True, "blocks": blocks}, logits)  # example-major: the rows of one example's tasks
    y = np.asarray(labels).reshape(-1)
    task_ids = np.tile(np.arange(len(blocks)), len(labels))
    has = y >= 0
    return view[has], y[has], task_ids[has]


def joint_examples(split, tasks: list[str]):
    """One example per (passage, side) from the built per-task examples: the joint question
    (:func:`pipeline.labels.joint_pair`) and a label slot per task (-100 where the data has none).

    Raises:
        DataError: the tasks' examples of one (passage, side) show different passage text (a dataset
            built by another version).
    """
    from datasets import Dataset

    from pipeline.labels import joint_pair

    joint: dict[tuple, dict] = {}
    for e in split:
        key = (e["doc_id"], e["index"], e["target"])
        j = joint.get(key)
        if j is None:
            j = joint[key] = {
                "id": f"{e['doc_id']}:{e['index']}:{e['target']}",
                "text": e["text"],
                "text_pair": joint_pair(e["text_pair"], e["task"]),
                "slots": [-100] * len(tasks),
            }
        elif j["text"] != e["text"]:
            raise DataError(f"example {e['id']}: its passage text differs between tasks; rebuild the dataset")
        j["slots"][tasks.index(e["task"])] = int(e["slot"])
    rows = list(joint.values())
    return Dataset.from_dict({k: [r[k] for r in rows] for k in ("id", "text", "text_pair", "slots")})


def joint_slot_names(blocks: dict[str, tuple[int, int]], task_labels: dict[str, list[str]]) -> dict[int, str]:
    """A joint head's ``id2label``: ``task:label`` per slot."""
    return {a + i: f"{t}:{lab}" for t, (a, _) in blocks.items() for i, lab in enumerate(task_labels[t])}


def load_splits(dataset_dir: str | Path, tasks: list[str], exclude_sources: list[str] | None = None) -> dict:
    """The train and validation splits of the dataset folder, restricted to the tasks trained and, in a
    mixture, without the sources in ``exclude_sources`` (train without X, then test on X)."""
    from datasets import load_from_disk

    ds = load_from_disk(str(Path(dataset_dir) / "examples"))
    drop = set(exclude_sources or ())
    keep = lambda e: e["task"] in tasks and e.get("source") not in drop
    return {k: ds[k].filter(keep) for k in ("train", "validation")}


def check_exclusions(manifest: dict, exclude: list[str], where: str) -> str:
    """The data key a run resumes against: the data hash, and the mixture sources it leaves out.

    Raises:
        ConfigError: a source to leave out is not one of the dataset's mixture.
    """
    if not exclude:
        return manifest["data_hash"]
    known = sorted(manifest.get("mixture") or {})
    for name in exclude:
        if name not in known:
            raise ConfigError(
                f"{where}: train.exclude_sources: '{name}' is not a source of this dataset's mixture "
                f"({', '.join(known) or 'no mixture: build with build.mixture'}); name one of them"
            )
    return f"{manifest['data_hash']}-without-{'+'.join(sorted(exclude))}"


def tokenize_splits(ds: dict, tokenizer, tasks: list[str], max_length: int) -> dict:
    """Token ids per split, unpadded (the collator pads per batch), with each
    example's slot label, task index and length (for length-grouped batches);
    for joint examples (:func:`joint_examples`) a slot label per task instead."""

    def tokenize(batch):
        enc = tokenizer(batch["text"], batch["text_pair"], truncation=True, max_length=max_length)
        if "slots" in batch:  # joint examples: a label per task
            enc["labels"] = batch["slots"]
        else:
            enc["labels"] = batch["slot"]
            enc["task_id"] = [tasks.index(t) for t in batch["task"]]
        enc["length"] = [len(x) for x in enc["input_ids"]]
        return enc

    keep = ("input_ids", "attention_mask", "token_type_ids", "labels", "task_id", "length")
    drop = lambda split: [c for c in split.column_names if c not in keep]
    return {k: v.map(tokenize, batched=True, remove_columns=drop(v), desc=f"tokenize {k}") for k, v in ds.items()}


def label_counts(train_split, n_tasks: int, n_slots: int):
    """Training examples per (task index, slot)."""
    import numpy as np

    counts = np.zeros((n_tasks, n_slots))
    labels = np.asarray(train_split["labels"])
    if labels.ndim == 2:  # joint examples: one label per task, -100 where there is none
        for t in range(n_tasks):
            np.add.at(counts[t], labels[labels[:, t] >= 0, t], 1.0)
        return counts
    np.add.at(counts, (np.asarray(train_split["task_id"]), labels), 1.0)
    return counts


def class_weights(counts, tasks: list[str], task_labels: dict[str, list[str]]):
    """Loss weights per task and label, inverse to the label's frequency within its task.

    Per task rather than per shared slot: credible/not_credible are rarer than
    favor/against, so one weight per slot would leave the rare task's labels
    under-weighted. Clipped to [0.1, 10] so a label with a handful of examples
    cannot dominate the loss.
    """
    import numpy as np
    import torch

    k = np.array([len(task_labels[t]) for t in tasks], dtype=float)[:, None]
    w = counts.sum(1, keepdims=True) / (k * np.maximum(counts, 1.0))
    return torch.tensor(np.clip(w, 0.1, 10.0), dtype=torch.float)


def log_training_data(ds: dict, tok: dict, tasks: list[str], counts, weights) -> None:
    """Split sizes, label counts, weights and a few examples, so a wrong dataset shows in the log."""
    rounded = None if weights is None else {t: [round(float(x), 3) for x in weights[i]] for i, t in enumerate(tasks)}
    log.info(
        "train examples %d, validation %d; label counts per task %s; class weights %s",
        len(tok["train"]),
        len(tok["validation"]),
        {t: counts[i].tolist() for i, t in enumerate(tasks)},
        rounded,
    )
    for row in ds["train"].select(range(min(3, len(ds["train"])))):
        label = row["label"] if "label" in row else row["slots"]  # joint examples: a slot per task
        log.info("sample: %s || %s -> %s", row["text"][:100], row["text_pair"][:60], label)


def training_args(tc: TrainConfig, ckpt_dir: Path):
    """``TrainingArguments`` from the config: an evaluation and a checkpoint per
    epoch, the best checkpoint by ``metric_for_best_model`` loaded at the end."""
    import torch
    from transformers import TrainingArguments

    distributed_cpu = int(os.environ.get("WORLD_SIZE", "1")) > 1 and not torch.cuda.is_available()
    return TrainingArguments(
        output_dir=str(ckpt_dir),
        num_train_epochs=tc.epochs,
        learning_rate=tc.learning_rate,
        per_device_train_batch_size=tc.batch_size,
        per_device_eval_batch_size=tc.eval_batch_size,
        weight_decay=tc.weight_decay,
        warmup_steps=tc.warmup_ratio,
        eval_strategy="epoch",
        save_strategy="epoch",
        logging_strategy="steps",
        logging_steps=tc.logging_steps,
        load_best_model_at_end=True,
        metric_for_best_model=tc.metric_for_best_model,
        greater_is_better=True,
        save_total_limit=2,
        seed=tc.seed,
        data_seed=tc.seed,
        report_to="none",
        disable_tqdm=not tc.progress,
        train_sampling_strategy="group_by_length" if tc.group_by_length else "random",
        length_column_name="length",
        label_names=["labels"] if tc.joint else ["labels", "task_id"],
        dataloader_num_workers=0,
        ddp_backend="gloo" if distributed_cpu else None,
    )


def early_stopping(tc: TrainConfig) -> list:
    """The early-stopping callback ``train.early_stopping_patience`` asks for (none at 0)."""
    from transformers import EarlyStoppingCallback

    patience = tc.early_stopping_patience
    return [EarlyStoppingCallback(early_stopping_patience=patience)] if patience > 0 else []


def make_trainer(
    tc: TrainConfig, ckpt_dir: Path, model, tokenizer, tok: dict, weights, compute_metrics, blocks: dict | None = None
):
    """The weighted-loss ``Trainer`` over the tokenized splits, with early stopping
    when configured, and the :class:`StepCounter` that records what this run did."""
    from transformers import DataCollatorWithPadding

    from pipeline.train.trainer import StepCounter, WeightedTrainer

    steps = StepCounter()
    trainer = WeightedTrainer(
        model=model,
        args=training_args(tc, ckpt_dir),
        train_dataset=tok["train"],
        eval_dataset=tok["validation"],
        processing_class=tokenizer,
        data_collator=DataCollatorWithPadding(tokenizer),
        compute_metrics=compute_metrics,
        callbacks=[*early_stopping(tc), steps],
        class_weights=weights,
        blocks=blocks,
    )
    return trainer, steps


def fit_calibration(val, abstain_threshold: float | None, blocks: dict | None = None) -> dict:
    """The softmax temperature that best fits the validation predictions (scoring
    divides logits by it), with the abstain threshold scoring applies. A joint
    model's (``blocks``) temperature fits every task's block at once: one
    (example, task) per row."""
    import numpy as np

    from pipeline.analysis.metrics import fit_temperature

    val_logits = val.predictions[0] if isinstance(val.predictions, tuple) else val.predictions
    if blocks:
        view, labels, _ = joint_flat(np.asarray(val_logits), val.label_ids, blocks)
        temperature = fit_temperature(view, labels)
    else:
        temperature = fit_temperature(val_logits, val.label_ids[0])
    return {
        "temperature": temperature,
        "fitted_on": "validation",
        "n": int(len(val_logits)),
        "abstain_threshold": abstain_threshold,
    }


def run_provenance(
    cfg: Config, source: str, manifest: dict, trainer, steps, seconds: float, command: str, config_path: str
) -> dict:
    """How the model was made: base model, data, code, command, and where this run
    started (``start_step`` > 0: continued from a checkpoint; ``train_seconds``
    and ``steps_this_run`` cover this run only)."""
    import torch

    return {
        "base_model": cfg.train.model,
        "resolved_base_model": source,
        "dataset": str(Path(cfg.build.output).resolve()),
        "data_hash": manifest["data_hash"],
        "exclude_sources": list(cfg.train.exclude_sources),
        "code_version": code_version(),
        "command": command,
        "config_path": config_path,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "train_seconds": round(seconds, 1),
        "best_checkpoint": trainer.state.best_model_checkpoint,
        "global_step": trainer.state.global_step,
        "start_step": steps.start_step,
        "steps_this_run": steps.steps,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "world_size": int(os.environ.get("WORLD_SIZE", "1")),
    }


def model_label_map(
    cfg: Config,
    manifest: dict,
    tasks: list[str],
    task_labels: dict[str, list[str]],
    n_slots: int,
    blocks: dict | None = None,
) -> dict:
    """What scoring needs to read the head: the labels of each task's slots (a joint
    model's slot range per task) and the input format."""
    return {
        "tasks": {t: task_labels[t] for t in tasks},
        "num_slots": n_slots,
        "joint": bool(blocks),
        "blocks": {t: list(v) for t, v in (blocks or {}).items()},
        "kind": manifest.get("kind", "commentary"),
        "benchmark": manifest.get("benchmark"),
        "official_measure": manifest.get("official_measure"),
        "input": {
            "context_sentences": cfg.build.context_sentences,
            "with_source": cfg.build.with_source,
            "max_length": cfg.train.max_length,
        },
    }


def write_model_folder(
    out: Path,
    trainer,
    tokenizer,
    cfg: Config,
    manifest: dict,
    *,
    label_map: dict,
    calibration: dict,
    provenance: dict,
    metrics: dict,
    card: str | None = None,
) -> None:
    """The best weights, the tokenizer and the model folder's files (:func:`write_model_files`).

    Only what scoring needs goes here: ``save_model`` also writes the pickled
    ``TrainingArguments`` (``training_args.bin``), which is removed, and a
    ``checkpoints/`` folder left inside by an earlier version is deleted (the
    checkpoints now live in :func:`checkpoint_dir`).
    """
    from pipeline.train.trainer import TRAINING_ARGS_NAME

    trainer.save_model(str(out))
    (out / TRAINING_ARGS_NAME).unlink(missing_ok=True)
    tokenizer.save_pretrained(str(out))
    for f in out.iterdir():  # safetensors and the tokenizer write some files 0600 whatever the umask
        if f.is_file():
            share_as_umask_allows(f)
    if (out / "checkpoints").is_dir():
        log.info("%s: removing training checkpoints an earlier version kept in the model folder", out / "checkpoints")
        shutil.rmtree(out / "checkpoints")
    write_model_files(
        out,
        label_map=label_map,
        calibration=calibration,
        train_config_yaml=yaml.safe_dump(to_dict(cfg), sort_keys=False, allow_unicode=True),
        provenance=provenance,
        metrics=metrics,
        card=card or model_card(cfg, manifest, provenance, metrics),
    )


def train(cfg: Config, config_path: str = "", command: str = "") -> Path:
    """Train the model described by ``cfg.train`` on ``cfg.build.output``.

    The steps that touch random state (seeding, model construction, the
    Trainer's data order) run in a fixed order, so the same config and seed
    give the same model whether or not a run is resumed.

    Returns:
        The model folder.
    """
    tc = cfg.train
    manifest = check_dataset(cfg.build.output, cfg, config_path)
    data_key = check_exclusions(manifest, tc.exclude_sources, config_path or "train")
    source = resolve_model(tc.model)
    out = Path(tc.output_dir)
    plan = plan_resume(checkpoint_dir(out), tc, data_key)
    prepare_checkpoints(plan, tc, data_key)

    from transformers import set_seed

    set_seed(tc.seed)
    tasks, task_labels = task_schema(manifest, cfg)
    blocks = joint_blocks(tasks, task_labels) if tc.joint else None
    n_slots = max(b for _, b in blocks.values()) if blocks else max(len(task_labels[t]) for t in tasks)
    tokenizer = load_tokenizer(source)
    ds = load_splits(cfg.build.output, tasks, tc.exclude_sources)
    if blocks:
        ds = {k: joint_examples(v, tasks) for k, v in ds.items()}
    tok = tokenize_splits(ds, tokenizer, tasks, tc.max_length)
    counts = label_counts(tok["train"], len(tasks), max(len(task_labels[t]) for t in tasks))
    weights = class_weights(counts, tasks, task_labels) if tc.class_weights else None
    log_training_data(ds, tok, tasks, counts, weights)
    names = joint_slot_names(blocks, task_labels) if blocks else slot_names(tasks, task_labels, n_slots)
    model = build_model(source, n_slots, names, tc.tiny)
    compute_metrics = _compute_metrics_fn(tasks, task_labels, manifest.get("official_measure"), blocks)
    trainer, steps = make_trainer(tc, plan.checkpoints, model, tokenizer, tok, weights, compute_metrics, blocks)

    t0 = time.time()
    result = trainer.train(resume_from_checkpoint=str(plan.resume_from) if plan.resume_from else None)
    seconds = time.time() - t0
    val = trainer.predict(tok["validation"])
    if not trainer.is_world_process_zero():
        return out

    calibration = fit_calibration(val, tc.abstain_threshold, blocks)
    validation = {k.removeprefix("test_"): v for k, v in val.metrics.items()}
    metrics = {
        "train_loss": result.training_loss,
        "validation": validation,
        "temperature": calibration["temperature"],
        "log_history": list(trainer.state.log_history),
    }
    write_model_folder(
        out,
        trainer,
        tokenizer,
        cfg,
        manifest,
        metrics=metrics,
        calibration=calibration,
        label_map=model_label_map(cfg, manifest, tasks, task_labels, n_slots, blocks),
        provenance=run_provenance(cfg, source, manifest, trainer, steps, seconds, command, config_path),
    )
    log.info("model written to %s (best %s, %.0f s)", out, trainer.state.best_model_checkpoint, seconds)
    return out


def model_card(cfg: Config, manifest: dict, provenance: dict, metrics: dict) -> str:
    v = metrics["validation"]
    fmt = lambda x: f"{x:.3f}" if isinstance(x, (int, float)) else str(x)
    splits = ", ".join(f"{k}: {n}" for k, n in manifest["splits"].items())
    if manifest.get("kind") == "benchmark":
        disputes = f"none (public benchmark {manifest['benchmark']}, task {', '.join(manifest['tasks'])})"
    else:
        disputes = ", ".join(manifest["disputes"])
    per_task = ", ".join(
        f"{k.removesuffix('_macro_f1')} macro-F1 {fmt(x)}"
        for k, x in v.items()
        if k.endswith("_macro_f1") and k != "macro_f1"
    )
    return f"""# Model card: {cfg.run_name}

Target-conditioned stance and credibility classifier over commentary passages,
fine-tuned from `{provenance["base_model"]}` by `stance train`.

## Data
- Dataset: `{provenance["dataset"]}`, data hash `{provenance["data_hash"]}`
- Disputes: {disputes}
- Examples per split (passage x side x task): {splits}

## Metrics (validation split)
- accuracy {fmt(v.get("accuracy"))}, macro-F1 {fmt(v.get("macro_f1"))}
- per task: {per_task}
- calibration temperature {metrics["temperature"]:.3f} (fitted on validation)

See the evaluation report (`report/metrics.json`, `report/report.html`) for test-split metrics, \
baselines and per-article verdicts.

## Intended use
Scoring opinion and commentary passages about a configured dispute: whose
claim a passage carries, which side its content favors, and whether it
judges a side's account credible; aggregated to per-article verdicts of the
author's own position. Meant to help analysts triage and compare coverage,
with the evidence passages shown, not to replace reading.

## Known limits
- Trained on a small, hand-written corpus of short English op-eds; expect
  lower accuracy on other genres, long news reports and other languages.
- Attribution (the source shown to the model) comes from rules; errors there
  propagate to stance, and to the author-only article verdict.
- Stance toward a side is read from names and aliases in the dispute config;
  sides with few or ambiguous aliases are scored less reliably.
- Irony, sarcasm and implicit stance are often missed.

## Reproduce
`{provenance["command"] or "stance train " + provenance["config_path"]}` (code {provenance["code_version"]}).
"""
