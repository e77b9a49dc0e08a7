"""``stance evaluate`` on a public-benchmark dataset (``build.benchmark``).

A benchmark is scored example by example (passage, target): accuracy,
macro-F1, per-class scores and the confusion matrix, the benchmark's own
measure (SemEval F_avg, the FNC-1 score, ...), per-target scores, calibration,
and the majority and TF-IDF + logistic-regression baselines trained on the
same train split. The report folder has the same files as a commentary
report, so ``stance compare`` reads both.
"""

from __future__ import annotations

import html
import logging
import time
from collections import Counter
from pathlib import Path

import numpy as np

from pipeline.analysis.metrics import (
    calibration,
    classification_metrics,
    official_measure,
    softmax,
)
from pipeline.contracts import REPORT_FORMAT, example_input, model_summary, report_dir_of, task_view, write_report
from pipeline.errors import DataError

log = logging.getLogger(__name__)


def scores(gold: list[str], pred: list[str], labels: list[str], measure: str | None) -> dict:
    m = classification_metrics(gold, pred, labels)
    m["official"] = official_measure(measure, gold, pred)
    return m


def per_target(rows: list[dict], labels: list[str], measure: str | None, top: int = 30) -> dict:
    counts = Counter(r["target"] for r in rows)
    out = {}
    for target, n in counts.most_common(top):
        sub = [r for r in rows if r["target"] == target]
        m = scores([r["gold"] for r in sub], [r["pred"] for r in sub], labels, measure)
        out[target] = {"n": n, "accuracy": m["accuracy"], "macro_f1": m["macro_f1"], "official": m["official"]}
    return out


def baselines(train: list[dict], rows: list[dict], labels: list[str], measure: str | None) -> dict:
    """Majority class and TF-IDF (word 1-2 grams) + logistic regression on the train split."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    if not train:
        return {}
    gold = [r["gold"] for r in rows]
    majority = Counter(e["label"] for e in train).most_common(1)[0][0]
    out = {"majority": scores(gold, [majority] * len(rows), labels, measure)}
    vec = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2, max_features=200000)
    X = vec.fit_transform([f"{e['text']} [SEP] {e['text_pair']}" for e in train])
    clf = LogisticRegression(max_iter=2000, class_weight="balanced", C=4.0)
    clf.fit(X, [e["label"] for e in train])
    pred = clf.predict(vec.transform([f"{r['text_full']} [SEP] {r['text_pair']}" for r in rows])).tolist()
    out["tfidf_logreg"] = scores(gold, pred, labels, measure)
    return {
        k: {
            "accuracy": v["accuracy"],
            "macro_f1": v["macro_f1"],
            "official": v["official"],
            "per_class": {lab: x["f1"] for lab, x in v["per_class"].items()},
        }
        for k, v in out.items()
    }


def score_examples(
    predictor, label_map: dict, ev: list[dict], task: str, labels: list[str], label_set=None, split: str = "test"
) -> list[dict]:
    """Built examples scored for ``task``: one row each with gold, prediction and probabilities. With
    ``label_set`` (a benchmark in the commentary input whose data has fewer labels than the task, e.g.
    P-Stance's favor / against), the prediction is the likeliest of those labels, as the benchmark's
    own evaluation decodes."""
    inputs = [example_input(label_map, e["text"], e["text_pair"], task) for e in ev]
    logits = predictor.logits([x[0] for x in inputs], [x[1] for x in inputs])
    logits = task_view(label_map, logits, [task] * len(ev))[:, : len(labels)]
    probs = softmax(logits, predictor.temperature)
    if label_set and set(label_set) != set(labels):
        keep = np.array([lab in label_set for lab in labels])
        probs = np.where(keep, probs, 0.0)
        probs = probs / probs.sum(axis=1, keepdims=True)
    rows = []
    for e, p in zip(ev, probs):
        k = int(np.argmax(p))
        rows.append(
            {
                "id": e["id"],
                "split": split,
                "doc_id": e["doc_id"],
                "target": e["target"],
                "text": e["text"][:400],
                "text_full": e["text"],
                "text_pair": e["text_pair"],
                "gold": e["label"],
                "pred": labels[k],
                "prob": float(p[k]),
                "probs": {lab: float(x) for lab, x in zip(labels, p)},
                "has_gold": True,
            }
        )
    return rows


def source_metrics(
    predictor,
    label_map: dict,
    examples: list[dict],
    mixture: dict,
    excluded: frozenset = frozenset(),
    rows_out: list | None = None,
) -> dict:
    """Each public benchmark of a mixture scored on its own examples of one split, over role labels: its
    labels' accuracy, macro-F1 and measure (SemEval's F_avg where the benchmark's is), beside the majority
    class; decoding restricted to the labels the benchmark has (:func:`score_examples`). ``trained_on``:
    whether the model saw the benchmark's train split (not where it was built with weight 0, or trained
    with it in ``excluded``: leave-one-source-out). ``rows_out`` gets each example's gold and prediction."""
    out = {}
    for name, info in mixture.items():
        if info.get("corpus") or not info.get("task"):
            continue
        ev = [e for e in examples if e.get("source") == name]
        if not ev:
            continue
        task, labels = info["task"], label_map["tasks"].get(info["task"])
        if labels is None:
            continue
        log.info("scoring %d examples of %s", len(ev), name)
        rows = score_examples(predictor, label_map, ev, task, labels, info["labels"])
        gold, pred = [r["gold"] for r in rows], [r["pred"] for r in rows]
        if rows_out is not None:  # for stance compare: one line per example
            rows_out.extend(
                {"id": r["id"], "source": name, "doc_id": r["doc_id"], "gold": r["gold"], "pred": r["pred"]}
                for r in rows
            )
        m = scores(gold, pred, info["labels"], info["measure"])
        majority = Counter(gold).most_common(1)[0][0]
        out[name] = {
            "n": len(rows),
            "task": task,
            "labels": info["labels"],
            "measure": info["measure"],
            "accuracy": m["accuracy"],
            "macro_f1": m["macro_f1"],
            "official": m["official"],
            "per_class": {lab: x["f1"] for lab, x in m["per_class"].items()},
            "majority_macro_f1": scores(gold, [majority] * len(gold), info["labels"], None)["macro_f1"],
            "trained_on": info.get("train", 0) > 0 and name not in excluded,
        }
    return out


def evaluate_benchmark(
    model_dir,
    data_dir,
    manifest: dict,
    label_map: dict,
    output=None,
    split: str = "test",
    batch_size: int = 64,
    command: str = "",
) -> Path:
    from datasets import load_from_disk

    from pipeline.score.predictor import Predictor

    (task,) = manifest["tasks"]
    labels = manifest["task_labels"][task]
    if label_map["tasks"].get(task) != labels:
        known = ", ".join(f"{t} {v}" for t, v in label_map["tasks"].items())
        raise DataError(
            f"{data_dir}: task {task} with labels {labels}, but the model {model_dir} knows {known}; "
            "evaluate a model trained on this benchmark"
        )
    examples = load_from_disk(str(Path(data_dir) / "examples"))
    if split not in examples:
        raise DataError(
            f"{data_dir}: no '{split}' split (it has {', '.join(examples)}); pass --split with one of those"
        )
    measure = manifest.get("official_measure")
    t0 = time.time()
    predictor = Predictor(model_dir, batch_size=batch_size)
    ev = examples[split].to_list()
    log.info("scoring %d %s examples of %s", len(ev), split, manifest["benchmark"])
    rows = score_examples(predictor, label_map, ev, task, labels, manifest.get("label_set"), split)
    gold, pred = [r["gold"] for r in rows], [r["pred"] for r in rows]
    m = scores(gold, pred, labels, measure)
    cal = calibration(np.array([r["prob"] for r in rows]), np.array([g == q for g, q in zip(gold, pred)]))
    train = examples["train"].to_list() if "train" in examples else []
    log.info("baselines: majority and TF-IDF + logistic regression on %d train examples", len(train))
    sres = {
        "task": m,
        "calibration": cal,
        "per_target": per_target(rows, labels, measure),
        "baselines": baselines(train, rows, labels, measure),
    }
    result = {
        "format_version": REPORT_FORMAT,
        "kind": "benchmark",
        "benchmark": manifest["benchmark"],
        "task": task,
        "labels": labels,
        "official_measure": measure,
        "primary_split": split,
        "splits": {split: sres},
        "summary": {
            "accuracy": m["accuracy"],
            "macro_f1": m["macro_f1"],
            measure or "official": m["official"],
            "ece": cal["ece"],
            "tfidf_logreg_macro_f1": sres["baselines"].get("tfidf_logreg", {}).get("macro_f1"),
            "tfidf_logreg_official": sres["baselines"].get("tfidf_logreg", {}).get("official"),
        },
    }
    result["model"] = model_summary(model_dir, predictor.model_id, predictor.model_version, predictor.temperature)
    result["data"] = {"path": str(Path(data_dir).resolve()), "data_hash": manifest["data_hash"], "splits": [split]}
    result["command"] = command
    result["seconds"] = round(time.time() - t0, 1)
    out = Path(output) if output else report_dir_of(model_dir)
    page, md = render(result, rows)
    write_report(
        out,
        metrics=result,
        predictions=[{k: v for k, v in r.items() if k not in ("text_full", "text_pair")} for r in rows],
        verdicts={},
        html=page,
        markdown=md,
    )
    log.info("report written to %s (%.0f s)", out, result["seconds"])
    return out


def render(result: dict, rows: list[dict]) -> tuple[str, str]:
    """(html, markdown) of a benchmark report."""
    from pipeline.evaluate.html import (
        CSS,
        _fmt,
        _metric_table,
        confusion_plot,
        f1_plot,
        reliability_plot,
    )

    split = result["primary_split"]
    s = result["splits"][split]
    m, measure = s["task"], result["official_measure"]
    name = f"{result['benchmark']} ({result['task']})"
    systems = [("model", {"accuracy": m["accuracy"], "macro_f1": m["macro_f1"], "official": m["official"]})] + [
        (f"baseline: {k}", v) for k, v in s["baselines"].items()
    ]
    f1s = {lab: v["f1"] for lab, v in m["per_class"].items()}
    f1s.update({f"baseline {k}": v["macro_f1"] for k, v in s["baselines"].items()})
    f1s["model macro-F1"] = m["macro_f1"]
    figs = [
        confusion_plot(m, f"{name}: confusion ({split})"),
        f1_plot(f1s, f"{name}: F1 per class, macro-F1 vs baselines"),
    ]
    if s["calibration"]["ece"] is not None:
        figs.append(reliability_plot(s["calibration"], "reliability"))
    wrong = sorted((r for r in rows if r["pred"] != r["gold"]), key=lambda r: -r["prob"])[:50]
    p = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>Evaluation report: {html.escape(name)}</title><style>{CSS}</style></head><body>",
        f"<h1>Evaluation report: {html.escape(name)}</h1>",
        f"<p>Model <code>{html.escape(result['model']['path'])}</code> "
        f"(version {html.escape(str(result['model']['version']))}, "
        f"base {html.escape(str(result['model']['base_model']))}, "
        f"trained in {_fmt(result['model'].get('train_seconds'))} s) "
        f"on <code>{html.escape(result['data']['path'])}</code> (data hash {result['data']['data_hash'][:12]}), "
        f"split <b>{html.escape(split)}</b>, {m['n']} examples. "
        f"Official measure: <b>{html.escape(str(measure))}</b>.</p>",
        "<h2>Model and baselines</h2><table><thead><tr><th>system</th><th>accuracy</th><th>macro-F1</th><th>"
        + html.escape(str(measure))
        + "</th></tr></thead><tbody>"
        + "".join(
            f"<tr><td>{html.escape(n)}</td><td>{_fmt(x['accuracy'])}</td><td>{_fmt(x['macro_f1'])}</td>"
            f"<td>{_fmt(x['official'])}</td></tr>"
            for n, x in systems
        )
        + "</tbody></table>",
        "<div class='figs'>" + "".join(f"<img alt='figure {i + 1}' src='{f}'>" for i, f in enumerate(figs)) + "</div>",
        "<h2>Per class</h2>" + _metric_table(m),
        f"<p>Expected calibration error {_fmt(s['calibration']['ece'])} "
        f"(temperature {_fmt(result['model']['temperature'])}, fitted on validation).</p>",
        "<h2>Per target</h2><table><thead><tr><th>target</th><th>n</th><th>accuracy</th><th>macro-F1</th><th>"
        + html.escape(str(measure))
        + "</th></tr></thead><tbody>"
        + "".join(
            f"<tr><td>{html.escape(t)}</td><td>{v['n']}</td><td>{_fmt(v['accuracy'])}</td>"
            f"<td>{_fmt(v['macro_f1'])}</td><td>{_fmt(v['official'])}</td></tr>"
            for t, v in s["per_target"].items()
        )
        + "</tbody></table>",
        f"<h2>Most confident errors ({len(wrong)})</h2><table class='passages'><thead><tr>"
        "<th>target</th><th>text</th><th>gold</th><th>predicted (p)</th></tr></thead><tbody>"
        + "".join(
            f"<tr class='bad'><td>{html.escape(r['target'][:80])}</td><td>{html.escape(r['text'][:300])}</td>"
            f"<td>{html.escape(r['gold'])}</td><td>{html.escape(r['pred'])} ({_fmt(r['prob'])})</td></tr>"
            for r in wrong
        )
        + "</tbody></table>",
        "</body></html>",
    ]
    md = [
        f"# Evaluation report: {name}",
        "",
        f"Split `{split}`, {m['n']} examples; official measure `{measure}`.",
        "",
        f"| system | accuracy | macro-F1 | {measure} |",
        "|---|---|---|---|",
    ]
    md += [f"| {n} | {_fmt(x['accuracy'])} | {_fmt(x['macro_f1'])} | {_fmt(x['official'])} |" for n, x in systems]
    md += ["", "| class | precision | recall | F1 | support |", "|---|---|---|---|---|"] + [
        f"| {lab} | {_fmt(v['precision'])} | {_fmt(v['recall'])} | {_fmt(v['f1'])} | {v['support']} |"
        for lab, v in m["per_class"].items()
    ]
    md += ["", "| target | n | macro-F1 | " + str(measure) + " |", "|---|---|---|---|"] + [
        f"| {t} | {v['n']} | {_fmt(v['macro_f1'])} | {_fmt(v['official'])} |" for t, v in s["per_target"].items()
    ]
    return "".join(p), "\n".join(md) + "\n"
