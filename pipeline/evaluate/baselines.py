"""Baselines for a commentary evaluation: the majority class and TF-IDF + logistic
regression, trained on the train split's (passage, side, task) examples, the
same inputs the model reads, and scored through the same per-side derivation
(:func:`pipeline.labels.passage_stance`, :func:`pipeline.labels.passage_credibility`)
and the same passage metrics as the model."""

from __future__ import annotations

import numpy as np

from pipeline.dispute import Dispute
from pipeline.evaluate.scores import example_metrics, gold_labels_of, is_gold_body, passage_metrics
from pipeline.labels import TASK_LABELS, passage_credibility, passage_stance

BASELINES = ("majority", "tfidf_logreg")


def baselines(
    train_rows: list[dict], eval_rows: list[dict], disputes: dict[str, Dispute], tasks: list[str], input_cfg: dict
) -> dict:
    """Majority class and TF-IDF + logistic regression, trained on the train split's
    examples and scored through the same per-side derivation as the model.

    Returns:
        ``{baseline: {metric: {"accuracy", "macro_f1"}}}`` for the passage
        metrics that have a macro-F1 (over role labels: ``side_favored``,
        ``credibility_judged``, ...), with ``by_side_name`` (the same over side
        names) and ``examples`` (per (passage, side) example, per task);
        ``{}`` when either split has no gold body passages.
    """
    train_rows = [r for r in train_rows if is_gold_body(r)]
    eval_rows = [r for r in eval_rows if is_gold_body(r)]
    Xtr, ytr, ktr = examples(train_rows, disputes, tasks, input_cfg)
    Xev, _, kev = examples(eval_rows, disputes, tasks, input_cfg)
    if not Xtr or not Xev:
        return {}
    vec, models = fit(Xtr, ytr, ktr, tasks)
    Aev = vec.transform(Xev)
    results = {}
    for name in BASELINES:
        probs_of = example_probs(name, models, Aev, kev, tasks)
        scored = [with_side_probs(r, disputes[r["dispute"]], probs_of, tasks) for r in eval_rows]
        pm = passage_metrics(scored, tasks, disputes)
        results[name] = {k: headline(v) for k, v in pm.items() if isinstance(v, dict) and "macro_f1" in v}
        names = pm.get("by_side_name", {})
        results[name]["by_side_name"] = {k: headline(v) for k, v in names.items() if "macro_f1" in v}
        results[name]["examples"] = {k: headline(v) for k, v in example_metrics(scored, disputes, tasks).items()}
    return results


def headline(m: dict) -> dict:
    return {"accuracy": m["accuracy"], "macro_f1": m["macro_f1"]}


def examples(
    rows: list[dict], disputes: dict[str, Dispute], tasks: list[str], input_cfg: dict
) -> tuple[list[str], np.ndarray, list[tuple]]:
    """Every (passage, task, side) input as one string, its gold slot, and its key ``(doc_id, index, task, side)``."""
    from pipeline.score.predictor import passage_inputs

    X, y, keys = [], [], []
    for d_name in sorted({r["dispute"] for r in rows}):
        d = disputes[d_name]
        drows = [r for r in rows if r["dispute"] == d_name]
        for i, task, side, text, pair in passage_inputs(drows, d, tasks, input_cfg):
            r = drows[i]
            gold = gold_labels_of(r, task, d) if r.get("has_gold") else {}
            X.append(f"{text} [SEP] {pair}")
            y.append(TASK_LABELS[task].index(gold[side]) if gold else -1)
            keys.append((r["doc_id"], r["index"], task, side))
    return X, np.array(y), keys


def fit(X: list[str], y: np.ndarray, keys: list[tuple], tasks: list[str]):
    """The TF-IDF vectoriser (over every task's examples) and, per task, the
    majority distribution and a logistic regression."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    task_of = np.array([k[2] for k in keys])
    vec = TfidfVectorizer(ngram_range=(1, 2), min_df=1, sublinear_tf=True, max_features=50000)
    A = vec.fit_transform(X)
    models = {}
    for task in tasks:
        m = task_of == task
        k = len(TASK_LABELS[task])
        counts = np.bincount(y[m], minlength=k).astype(float)
        majority = np.zeros(k)
        majority[int(counts.argmax())] = 1.0
        clf = LogisticRegression(max_iter=2000, class_weight="balanced", C=4.0)
        clf.fit(A[m], y[m])
        models[task] = (majority, clf)
    return vec, models


def example_probs(name: str, models: dict, A, keys: list[tuple], tasks: list[str]) -> dict[tuple, list[float]]:
    """One baseline's slot probabilities for every example, by key."""
    probs_of = {}
    for task in tasks:
        idx = [i for i, k in enumerate(keys) if k[2] == task]
        majority, clf = models[task]
        if name == "majority":
            P = np.tile(majority, (len(idx), 1))
        else:
            P = np.zeros((len(idx), len(TASK_LABELS[task])))
            P[:, clf.classes_] = clf.predict_proba(A[idx])
        for j, i in enumerate(idx):
            probs_of[keys[i]] = P[j].tolist()
    return probs_of


def with_side_probs(r: dict, dispute: Dispute, probs_of: dict[tuple, list[float]], tasks: list[str]) -> dict:
    """A copy of passage row ``r`` scored as the model scores it, from a baseline's per-side probabilities."""
    row = dict(r)
    row["side_probs"] = {t: {s: probs_of[(r["doc_id"], r["index"], t, s)] for s in dispute.side_names} for t in tasks}
    if "stance" in tasks:
        sp = passage_stance(dispute.side_names, row["side_probs"]["stance"])
        row["stance"] = max(sp, key=sp.get)
        row["stance_prob"] = sp[row["stance"]]
    if "credibility" in tasks:
        row["credibility"], row["credibility_prob"] = passage_credibility(
            dispute.side_names, row["side_probs"]["credibility"]
        )
    return row
