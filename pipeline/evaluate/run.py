"""``stance evaluate``: metrics, baselines, calibration, verdicts and a side-swap audit.

Writes a report folder: ``metrics.json`` (stable keys, ``format_version``),
``predictions.jsonl`` (one row per scored body passage, read by ``stance
compare``), ``report.html`` (self-contained, inline plots) and ``report.md``.

This module is the stage's entry point; the scores live in
:mod:`pipeline.evaluate.scores`, the baselines in
:mod:`pipeline.evaluate.baselines` and the side-swap audit in
:mod:`pipeline.evaluate.swap`.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from pipeline.contracts import (
    REPORT_FORMAT,
    SOURCE_PREDICTIONS,
    dispute_paths,
    model_summary,
    read_article_answers,
    read_label_map,
    read_manifest,
    read_provenance,
    report_dir_of,
    write_report,
)
from pipeline.dispute import Dispute, load_dispute
from pipeline.errors import DataError
from pipeline.evaluate.baselines import baselines
from pipeline.evaluate.scores import (
    article_metrics,
    example_metrics,
    gold_credibility,
    passage_metrics,
    pred_credibility,
    side_labels,
)
from pipeline.evaluate.swap import side_swap_audit
from pipeline.io import write_jsonl

log = logging.getLogger(__name__)

FIXED_SPLITS = ("train", "validation", "test", "unlabelled")


def evaluate(
    model_dir: str | Path,
    data_dir: str | Path,
    output: str | Path | None = None,
    split: str = "test",
    batch_size: int = 64,
    command: str = "",
    passages_from: str | None = None,
) -> Path:
    """Evaluate a model folder on a dataset folder and write the report folder.

    The requested split is the primary one (its scores fill ``summary``);
    extra held-out splits in the dataset (e.g. ``seed``) are reported too.

    An attribution model (``make attribution``) gets its own report
    (:mod:`pipeline.evaluate.attribution`), with ``passages_from`` the commentary
    dataset its passage-level figures come from.

    Raises:
        ModelError: the folder has no label map.
        DataError: the data has tasks the model does not know, or no such split.
    """
    from pipeline.score.predictor import Predictor

    label_map = read_label_map(model_dir)
    manifest, disputes, answers = load_dataset_folder(data_dir)
    if (manifest.get("kind") == "attribution") != (label_map.get("kind") == "attribution"):
        raise DataError(
            f"{model_dir} is a {label_map.get('kind', 'commentary')} model and {data_dir} holds "
            f"{manifest.get('kind', 'commentary')} data; evaluate each on its own kind"
        )
    if manifest.get("kind") == "attribution":
        from pipeline.evaluate.attribution import evaluate_attribution

        return evaluate_attribution(model_dir, data_dir, output, split, batch_size, command, passages_from)
    if manifest.get("kind") == "benchmark" or label_map.get("kind") == "benchmark":
        return _evaluate_benchmark(model_dir, data_dir, manifest, label_map, output, split, batch_size, command)
    tasks = check_model_fits_data(model_dir, data_dir, manifest, label_map)
    passages = load_passages(data_dir, split)
    out = Path(output) if output else report_dir_of(model_dir)
    t0 = time.time()
    predictor = Predictor(model_dir, batch_size=batch_size)
    train_rows = passages["train"].to_list() if "train" in passages else []
    splits = [split] + [s for s in passages if s not in FIXED_SPLITS and s != split]
    result = {"format_version": REPORT_FORMAT, "primary_split": split, "splits": {}}
    predictions, verdicts = [], {}
    for s in splits:
        rows = passages[s].to_list()
        scored = score_split(predictor, rows, disputes)
        log.info("split %s: %d passages scored", s, len(scored))
        result["splits"][s], verdicts[s] = split_report(predictor, scored, rows, train_rows, disputes, answers, tasks)
        predictions.extend(prediction_row(r, s, disputes[r["dispute"]]) for r in scored if r["role"] == "body")
    source_rows: list[dict] = []
    if manifest.get("mixture"):
        result["sources"] = mixture_sources(predictor, data_dir, manifest, [split], source_rows)
    result["summary"] = summary(result["splits"][split])
    result["model"] = model_summary(model_dir, predictor.model_id, predictor.model_version, predictor.temperature)
    result["data"] = {"path": str(Path(data_dir).resolve()), "data_hash": manifest["data_hash"], "splits": splits}
    result["command"] = command
    result["seconds"] = round(time.time() - t0, 1)
    write(out, result, predictions, verdicts, disputes)
    if source_rows:
        write_jsonl(out / SOURCE_PREDICTIONS, source_rows)
    log.info("report written to %s (%.0f s)", out, result["seconds"])
    return out


def mixture_sources(predictor, data_dir, manifest: dict, splits: list[str], rows_out: list) -> dict:
    """A mixture's public benchmarks, each scored on its own examples of each of ``splits``
    (:func:`pipeline.evaluate.benchmark.source_metrics`): ``{split: {benchmark: metrics}}``; each
    example's gold and prediction go to ``rows_out`` (``sources.jsonl``, read by ``stance compare``)."""
    from datasets import load_from_disk

    from pipeline.evaluate.benchmark import source_metrics

    examples = load_from_disk(str(Path(data_dir) / "examples"))
    excluded = frozenset(read_provenance(predictor.model_dir).get("exclude_sources") or ())
    return {
        s: source_metrics(
            predictor, predictor.label_map, examples[s].to_list(), manifest["mixture"], excluded, rows_out
        )
        for s in splits
        if s in examples
    }


def load_dataset_folder(data_dir: str | Path) -> tuple[dict, dict[str, Dispute], dict]:
    """The manifest, the disputes and the gold article answers of a dataset folder."""
    manifest = read_manifest(data_dir, "run `stance build` or fix --data")
    disputes = {name: load_dispute(path) for name, path in dispute_paths(data_dir, manifest).items()}
    return manifest, disputes, read_article_answers(data_dir)


def _evaluate_benchmark(
    model_dir, data_dir, manifest: dict, label_map: dict, output, split: str, batch_size: int, command: str
) -> Path:
    if manifest.get("kind") != "benchmark":
        raise DataError(
            f"{data_dir}: commentary data, but {model_dir} was trained on the {label_map.get('benchmark')} benchmark; "
            "evaluate a model trained on commentary"
        )
    from pipeline.evaluate.benchmark import evaluate_benchmark

    return evaluate_benchmark(model_dir, data_dir, manifest, label_map, output, split, batch_size, command)


def check_model_fits_data(model_dir, data_dir, manifest: dict, label_map: dict) -> list[str]:
    """The tasks to evaluate: the data's, each of which the model must know with the same labels.

    Raises:
        DataError: the data has a task the model does not know, or other labels for it.
    """
    unknown = [t for t in manifest["tasks"] if t not in label_map["tasks"]]
    if unknown:
        raise DataError(
            f"{data_dir}: has '{unknown[0]}' labels the model {model_dir} does not know "
            f"(it knows {', '.join(label_map['tasks'])}); evaluate a model trained on that task"
        )
    for t in manifest["tasks"]:
        if manifest["task_labels"][t] != label_map["tasks"][t]:
            raise DataError(
                f"{data_dir}: labels for {t} are {manifest['task_labels'][t]}, "
                f"the model's are {label_map['tasks'][t]}; rebuild the data or retrain"
            )
    return [t for t in manifest["tasks"] if t in label_map["tasks"]]


def load_passages(data_dir: str | Path, split: str):
    """The dataset folder's passages by split.

    Raises:
        DataError: there is no ``split``.
    """
    from datasets import load_from_disk

    passages = load_from_disk(str(Path(data_dir) / "passages"))
    if split not in passages:
        raise DataError(
            f"{data_dir}: no '{split}' split (it has {', '.join(passages)}); pass --split with one of those"
        )
    return passages


def score_split(predictor, rows: list[dict], disputes: dict[str, Dispute]) -> list[dict]:
    """The split's passage rows scored under their own dispute, dispute by dispute."""
    from pipeline.score.predictor import score_passages

    scored = []
    for name, d in disputes.items():
        drows = [r for r in rows if r["dispute"] == name]
        if drows:
            scored.extend(score_passages(predictor, drows, d))
    return scored


def split_report(
    predictor,
    scored: list[dict],
    rows: list[dict],
    train_rows: list[dict],
    disputes: dict[str, Dispute],
    answers: dict,
    tasks: list[str],
) -> tuple[dict, list[dict]]:
    """One split's section of ``metrics.json`` and its article verdicts."""
    verdicts, art_summary = article_metrics(scored, disputes, answers, predictor.verdict_rule)
    section = {
        "passages": passage_metrics(scored, tasks, disputes),
        "examples": example_metrics(scored, disputes, tasks),
        "articles": art_summary,
        "baselines": baselines(train_rows, rows, disputes, tasks, predictor.input_cfg) if train_rows else {},
        "side_swap": side_swap_audit(predictor, scored, disputes) if "stance" in tasks else {},
    }
    return section, verdicts


def prediction_row(r: dict, split: str, dispute: Dispute) -> dict:
    """One line of ``predictions.jsonl``: a scored body passage with its gold, by side name
    (``stance``, ``credibility``) and by role label (``side_favored``, ``credibility_judged``,
    ``per_side``: see :func:`pipeline.evaluate.scores.side_labels`)."""
    return {
        "id": f"{r['doc_id']}:{r['index']}",
        "split": split,
        "dispute": r["dispute"],
        "doc_id": r["doc_id"],
        "index": r["index"],
        "paragraph": r["paragraph"],
        "text": r["text"],
        "source": r["source"],
        "source_side": r["source_side"],
        "cue": r["cue"],
        "gold_source": r["gold_source"],
        "gold_stance": r["gold_stance"],
        "stance": r["stance"],
        "stance_prob": r["stance_prob"],
        "stance_probs": r["stance_probs"],
        "gold_credibility": gold_credibility(r) if r["has_gold"] else None,
        "credibility": pred_credibility(r),
        "credibility_prob": r["credibility_prob"],
        "credibility_by": r.get("credibility_by"),
        "gold_confidence": r["gold_confidence"],
        "has_gold": r["has_gold"] and r.get("gold_role") in (None, "body"),
        **side_labels(r, dispute),
    }


def summary(primary: dict) -> dict:
    """The headline numbers of the primary split, over role labels: side favored (``side 1`` /
    ``side 2`` / ``neutral``), stance and credibility per (passage, side) example (``favor`` /
    ``against`` / ``none``, ``credible`` / ``not_credible`` / ``none``) and the passage's
    credibility judgment (``side 1:credible`` ... ``none``); ``by_side_name``: the passage
    figures over side names, as reports measured them before."""
    prim, ex = primary["passages"], primary.get("examples") or {}
    names = prim.get("by_side_name") or {}
    get = lambda section, key, what: (section.get(key) or {}).get(what)
    return {
        "side_favored_accuracy": get(prim, "side_favored", "accuracy"),
        "side_favored_macro_f1": get(prim, "side_favored", "macro_f1"),
        "side_favored_high_confidence_macro_f1": get(prim, "side_favored_high_confidence", "macro_f1"),
        "stance_examples_accuracy": get(ex, "stance", "accuracy"),
        "stance_examples_macro_f1": get(ex, "stance", "macro_f1"),
        "credibility_examples_accuracy": get(ex, "credibility", "accuracy"),
        "credibility_examples_macro_f1": get(ex, "credibility", "macro_f1"),
        "credibility_judged_accuracy": get(prim, "credibility_judged", "accuracy"),
        "credibility_judged_macro_f1": get(prim, "credibility_judged", "macro_f1"),
        "stance_ece": get(prim, "stance_calibration", "ece"),
        "author_favors_accuracy": primary["articles"]["author_favors_accuracy"],
        "more_credible_accuracy": primary["articles"]["more_credible_accuracy"],
        "side_swap_consistency": primary["side_swap"].get("consistency"),
        "by_side_name": {
            "stance_accuracy": get(names, "stance", "accuracy"),
            "stance_macro_f1": get(names, "stance", "macro_f1"),
            "stance_high_confidence_macro_f1": get(names, "stance_high_confidence", "macro_f1"),
            "credibility_accuracy": get(names, "credibility", "accuracy"),
            "credibility_macro_f1": get(names, "credibility", "macro_f1"),
        },
    }


def write(out: Path, result: dict, predictions: list[dict], verdicts: dict, disputes: dict[str, Dispute]) -> None:
    """Render the report and write the report folder."""
    from pipeline.evaluate.html import render_report

    html, md = render_report(result, predictions, verdicts, disputes)
    write_report(out, metrics=result, predictions=predictions, verdicts=verdicts, html=html, markdown=md)
