"""Scores of scored passage rows against gold: passage level (side favored,
credibility, source side, calibration, risk-coverage), per (passage, side)
example as the model was trained, and article verdicts.

Pure functions of rows and disputes; :mod:`pipeline.evaluate.run` calls them
once per split.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from pipeline.analysis.metrics import calibration, classification_metrics
from pipeline.analysis.verdicts import article_verdict
from pipeline.dispute import Dispute
from pipeline.labels import TASK_LABELS, gold_target_labels, passage_source_side
from pipeline.score.source_model import DEFAULT_THRESHOLD


def gold_credibility_dict(r: dict) -> dict | None:
    """A passage row's gold credibility as ``{side, judgment}``, or None."""
    return (
        {"side": r["gold_credibility_side"], "judgment": r["gold_credibility_judgment"]}
        if r.get("gold_credibility_side")
        else None
    )


def gold_credibility(r: dict) -> str:
    return (
        f"{r['gold_credibility_side']}:{r['gold_credibility_judgment']}" if r.get("gold_credibility_side") else "none"
    )


def pred_credibility(r: dict) -> str:
    c = r.get("credibility")
    return f"{c['side']}:{c['judgment']}" if c else "none"


def is_gold_body(r: dict) -> bool:
    """A body passage with gold labels given as body (not re-roled by the annotator)."""
    return r["role"] == "body" and bool(r.get("has_gold")) and r.get("gold_role") in (None, "body")


def passage_metrics(scored: list[dict], tasks: list[str]) -> dict:
    """Passage-level scores: side favored, credibility, per-side examples, calibration."""
    rows = [r for r in scored if is_gold_body(r) and r.get("side_probs")]
    out: dict = {"n": len(rows)}
    if not rows:
        return out
    if "stance" in tasks:
        out.update(stance_metrics(rows))
    if "source_side" in tasks:
        out.update(source_side_metrics(rows))
    if "credibility" in tasks:
        out.update(credibility_metrics(rows))
    return out


def stance_metrics(rows: list[dict]) -> dict:
    """Side favored: overall, on high-confidence gold, by voice, calibration and risk-coverage."""
    out: dict = {"stance": classification_metrics([r["gold_stance"] for r in rows], [r["stance"] for r in rows])}
    high = [r for r in rows if r.get("gold_confidence") == "high"]
    out["stance_high_confidence"] = classification_metrics(
        [r["gold_stance"] for r in high], [r["stance"] for r in high]
    )
    conf = np.array([r["stance_prob"] for r in rows])
    correct = np.array([r["stance"] == r["gold_stance"] for r in rows])
    out["stance_calibration"] = calibration(conf, correct)
    by_source = defaultdict(list)
    for r in rows:
        by_source["author" if r["gold_source"] == "author" else "attributed"].append(r)
    out["stance_by_voice"] = {
        k: classification_metrics([r["gold_stance"] for r in v], [r["stance"] for r in v]) for k, v in by_source.items()
    }
    out["stance_risk_coverage"] = risk_coverage(rows)
    return out


def credibility_metrics(rows: list[dict]) -> dict:
    """Credibility judgments: with and without the explicit-cue fallback, and detection (judged or not)."""
    gold = [gold_credibility(r) for r in rows]
    pred = [pred_credibility(r) for r in rows]
    model_only = [p if r.get("credibility_by") != "cue" else "none" for r, p in zip(rows, pred)]
    return {
        "credibility": classification_metrics(gold, pred),
        "credibility_model_only": classification_metrics(gold, model_only),
        "credibility_cue_fallbacks": {
            "n": sum(r.get("credibility_by") == "cue" for r in rows),
            "right": sum(r.get("credibility_by") == "cue" and p == g for r, p, g in zip(rows, pred, gold)),
        },
        "credibility_detection": classification_metrics(
            ["judged" if g != "none" else "none" for g in gold], ["judged" if p != "none" else "none" for p in pred]
        ),
    }


def gold_source_side(r: dict) -> str:
    return "author" if r.get("gold_source") in (None, "author") else (r.get("gold_source_side") or "other")


def rule_source_side(r: dict) -> str:
    return "author" if r.get("source") in (None, "author") else (r.get("source_side") or "other")


def source_side_metrics(rows: list[dict], threshold: float = DEFAULT_THRESHOLD) -> dict:
    """Source side (author / a side / other) of the classifier, of the rules, and
    of both combined as scoring combines them: the classifier's side where the
    rules abstain (find no source) and the classifier is at least ``threshold`` sure."""
    rows = [r for r in rows if r.get("gold_source") and "source_side" in (r.get("side_probs") or {})]
    if not rows:
        return {}
    from pipeline.score.source_model import combine_source

    gold = [gold_source_side(r) for r in rows]
    rules = [rule_source_side(r) for r in rows]
    predicted = [
        passage_source_side(list(r["side_probs"]["source_side"]), r["side_probs"]["source_side"]) for r in rows
    ]
    model = [side for side, _ in predicted]

    def combined(t: float) -> list[str]:
        return [combine_source(r, side, p, t)[1] or "author" for r, (side, p) in zip(rows, predicted)]

    hybrid = combined(threshold)
    abstained = [i for i, r in enumerate(rows) if rules[i] == "author"]
    sweep = []
    for t in (0.5, 0.6, 0.7, 0.8, 0.9):
        comb = combined(t)
        sweep.append(
            {
                "threshold": t,
                "accuracy": float(np.mean([g == c for g, c in zip(gold, comb)])),
                "reattributed": sum(comb[i] != "author" for i in abstained),
            }
        )
    return {
        "source_side_threshold_sweep": sweep,
        "source_side": classification_metrics(gold, model),
        "source_side_rules": classification_metrics(gold, rules),
        "source_side_rules_then_model": classification_metrics(gold, hybrid),
        "source_side_where_rules_abstain": {
            "n": len(abstained),
            "gold_attributed": sum(gold[i] != "author" for i in abstained),
            "rules_accuracy": float(np.mean([gold[i] == "author" for i in abstained])) if abstained else None,
            "combined_accuracy": float(np.mean([gold[i] == hybrid[i] for i in abstained])) if abstained else None,
            "threshold": threshold,
        },
    }


def risk_coverage(rows: list[dict], thresholds=(0.4, 0.5, 0.6, 0.7, 0.8, 0.9)) -> list[dict]:
    """Side-favored accuracy on the passages kept at each abstain threshold, and the share kept
    (pick ``train.abstain_threshold`` from this)."""
    out = []
    for t in thresholds:
        kept = [r for r in rows if r["stance_prob"] >= t]
        m = classification_metrics([r["gold_stance"] for r in kept], [r["stance"] for r in kept])
        out.append(
            {
                "threshold": t,
                "coverage": len(kept) / len(rows),
                "accuracy": m["accuracy"],
                "macro_f1": m["macro_f1"],
                "n": len(kept),
            }
        )
    return out


def gold_labels_of(r: dict, task: str, dispute: Dispute) -> dict[str, str]:
    """A passage row's per-side gold labels for ``task``, as the model was trained on them."""
    return gold_target_labels(
        task,
        dispute.side_names,
        r["gold_stance"],
        gold_credibility_dict(r),
        r.get("gold_source"),
        r.get("gold_source_side"),
    )


def example_metrics(scored: list[dict], disputes: dict[str, Dispute], tasks: list[str]) -> dict:
    """Per (passage, side) example scores for each task, as the model was trained."""
    out = {}
    for task in tasks:
        y, yhat = [], []
        for r in scored:
            if not is_gold_body(r) or not r.get("side_probs"):
                continue
            if task == "source_side" and not r.get("gold_source"):
                continue
            gold = gold_labels_of(r, task, disputes[r["dispute"]])
            for side, probs in r["side_probs"][task].items():
                y.append(gold[side])
                yhat.append(TASK_LABELS[task][int(np.argmax(probs))])
        out[task] = classification_metrics(y, yhat, TASK_LABELS[task])
    return out


def article_metrics(scored: list[dict], disputes: dict[str, Dispute], answers: dict) -> tuple[list[dict], dict]:
    """Each article's verdict (with its gold answers) and the verdicts' accuracy."""
    by_doc = defaultdict(list)
    for r in scored:
        by_doc[r["doc_id"]].append(r)
    verdicts = []
    for doc_id, rows in by_doc.items():
        v = article_verdict(rows, disputes[rows[0]["dispute"]].side_names)
        v["dispute"] = rows[0]["dispute"]
        gold = answers.get(doc_id) or {}
        v["gold_author_favors"] = gold.get("author_favors")
        v["gold_more_credible"] = gold.get("more_credible")
        verdicts.append(v)
    judged = [v for v in verdicts if v["gold_author_favors"] is not None]
    cred = [v for v in verdicts if "more_credible" in (answers.get(v["doc_id"]) or {})]
    summary = {
        "n": len(verdicts),
        "author_favors_accuracy": float(np.mean([v["author_favors"] == v["gold_author_favors"] for v in judged]))
        if judged
        else None,
        "more_credible_accuracy": float(np.mean([v["more_credible"] == v["gold_more_credible"] for v in cred]))
        if cred
        else None,
        "n_with_gold": len(judged),
    }
    return verdicts, summary
