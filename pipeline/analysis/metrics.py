"""Metrics as pure functions: classification scores, calibration, temperature fitting."""

from __future__ import annotations

import numpy as np


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    z = np.asarray(logits, dtype=np.float64) / temperature
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def classification_metrics(y_true: list[str], y_pred: list[str], labels: list[str] | None = None) -> dict:
    """Accuracy, macro-F1, per-class precision/recall/F1 and the confusion matrix.

    Macro-F1 averages over ``labels`` (default: every label seen in gold or
    prediction), so a class never predicted counts as F1 = 0.
    """
    from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

    labels = labels or sorted(set(y_true) | set(y_pred), key=str)
    if not y_true:
        return {
            "n": 0,
            "accuracy": None,
            "macro_f1": None,
            "per_class": {},
            "confusion": {"labels": labels, "matrix": []},
        }
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0)
    cm = confusion_matrix(y_true, y_pred, labels=labels)
    present = [i for i, lab in enumerate(labels) if s[i] > 0 or lab in y_pred]
    return {
        "n": len(y_true),
        "accuracy": float(np.mean([a == b for a, b in zip(y_true, y_pred)])),
        "macro_f1": float(np.mean([f[i] for i in present])) if present else 0.0,
        "per_class": {
            lab: {"precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]), "support": int(s[i])}
            for i, lab in enumerate(labels)
        },
        "confusion": {"labels": labels, "matrix": cm.tolist()},
    }


def macro_f1(y_true: list, y_pred: list) -> float:
    """Macro-F1 over the labels seen in gold or prediction (as :func:`classification_metrics`), in numpy."""
    y, p = np.asarray(y_true, dtype=object), np.asarray(y_pred, dtype=object)
    labels = set(y.tolist()) | set(p.tolist())
    f1s = []
    for lab in labels:
        tp = float(np.sum((y == lab) & (p == lab)))
        fp = float(np.sum((y != lab) & (p == lab)))
        fn = float(np.sum((y == lab) & (p != lab)))
        f1s.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return float(np.mean(f1s)) if f1s else 0.0


def calibration(confidence: np.ndarray, correct: np.ndarray, bins: int = 10) -> dict:
    """Expected calibration error and the reliability-diagram bins."""
    confidence = np.asarray(confidence, dtype=float)
    correct = np.asarray(correct, dtype=float)
    edges = np.linspace(0, 1, bins + 1)
    out, ece = [], 0.0
    for lo, hi in zip(edges[:-1], edges[1:]):
        m = (confidence > lo) & (confidence <= hi) if lo > 0 else (confidence >= lo) & (confidence <= hi)
        if m.sum() == 0:
            out.append({"lo": float(lo), "hi": float(hi), "n": 0, "confidence": None, "accuracy": None})
            continue
        conf, acc = float(confidence[m].mean()), float(correct[m].mean())
        ece += m.sum() / len(confidence) * abs(conf - acc)
        out.append({"lo": float(lo), "hi": float(hi), "n": int(m.sum()), "confidence": conf, "accuracy": acc})
    return {"ece": float(ece) if len(confidence) else None, "bins": out}


def fit_temperature(logits: np.ndarray, labels: np.ndarray) -> float:
    """Temperature that minimises the negative log-likelihood on held-out logits."""
    from scipy.optimize import minimize_scalar

    logits = np.asarray(logits, dtype=np.float64)
    labels = np.asarray(labels, dtype=int)
    if len(labels) == 0:
        return 1.0

    def nll(log_t: float) -> float:
        p = softmax(logits, float(np.exp(log_t)))
        return float(-np.mean(np.log(p[np.arange(len(labels)), labels] + 1e-12)))

    res = minimize_scalar(nll, bounds=(np.log(0.05), np.log(20.0)), method="bounded")
    return float(np.exp(res.x))


FNC_RELATED = ("agree", "disagree", "discuss")


def fnc_score(y_true: list[str], y_pred: list[str]) -> float:
    """The FNC-1 relative score (official scorer): +0.25 for each correct
    related/unrelated decision, +0.75 more for each related pair with the
    right label; divided by the best possible score, as a percentage."""
    score = best = 0.0
    for g, p in zip(y_true, y_pred):
        best += 0.25 + (0.75 if g in FNC_RELATED else 0.0)
        if (g in FNC_RELATED) == (p in FNC_RELATED):
            score += 0.25
        if g in FNC_RELATED and g == p:
            score += 0.75
    return 100.0 * score / best if best else float("nan")


def semeval_f_avg(y_true: list[str], y_pred: list[str]) -> float:
    """SemEval-2016 Task 6's F_avg: the mean of F1(favor) and F1(against) over
    all examples pooled (NONE counts only through false positives/negatives)."""
    m = classification_metrics(y_true, y_pred, ["none", "favor", "against"])
    return (m["per_class"]["favor"]["f1"] + m["per_class"]["against"]["f1"]) / 2


def official_measure(name: str | None, y_true: list[str], y_pred: list[str]) -> float | None:
    """A benchmark's own measure by name (``semeval_f_avg``, ``fnc_score``, ``macro_f1``, ``accuracy``)."""
    if not name or not y_true:
        return None
    if name == "fnc_score":
        return fnc_score(y_true, y_pred)
    if name == "semeval_f_avg":
        return semeval_f_avg(y_true, y_pred)
    m = classification_metrics(y_true, y_pred)
    return m[name] if name in ("macro_f1", "accuracy") else None
