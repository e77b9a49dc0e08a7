"""The file contracts between stages, with one owner: every stage reads and writes these folders through here.

Three folders pass between stages:

- **dataset folder** (``stance build`` writes; train, evaluate read): Hugging Face
  ``datasets`` saved by split, ``manifest.json`` (format version, data hash,
  tasks and labels, splits, disputes), ``data_report.{json,md}``, the dispute
  configs it was built with and ``articles.json`` (gold article verdicts).
- **model folder** (``stance train`` writes; score, evaluate read):
  ``save_pretrained`` output plus ``label_map.json`` (tasks, slots, input
  format, format version), ``calibration.json``, ``provenance.json``,
  ``train_config.yaml``, ``metrics.json`` and a model card ``README.md``.
- **report folder** (``stance evaluate`` writes; compare reads):
  ``metrics.json`` (format version), ``predictions.jsonl``, ``verdicts.json``,
  ``report.html`` and ``report.md``.

Stages call the functions below and never open those files by name.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from pathlib import Path

from pipeline.errors import DataError, ModelError, ReportError
from pipeline.io import iter_jsonl, read_json, write_json, write_jsonl, write_text

# -- dataset folder -----------------------------------------------------------

DATASET_FORMAT = 1
MANIFEST = "manifest.json"
DATA_REPORT_JSON = "data_report.json"
DATA_REPORT_MD = "data_report.md"
ARTICLE_ANSWERS = "articles.json"


def partial_dir(out: Path) -> Path:
    """An empty ``<out>.partial`` folder to build into (see :func:`publish_dataset`)."""
    tmp = out.with_name(out.name + ".partial")
    if tmp.exists():
        shutil.rmtree(tmp)
    return tmp


def publish_dataset(tmp: Path, out: Path, manifest: dict, report: dict, markdown: str) -> None:
    """Write the manifest and data report into ``tmp`` and put it in place of
    ``out``, so a failed build never leaves a half-written dataset folder."""
    write_json(tmp / MANIFEST, manifest)
    write_json(tmp / DATA_REPORT_JSON, report)
    write_text(tmp / DATA_REPORT_MD, markdown)
    old = out.with_name(out.name + ".old")
    if old.exists():
        shutil.rmtree(old)
    if out.exists():
        out.rename(old)  # a crash from here on leaves the previous dataset in <out>.old, never no dataset at all
    tmp.rename(out)
    if old.exists():
        shutil.rmtree(old)


def write_article_answers(folder: Path, answers: dict) -> None:
    """Gold article-level answers (author favors, more credible) by doc id."""
    write_json(Path(folder) / ARTICLE_ANSWERS, answers)


def read_manifest(dataset_dir: str | Path, hint: str = "run `stance build` first or fix the path") -> dict:
    """The dataset folder's manifest.

    Raises:
        DataError: the folder is missing, has no manifest, or was written by another format version.
    """
    d = Path(dataset_dir)
    p = d / MANIFEST
    if not p.is_file():
        raise DataError(f"{d}: not a dataset folder (no {MANIFEST}); {hint}")
    manifest = read_json(p, "dataset manifest")
    version = manifest.get("format_version", DATASET_FORMAT)
    if version != DATASET_FORMAT:
        raise DataError(f"{p}: dataset format {version} is not {DATASET_FORMAT}; rebuild it with `stance build`")
    return manifest


def read_article_answers(dataset_dir: str | Path) -> dict:
    """Gold article answers of a commentary dataset; empty when it has none."""
    p = Path(dataset_dir) / ARTICLE_ANSWERS
    return read_json(p) if p.is_file() else {}


def dispute_paths(dataset_dir: str | Path, manifest: dict) -> dict[str, Path]:
    """The dispute configs stored in the dataset folder, by dispute name."""
    return {name: Path(dataset_dir) / rel for name, rel in manifest.get("disputes", {}).items()}


# -- model folder -------------------------------------------------------------

MODEL_FORMAT = 1
LABEL_MAP = "label_map.json"
CALIBRATION = "calibration.json"
PROVENANCE = "provenance.json"
TRAIN_CONFIG = "train_config.yaml"
MODEL_METRICS = "metrics.json"
MODEL_CARD = "README.md"


def read_label_map(model_dir: str | Path) -> dict:
    """The model folder's label map; a clear error when the folder is not a model."""
    d = Path(model_dir)
    if not d.is_dir():
        raise ModelError(f"{d}: model folder not found; train one with `stance train` or fix the path")
    p = d / LABEL_MAP
    if not p.is_file():
        raise ModelError(
            f"{d}: no {LABEL_MAP}; this folder was not written by `stance train` "
            "(retrain, or copy the label map beside the weights)"
        )
    lm = read_json(p, "label map")
    if lm.get("format_version") != MODEL_FORMAT:
        raise ModelError(
            f"{p}: model format {lm.get('format_version')} is not {MODEL_FORMAT}; retrain the model with this version"
        )
    return lm


def task_blocks(label_map: dict) -> dict[str, tuple[int, int]] | None:
    """A joint model's slot range per task (``{"stance": (0, 3), "credibility": (3, 6)}``); None for a model
    whose tasks share one set of slots, asked one task at a time."""
    if not label_map.get("joint"):
        return None
    return {t: (int(a), int(b)) for t, (a, b) in label_map["blocks"].items()}


def example_input(label_map: dict, text: str, pair: str, task: str) -> tuple[str, str]:
    """A built example (asked for ``task``) as the model's input: a joint model answers every task from one
    question (:func:`pipeline.labels.joint_pair`), other models read the example as built (so does a joint
    model an example whose question is in another format, such as a benchmark's)."""
    from pipeline.labels import joint_pair

    if not label_map.get("joint") or task not in label_map["blocks"]:
        return text, pair
    try:
        return text, joint_pair(pair, task)
    except ValueError:
        return text, pair


def task_view(label_map: dict, logits, tasks=None):
    """Each example's logits over its own task's labels, ``[n, labels]``.

    A joint model's outputs hold one block of slots per task: with ``tasks``
    (one task per row) each row keeps its task's block; without, every block
    becomes a row of its own (``[n * tasks, labels]``, blocks padded with
    -1e9 to the widest). Other models' logits are returned as they are.
    """
    import numpy as np

    blocks = task_blocks(label_map)
    logits = np.asarray(logits)
    if blocks is None:
        return logits
    width = max(b - a for a, b in blocks.values())

    def block(rows, task):
        a, b = blocks[task]
        return np.pad(rows[:, a:b], ((0, 0), (0, width - (b - a))), constant_values=-1e9)

    if tasks is None:
        return np.stack([block(logits, t) for t in blocks], axis=1).reshape(-1, width)
    out = np.empty((len(logits), width), dtype=logits.dtype)
    for task in set(tasks):
        idx = np.array([i for i, t in enumerate(tasks) if t == task], dtype=int)
        out[idx] = block(logits[idx], task)
    return out


def is_model_folder(path: str | Path) -> bool:
    return (Path(path) / LABEL_MAP).is_file()


def read_calibration(model_dir: str | Path) -> dict:
    """Temperature and abstain threshold; ``{}`` for a model folder without calibration."""
    p = Path(model_dir) / CALIBRATION
    return read_json(p, "calibration") if p.is_file() else {}


def update_calibration(model_dir: str | Path, **entries) -> dict:
    """Add ``entries`` to the model folder's ``calibration.json`` (written atomically); returns the whole."""
    p = Path(model_dir) / CALIBRATION
    data = {**read_calibration(model_dir), **entries}
    write_json(p, data)
    return data


def read_provenance(model_dir: str | Path) -> dict:
    """Base model, data hash, code version, command; ``{}`` when the folder has none."""
    p = Path(model_dir) / PROVENANCE
    return read_json(p, "provenance") if p.is_file() else {}


def model_identity(model_dir: str | Path) -> tuple[str, str]:
    """(model id, model version) written into every scored row, read without loading the weights."""
    d = Path(model_dir)
    p = read_provenance(d)
    return d.name, f"{p.get('code_version', '?')}:{p.get('data_hash', '?')[:12]}"


def write_model_files(
    out: Path, *, label_map: dict, calibration: dict, train_config_yaml: str, provenance: dict, metrics: dict, card: str
) -> None:
    """Everything of the model folder beside the ``save_pretrained`` output."""
    write_json(out / LABEL_MAP, {"format_version": MODEL_FORMAT, **label_map})
    write_json(out / CALIBRATION, calibration)
    write_text(out / TRAIN_CONFIG, train_config_yaml)
    write_json(out / PROVENANCE, provenance)
    write_json(out / MODEL_METRICS, metrics)
    write_text(out / MODEL_CARD, card)


# -- report folder ------------------------------------------------------------

REPORT_FORMAT = 1
REPORT_METRICS = "metrics.json"
PREDICTIONS = "predictions.jsonl"
SOURCE_PREDICTIONS = "sources.jsonl"  # a mixture's benchmark examples: id, source, doc_id, gold, pred
VERDICTS = "verdicts.json"
REPORT_HTML = "report.html"
REPORT_MD = "report.md"


def write_report(
    out: Path, *, metrics: dict, predictions: Iterable[dict], verdicts: dict, html: str, markdown: str
) -> None:
    """A report folder: ``metrics`` gets the format version."""
    out.mkdir(parents=True, exist_ok=True)
    write_jsonl(out / PREDICTIONS, predictions)
    write_json(out / VERDICTS, verdicts)
    write_json(
        out / REPORT_METRICS,
        {"format_version": REPORT_FORMAT, **metrics} if "format_version" not in metrics else metrics,
    )
    write_text(out / REPORT_HTML, html)
    write_text(out / REPORT_MD, markdown)


def read_report(path: str | Path) -> tuple[dict, list[dict]]:
    """A report folder's metrics and predictions.

    Raises:
        ReportError: not a report folder, or another format version.
    """
    p = Path(path)
    mpath = p / REPORT_METRICS
    if not mpath.is_file():
        raise ReportError(
            f"{p}: no {REPORT_METRICS}; pass a report folder written by `stance evaluate` "
            "(or a model folder with --data)"
        )
    metrics = read_json(mpath, "report metrics")
    if metrics.get("format_version") != REPORT_FORMAT:
        raise ReportError(
            f"{mpath}: report format {metrics.get('format_version')} is not {REPORT_FORMAT}; "
            "re-run `stance evaluate` with this version"
        )
    ppath = p / PREDICTIONS
    if not ppath.is_file():
        raise ReportError(f"{p}: no {PREDICTIONS}; re-run `stance evaluate` to write it")
    return metrics, [row for _, row in iter_jsonl(ppath)]


def report_dir_of(model_dir: str | Path) -> Path:
    """Where ``stance evaluate`` writes by default: ``<model>/report``."""
    return Path(model_dir) / "report"


def model_summary(model_dir: str | Path, model_id: str, model_version: str, temperature: float) -> dict:
    """The evaluated model as a report records it: path, id, version, base model, data hash, temperature,
    training time."""
    prov = read_provenance(model_dir)
    return {
        "path": str(Path(model_dir).resolve()),
        "id": model_id,
        "version": model_version,
        "base_model": prov.get("base_model"),
        "data_hash": prov.get("data_hash"),
        "temperature": temperature,
        "train_seconds": prov.get("train_seconds"),
    }
