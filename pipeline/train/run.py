"""``stance train``: fine-tune a target-conditioned classifier with the HF ``Trainer``.

Reads a dataset folder written by ``stance build``, checks it against the
config before any model loads, trains with class weights, length-grouped
dynamic-padding batches, early stopping and best-checkpoint selection,
resumes from the last checkpoint, fits a calibration temperature on the
validation split, and writes a self-contained model folder.
"""

from __future__ import annotations

import logging
import os
import platform
import shutil
import subprocess
import time
from pathlib import Path

import yaml

from pipeline import __version__
from pipeline.config import Config, to_dict
from pipeline.contracts import MANIFEST, read_manifest, write_model_files
from pipeline.errors import DataError, ModelError
from pipeline.io import read_json, write_json
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
        sha = subprocess.run(["git", "-C", str(root), "rev-parse", "--short=12", "HEAD"], capture_output=True, text=True, timeout=5).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True, timeout=5).stdout.strip()
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
    if manifest.get("kind") == "benchmark":
        for task, labels in manifest.get("task_labels", {}).items():
            if not labels or len(set(labels)) != len(labels):
                raise DataError(f"{manifest_path}: task_labels.{task}: {labels} is not a list of distinct labels; rebuild the dataset")
    else:
        missing = [t for t in cfg.build.tasks if t not in manifest.get("task_labels", {})]
        if missing:
            raise DataError(f"{d}: the dataset has no '{missing[0]}' examples (it has {', '.join(manifest.get('task_labels', {}))}); rebuild it with build.tasks including {missing[0]}")
        for task, labels in manifest["task_labels"].items():
            if task not in TASK_LABELS:
                raise DataError(f"{d}: task '{task}' is not one this version knows ({', '.join(TASK_LABELS)}); rebuild the dataset")
            if labels != TASK_LABELS[task]:
                raise DataError(f"{d}: labels for task {task} are {labels}, but this version expects {TASK_LABELS[task]}; rebuild the dataset")
    for split in ("train", "validation"):
        if not manifest["splits"].get(split):
            raise DataError(f"{d}: the {split} split is empty; add labelled articles or lower build.split fractions so every split gets articles")
    return manifest


def task_schema(manifest: dict, cfg: Config) -> tuple[list[str], dict[str, list[str]]]:
    """(tasks to train, labels per task): a benchmark brings its own task and
    labels; commentary trains the configured tasks with the declared labels."""
    if manifest.get("kind") == "benchmark":
        return list(manifest["tasks"]), dict(manifest["task_labels"])
    return list(cfg.build.tasks), {t: TASK_LABELS[t] for t in cfg.build.tasks}


def _compute_metrics_fn(tasks: list[str], task_labels: dict[str, list[str]], measure: str | None = None):
    """Metrics over (task, label) classes. The task of each example travels with
    its label (``label_ids = (labels, task_id)``), so it stays aligned when
    predictions are gathered across processes."""
    import numpy as np

    from pipeline.analysis.metrics import classification_metrics, official_measure

    def compute(pred):
        logits = pred.predictions[0] if isinstance(pred.predictions, tuple) else pred.predictions
        labels, task_ids = pred.label_ids
        tasks_of_eval = [tasks[int(i)] for i in task_ids]
        preds = np.asarray(logits).argmax(-1)
        names = lambda slots: [f"{t}:{task_labels[t][int(s)] if int(s) < len(task_labels[t]) else int(s)}" for t, s in zip(tasks_of_eval, slots)]
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


def train(cfg: Config, config_path: str = "", command: str = "") -> Path:
    """Train the model described by ``cfg.train`` on ``cfg.build.output``.

    Returns:
        The model folder.
    """
    tc = cfg.train
    manifest = check_dataset(cfg.build.output, cfg, config_path)
    source = resolve_model(tc.model)
    out = Path(tc.output_dir)
    ckpt_dir = out / "checkpoints"
    existing = sorted(ckpt_dir.glob("checkpoint-*"), key=lambda p: int(p.name.split("-")[-1])) if ckpt_dir.is_dir() else []
    resume = bool(existing) and tc.resume
    if resume:
        state = read_json(existing[-1] / "trainer_state.json", "checkpoint state") if (existing[-1] / "trainer_state.json").is_file() else {}
        info = ckpt_dir / "run_info.json"
        before = read_json(info) if info.is_file() else {}
        if before and (before.get("base_model"), before.get("tiny")) != (tc.model, tc.tiny):
            raise ModelError(f"{existing[-1]}: checkpoint was trained from {before.get('base_model')}, not {tc.model}; delete {ckpt_dir} or pass --train.resume false")
        if before.get("data_hash") not in (None, manifest["data_hash"]):
            # the data changed since (labels edited, articles added): those checkpoints cannot be continued
            log.warning("%s: checkpoints were trained on data %s, not the current %s; training afresh", ckpt_dir, before["data_hash"][:12], manifest["data_hash"][:12])
            resume = False
        else:
            log.info("resuming from %s (step %s)", existing[-1], state.get("global_step"))

    main_process = int(os.environ.get("RANK", "0")) == 0  # torchrun / accelerate launch set RANK
    if main_process:
        if existing and not resume:
            shutil.rmtree(ckpt_dir)
        write_json(ckpt_dir / "run_info.json", {"base_model": tc.model, "tiny": tc.tiny, "data_hash": manifest["data_hash"]})

    import numpy as np
    import torch
    from datasets import load_from_disk
    from transformers import (
        DataCollatorWithPadding,
        EarlyStoppingCallback,
        Trainer,
        TrainingArguments,
        set_seed,
    )

    set_seed(tc.seed)
    tasks, task_labels = task_schema(manifest, cfg)
    n_slots = max(len(task_labels[t]) for t in tasks)
    id2label = {i: "/".join(task_labels[t][i] for t in tasks if i < len(task_labels[t])) for i in range(n_slots)}
    tokenizer = load_tokenizer(source)
    ds = load_from_disk(str(Path(cfg.build.output) / "examples"))
    ds = {k: v.filter(lambda e: e["task"] in tasks) for k, v in ds.items()}

    def tokenize(batch):
        enc = tokenizer(batch["text"], batch["text_pair"], truncation=True, max_length=tc.max_length)
        enc["labels"] = batch["slot"]
        enc["task_id"] = [tasks.index(t) for t in batch["task"]]
        enc["length"] = [len(x) for x in enc["input_ids"]]
        return enc

    keep = ("input_ids", "attention_mask", "token_type_ids", "labels", "task_id", "length")
    tok = {k: v.map(tokenize, batched=True, remove_columns=[c for c in v.column_names if c not in keep], desc=f"tokenize {k}") for k, v in ds.items() if k in ("train", "validation")}
    # class weights per task and label: credible/not_credible are rarer than favor/against,
    # so one weight per shared slot would leave the rare task's labels under-weighted
    train_slots = np.asarray(tok["train"]["labels"])
    train_tasks = np.asarray(tok["train"]["task_id"])
    counts = np.zeros((len(tasks), n_slots))
    np.add.at(counts, (train_tasks, train_slots), 1.0)
    weights = None
    if tc.class_weights:
        k = np.array([len(task_labels[t]) for t in tasks], dtype=float)[:, None]
        w = counts.sum(1, keepdims=True) / (k * np.maximum(counts, 1.0))
        weights = torch.tensor(np.clip(w, 0.1, 10.0), dtype=torch.float)
    log.info("train examples %d, validation %d; label counts per task %s; class weights %s", len(tok["train"]), len(tok["validation"]),
             {t: counts[i].tolist() for i, t in enumerate(tasks)}, None if weights is None else {t: [round(float(x), 3) for x in weights[i]] for i, t in enumerate(tasks)})
    for row in ds["train"].select(range(min(3, len(ds["train"])))):
        log.info("sample: %s || %s -> %s", row["text"][:100], row["text_pair"][:60], row["label"])

    model = build_model(source, n_slots, id2label, tc.tiny)

    class WeightedTrainer(Trainer):
        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
            labels = inputs.pop("labels")
            task_id = inputs.pop("task_id")
            outputs = model(**inputs)
            losses = torch.nn.functional.cross_entropy(outputs.logits.float(), labels, reduction="none")
            if weights is None:
                return (losses.mean(), outputs) if return_outputs else losses.mean()
            w = weights.to(losses.device)[task_id, labels]
            loss = (losses * w).sum() / w.sum()  # the weighted mean, as cross_entropy(weight=...) computes it
            return (loss, outputs) if return_outputs else loss

    args = TrainingArguments(
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
        label_names=["labels", "task_id"],
        dataloader_num_workers=0,
        ddp_backend="gloo" if int(os.environ.get("WORLD_SIZE", "1")) > 1 and not torch.cuda.is_available() else None,
    )
    trainer = WeightedTrainer(
        model=model,
        args=args,
        train_dataset=tok["train"],
        eval_dataset=tok["validation"],
        processing_class=tokenizer,
        data_collator=DataCollatorWithPadding(tokenizer),
        compute_metrics=_compute_metrics_fn(tasks, task_labels, manifest.get("official_measure")),
        callbacks=[EarlyStoppingCallback(early_stopping_patience=tc.early_stopping_patience)] if tc.early_stopping_patience > 0 else [],
    )
    t0 = time.time()
    result = trainer.train(resume_from_checkpoint=str(existing[-1]) if resume else None)
    seconds = time.time() - t0
    val = trainer.predict(tok["validation"])
    if not trainer.is_world_process_zero():
        return out

    from pipeline.analysis.metrics import fit_temperature

    val_logits = val.predictions[0] if isinstance(val.predictions, tuple) else val.predictions
    temperature = fit_temperature(val_logits, val.label_ids[0])
    trainer.save_model(str(out))
    tokenizer.save_pretrained(str(out))
    label_map = {
        "tasks": {t: task_labels[t] for t in tasks},
        "num_slots": n_slots,
        "kind": manifest.get("kind", "commentary"),
        "benchmark": manifest.get("benchmark"),
        "official_measure": manifest.get("official_measure"),
        "input": {"context_sentences": cfg.build.context_sentences, "with_source": cfg.build.with_source, "max_length": tc.max_length},
    }
    calibration = {"temperature": temperature, "fitted_on": "validation", "n": int(len(val_logits)), "abstain_threshold": tc.abstain_threshold}
    history = [h for h in trainer.state.log_history]
    provenance = {
        "base_model": tc.model,
        "resolved_base_model": source,
        "dataset": str(Path(cfg.build.output).resolve()),
        "data_hash": manifest["data_hash"],
        "code_version": code_version(),
        "command": command,
        "config_path": config_path,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "train_seconds": round(seconds, 1),
        "best_checkpoint": trainer.state.best_model_checkpoint,
        "global_step": trainer.state.global_step,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "world_size": int(os.environ.get("WORLD_SIZE", "1")),
    }
    metrics = {"train_loss": result.training_loss, "validation": {k.removeprefix("test_"): v for k, v in val.metrics.items()}, "temperature": temperature, "log_history": history}
    write_model_files(out, label_map=label_map, calibration=calibration, train_config_yaml=yaml.safe_dump(to_dict(cfg), sort_keys=False, allow_unicode=True),
                      provenance=provenance, metrics=metrics, card=model_card(cfg, manifest, provenance, metrics))
    log.info("model written to %s (best %s, %.0f s)", out, trainer.state.best_model_checkpoint, seconds)
    return out


def model_card(cfg: Config, manifest: dict, provenance: dict, metrics: dict) -> str:
    v = metrics["validation"]
    fmt = lambda x: f"{x:.3f}" if isinstance(x, (int, float)) else str(x)
    splits = ", ".join(f"{k}: {n}" for k, n in manifest["splits"].items())
    disputes = ", ".join(manifest["disputes"]) if manifest.get("kind") != "benchmark" else f"none (public benchmark {manifest['benchmark']}, task {', '.join(manifest['tasks'])})"
    return f"""# Model card: {cfg.run_name}

Target-conditioned stance and credibility classifier over commentary passages,
fine-tuned from `{provenance['base_model']}` by `stance train`.

## Data
- Dataset: `{provenance['dataset']}`, data hash `{provenance['data_hash']}`
- Disputes: {disputes}
- Examples per split (passage x side x task): {splits}

## Metrics (validation split)
- accuracy {fmt(v.get('accuracy'))}, macro-F1 {fmt(v.get('macro_f1'))}
- per task: {', '.join(f"{k.removesuffix('_macro_f1')} macro-F1 {fmt(x)}" for k, x in v.items() if k.endswith('_macro_f1') and k != 'macro_f1')}
- calibration temperature {metrics['temperature']:.3f} (fitted on validation)

See the evaluation report (`report/metrics.json`, `report/report.html`) for test-split metrics, baselines and per-article verdicts.

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
`{provenance['command'] or 'stance train ' + provenance['config_path']}` (code {provenance['code_version']}).
"""
