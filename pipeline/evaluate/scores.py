"""Scores of scored passage rows against gold: passage level (side favored,
credibility, source side, calibration, risk-coverage), per (passage, side)
example as the model was trained, and article verdicts.

The headline figures are over role labels, the same few labels in every
dispute: per (passage, side asked about) ``favor`` / ``against`` / ``none``
and ``credible`` / ``not_credible`` / ``none`` (the model's own examples);
per passage the side favored as ``side 1`` / ``side 2`` / ``neutral`` (the
sides in the order of the dispute config, ``side 3`` and on where a dispute has
more) and the credibility judgment as ``side 1:credible`` ... ``none``. The
same passage figures over side names (one class per side of every dispute)
are kept under ``by_side_name``, and per dispute, with the side names, under
``by_dispute``.

Pure functions of rows and disputes; :mod:`pipeline.evaluate.run` calls them
once per split.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence

import numpy as np

from pipeline.analysis.metrics import calibration, classification_metrics
from pipeline.analysis.verdicts import DEFAULT_RULE, VerdictRule, article_verdict
from pipeline.dispute import Dispute
from pipeline.labels import JUDGMENTS, NEUTRAL, TASK_LABELS, gold_target_labels, passage_source_side
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


# -- role labels ---------------------------------------------------------------------------


def side_label(side: str | None, sides: Sequence[str]) -> str | None:
    """The role label of a side favored (a side's name, or ``neutral``): ``side 1`` for the
    first side of the dispute config, ``side 2`` for the second, and so on; ``neutral`` stays;
    a name that is no side of the dispute is ``other``; None stays None."""
    if side is None or side == NEUTRAL:
        return side
    return f"side {list(sides).index(side) + 1}" if side in sides else "other"


def judgment_label(judgment: dict | None, sides: Sequence[str]) -> str:
    """The role label of a credibility judgment ``{side, judgment}``: ``side 1:credible``,
    ``side 2:not_credible``, ...; ``none`` for no judgment."""
    return f"{side_label(judgment['side'], sides)}:{judgment['judgment']}" if judgment else "none"


def role_order(labels) -> list[str]:
    """Role labels in reading order: ``side 1`` (its judgments credible, then not credible),
    ``side 2``, ..., then the rest (``neutral``, ``none``, ``other``) by name."""

    def key(lab):
        m = re.fullmatch(r"side (\d+)(?::(.+))?", lab) if isinstance(lab, str) else None
        if not m:
            return (1, 0, 0, str(lab))
        judged = JUDGMENTS.index(m.group(2)) + 1 if m.group(2) in JUDGMENTS else 0
        return (0, int(m.group(1)), judged, lab)

    return sorted(set(labels), key=key)


def side_favored_labels(n_sides: int, seen=()) -> list[str]:
    """The side-favored role labels of disputes with up to ``n_sides`` sides, and any other label ``seen``."""
    return role_order([f"side {i + 1}" for i in range(n_sides)] + [NEUTRAL, *seen])


def judgment_labels(n_sides: int, seen=()) -> list[str]:
    """The credibility-judgment role labels of disputes with up to ``n_sides`` sides, and any other label ``seen``."""
    return role_order([f"side {i + 1}:{j}" for i in range(n_sides) for j in JUDGMENTS] + ["none", *seen])


def side_labels(r: dict, dispute: Dispute) -> dict:
    """A scored passage row's role labels, predicted and (for a gold body passage) gold.

    ``sides``: the dispute's sides in config order (``side 1`` is the first);
    ``side_favored`` / ``gold_side_favored``: ``side 1``, ``side 2``, ... or
    ``neutral``; ``credibility_judged`` / ``gold_credibility_judged``:
    ``side 1:credible`` ... or ``none``; ``per_side``: per task the model
    answered, ``{"gold": [...], "pred": [...]}`` with one label per side (in
    ``sides`` order) as the model was trained (``favor`` / ``against`` /
    ``none``, ...), ``gold`` None without gold for that task.
    """
    sides = dispute.side_names
    gold = is_gold_body(r)
    per_side = {}
    for task, probs in (r.get("side_probs") or {}).items():
        has = gold and (task != "source_side" or bool(r.get("gold_source")))
        g = gold_labels_of(r, task, dispute) if has else None
        per_side[task] = {
            "gold": [g[s] for s in sides] if g else None,
            "pred": [TASK_LABELS[task][int(np.argmax(probs[s]))] for s in sides],
        }
    return {
        "sides": sides,
        "side_favored": side_label(r.get("stance"), sides),
        "gold_side_favored": side_label(r.get("gold_stance"), sides) if gold else None,
        "credibility_judged": judgment_label(r.get("credibility"), sides),
        "gold_credibility_judged": judgment_label(gold_credibility_dict(r), sides) if gold else None,
        "per_side": per_side,
    }


def _with_seen(labels: list[str], *lists: list) -> list[str]:
    return labels + sorted({x for xs in lists for x in xs} - set(labels), key=str)


# -- passage level -------------------------------------------------------------------------


def passage_metrics(scored: list[dict], tasks: list[str], disputes: dict[str, Dispute]) -> dict:
    """Passage-level scores: side favored and credibility judgment over role labels (and over
    side names, pooled and per dispute), source side, calibration."""
    rows = [{**r, **side_labels(r, disputes[r["dispute"]])} for r in scored if is_gold_body(r) and r.get("side_probs")]
    out: dict = {"n": len(rows)}
    if not rows:
        return out
    n_sides = max(len(disputes[r["dispute"]].side_names) for r in rows)
    by_name: dict = {}
    if "stance" in tasks:
        out.update(stance_metrics(rows, n_sides))
        by_name.update(stance_name_metrics(rows))
    if "source_side" in tasks:
        out.update(source_side_metrics(rows))
    if "credibility" in tasks:
        out.update(credibility_metrics(rows, n_sides))
        by_name.update(credibility_name_metrics(rows))
    if by_name:
        out["by_side_name"] = by_name
        out["by_dispute"] = dispute_tables(rows, disputes, tasks)
    return out


def stance_metrics(rows: list[dict], n_sides: int = 2) -> dict:
    """Side favored over role labels (``side 1`` / ``side 2`` / ``neutral``): overall, on
    high-confidence gold, by voice, calibration and risk-coverage. ``rows`` carry
    :func:`side_labels`."""

    def scores(rs: list[dict]) -> dict:
        y, yhat = [r["gold_side_favored"] for r in rs], [r["side_favored"] for r in rs]
        return classification_metrics(y, yhat, side_favored_labels(n_sides, set(y) | set(yhat)))

    out: dict = {"side_favored": scores(rows)}
    out["side_favored_high_confidence"] = scores([r for r in rows if r.get("gold_confidence") == "high"])
    conf = np.array([r["stance_prob"] for r in rows])
    correct = np.array([r["stance"] == r["gold_stance"] for r in rows])
    out["stance_calibration"] = calibration(conf, correct)
    out["side_favored_by_voice"] = {k: scores(v) for k, v in by_voice(rows).items()}
    out["stance_risk_coverage"] = risk_coverage(rows, gold="gold_side_favored", pred="side_favored")
    return out


def by_voice(rows: list[dict]) -> dict[str, list[dict]]:
    out = defaultdict(list)
    for r in rows:
        out["author" if r["gold_source"] == "author" else "attributed"].append(r)
    return out


def stance_name_metrics(rows: list[dict]) -> dict:
    """Side favored over side names (one class per side of every dispute, and ``neutral``):
    the measure before role labels, kept under ``by_side_name``."""

    def scores(rs: list[dict]) -> dict:
        return classification_metrics([r["gold_stance"] for r in rs], [r["stance"] for r in rs])

    return {
        "stance": scores(rows),
        "stance_high_confidence": scores([r for r in rows if r.get("gold_confidence") == "high"]),
        "stance_by_voice": {k: scores(v) for k, v in by_voice(rows).items()},
    }


def credibility_metrics(rows: list[dict], n_sides: int = 2) -> dict:
    """Credibility judgments over role labels (``side 1:credible`` ... ``none``): with and without
    the explicit-cue fallback, and detection (judged or not). ``rows`` carry :func:`side_labels`."""
    gold = [r["gold_credibility_judged"] for r in rows]
    pred = [r["credibility_judged"] for r in rows]
    model_only = [p if r.get("credibility_by") != "cue" else "none" for r, p in zip(rows, pred)]
    labels = judgment_labels(n_sides, set(gold) | set(pred))
    return {
        "credibility_judged": classification_metrics(gold, pred, labels),
        "credibility_judged_model_only": classification_metrics(gold, model_only, labels),
        "credibility_cue_fallbacks": {
            "n": sum(r.get("credibility_by") == "cue" for r in rows),
            "right": sum(r.get("credibility_by") == "cue" and p == g for r, p, g in zip(rows, pred, gold)),
        },
        "credibility_detection": classification_metrics(
            ["judged" if g != "none" else "none" for g in gold], ["judged" if p != "none" else "none" for p in pred]
        ),
    }


def credibility_name_metrics(rows: list[dict]) -> dict:
    """Credibility judgments over side names (``COUNCIL:not_credible``, ...): the measure before
    role labels, kept under ``by_side_name``."""
    gold = [gold_credibility(r) for r in rows]
    pred = [pred_credibility(r) for r in rows]
    model_only = [p if r.get("credibility_by") != "cue" else "none" for r, p in zip(rows, pred)]
    return {
        "credibility": classification_metrics(gold, pred),
        "credibility_model_only": classification_metrics(gold, model_only),
    }


def dispute_tables(rows: list[dict], disputes: dict[str, Dispute], tasks: list[str]) -> dict:
    """Per dispute, with its side names: which name each role label stands for, and side favored
    and credibility judgment over the dispute's own side names (small tables, one per dispute)."""
    out = {}
    for name, d in disputes.items():
        drows = [r for r in rows if r["dispute"] == name]
        if not drows:
            continue
        sides = d.side_names
        t: dict = {"sides": {side_label(s, sides): s for s in sides}, "n": len(drows)}
        if "stance" in tasks:
            y, yhat = [r["gold_stance"] for r in drows], [r["stance"] for r in drows]
            t["side_favored"] = classification_metrics(y, yhat, _with_seen([*sides, NEUTRAL], y, yhat))
        if "credibility" in tasks:
            y, yhat = [gold_credibility(r) for r in drows], [pred_credibility(r) for r in drows]
            labels = [f"{s}:{j}" for s in sides for j in JUDGMENTS] + ["none"]
            t["credibility"] = classification_metrics(y, yhat, _with_seen(labels, y, yhat))
        out[name] = t
    return out


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


def risk_coverage(
    rows: list[dict], thresholds=(0.4, 0.5, 0.6, 0.7, 0.8, 0.9), gold: str = "gold_stance", pred: str = "stance"
) -> list[dict]:
    """Side-favored accuracy on the passages kept at each abstain threshold, and the share kept
    (pick ``train.abstain_threshold`` from this); labels read from the rows' ``gold`` and ``pred`` keys."""
    out = []
    for t in thresholds:
        kept = [r for r in rows if r["stance_prob"] >= t]
        m = classification_metrics([r[gold] for r in kept], [r[pred] for r in kept])
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
    """Per (passage, side asked about) example scores for each task, as the model was trained:
    role labels (``favor`` / ``against`` / ``none``, ``credible`` / ``not_credible`` / ``none``),
    the prediction being the most likely of the model's own per-side labels."""
    y: dict[str, list[str]] = {t: [] for t in tasks}
    yhat: dict[str, list[str]] = {t: [] for t in tasks}
    for r in scored:
        if not is_gold_body(r) or not r.get("side_probs"):
            continue
        for task, labels in side_labels(r, disputes[r["dispute"]])["per_side"].items():
            if task in y and labels["gold"] is not None:
                y[task] += labels["gold"]
                yhat[task] += labels["pred"]
    return {task: classification_metrics(y[task], yhat[task], TASK_LABELS[task]) for task in tasks}


def article_metrics(
    scored: list[dict], disputes: dict[str, Dispute], answers: dict, rule: VerdictRule | None = None
) -> tuple[list[dict], dict]:
    """Each article's verdict (by the model's verdict ``rule``, with its confidence and gold answers) and
    the verdicts' accuracy: overall, on neutral reports (gold ``neutral``: is the verdict neutral?) and on
    side-taking articles (is it the right side?), and how well the confidences match the accuracy."""
    by_doc = defaultdict(list)
    for r in scored:
        by_doc[r["doc_id"]].append(r)
    verdicts = []
    for doc_id, rows in by_doc.items():
        v = article_verdict(rows, disputes[rows[0]["dispute"]].side_names, rule)
        v["dispute"] = rows[0]["dispute"]
        gold = answers.get(doc_id) or {}
        v["gold_author_favors"] = gold.get("author_favors")
        v["gold_more_credible"] = gold.get("more_credible")
        verdicts.append(v)
    judged = [v for v in verdicts if v["gold_author_favors"] is not None]
    cred = [v for v in verdicts if "more_credible" in (answers.get(v["doc_id"]) or {})]
    neutral = [v for v in judged if v["gold_author_favors"] == NEUTRAL]
    siding = [v for v in judged if v["gold_author_favors"] != NEUTRAL]
    mean = lambda xs: float(np.mean(xs)) if xs else None  # noqa: E731
    right = lambda v: v["author_favors"] == v["gold_author_favors"]  # noqa: E731
    summary = {
        "n": len(verdicts),
        "author_favors_accuracy": mean([right(v) for v in judged]),
        "more_credible_accuracy": mean([v["more_credible"] == v["gold_more_credible"] for v in cred]),
        "n_with_gold": len(judged),
        "neutral_reports": {"n": len(neutral), "judged_neutral": mean([right(v) for v in neutral])},
        "side_taking": {"n": len(siding), "right_side": mean([right(v) for v in siding])},
        "confidence": {
            "author_favors_mean": mean([v["author_favors_confidence"] for v in judged]),
            "author_favors_accuracy": mean([right(v) for v in judged]),
            "more_credible_mean": mean([v["more_credible_confidence"] for v in cred]),
            "more_credible_accuracy": mean([v["more_credible"] == v["gold_more_credible"] for v in cred]),
        },
        "verdict_rule": (rule or DEFAULT_RULE).to_dict(),
    }
    return verdicts, summary
