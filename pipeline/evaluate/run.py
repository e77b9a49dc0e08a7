"""``stance evaluate``: metrics, baselines, calibration, verdicts and a side-swap audit.

Writes a report folder: ``metrics.json`` (stable keys, ``format_version``),
``predictions.jsonl`` (one row per scored body passage, read by ``stance
compare``), ``report.html`` (self-contained, inline plots) and ``report.md``.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

from pipeline.analysis.metrics import calibration, classification_metrics
from pipeline.analysis.verdicts import article_verdict
from pipeline.contracts import (
    REPORT_FORMAT,
    dispute_paths,
    model_summary,
    read_article_answers,
    read_manifest,
    report_dir_of,
    write_report,
)
from pipeline.dispute import Dispute, load_dispute
from pipeline.errors import DataError
from pipeline.labels import (
    TASK_LABELS,
    passage_credibility,
    passage_source_side,
    passage_stance,
)
from pipeline.score.source_model import DEFAULT_THRESHOLD

log = logging.getLogger(__name__)

FIXED_SPLITS = ("train", "validation", "test", "unlabelled")


def gold_credibility_dict(r: dict) -> dict | None:
    """A passage row's gold credibility as ``{side, judgment}``, or None."""
    return {"side": r["gold_credibility_side"], "judgment": r["gold_credibility_judgment"]} if r.get("gold_credibility_side") else None


def gold_credibility(r: dict) -> str:
    return f"{r['gold_credibility_side']}:{r['gold_credibility_judgment']}" if r.get("gold_credibility_side") else "none"


def pred_credibility(r: dict) -> str:
    c = r.get("credibility")
    return f"{c['side']}:{c['judgment']}" if c else "none"


def passage_metrics(scored: list[dict], tasks: list[str]) -> dict:
    """Passage-level scores: side favored, credibility, per-side examples, calibration."""
    rows = [r for r in scored if r["role"] == "body" and r.get("has_gold") and r.get("gold_role") in (None, "body") and r.get("side_probs")]
    out: dict = {"n": len(rows)}
    if not rows:
        return out
    if "stance" in tasks:
        out["stance"] = classification_metrics([r["gold_stance"] for r in rows], [r["stance"] for r in rows])
        high = [r for r in rows if r.get("gold_confidence") == "high"]
        out["stance_high_confidence"] = classification_metrics([r["gold_stance"] for r in high], [r["stance"] for r in high])
        conf = np.array([r["stance_prob"] for r in rows])
        correct = np.array([r["stance"] == r["gold_stance"] for r in rows])
        out["stance_calibration"] = calibration(conf, correct)
        by_source = defaultdict(list)
        for r in rows:
            by_source["author" if r["gold_source"] == "author" else "attributed"].append(r)
        out["stance_by_voice"] = {k: classification_metrics([r["gold_stance"] for r in v], [r["stance"] for r in v]) for k, v in by_source.items()}
        out["stance_risk_coverage"] = risk_coverage(rows)
    if "source_side" in tasks:
        out.update(source_side_metrics(rows))
    if "credibility" in tasks:
        out["credibility"] = classification_metrics([gold_credibility(r) for r in rows], [pred_credibility(r) for r in rows])
        model_only = [pred_credibility(r) if r.get("credibility_by") != "cue" else "none" for r in rows]
        out["credibility_model_only"] = classification_metrics([gold_credibility(r) for r in rows], model_only)
        out["credibility_cue_fallbacks"] = {"n": sum(r.get("credibility_by") == "cue" for r in rows), "right": sum(r.get("credibility_by") == "cue" and pred_credibility(r) == gold_credibility(r) for r in rows)}
        g = [gold_credibility(r) != "none" for r in rows]
        p = [pred_credibility(r) != "none" for r in rows]
        out["credibility_detection"] = classification_metrics(["judged" if x else "none" for x in g], ["judged" if x else "none" for x in p])
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
    predicted = [passage_source_side(list(r["side_probs"]["source_side"]), r["side_probs"]["source_side"]) for r in rows]
    model = [side for side, _ in predicted]
    combined = lambda t: [combine_source(r, side, p, t)[1] or "author" for r, (side, p) in zip(rows, predicted)]
    hybrid = combined(threshold)
    abstained = [i for i, r in enumerate(rows) if rules[i] == "author"]
    sweep = []
    for t in (0.5, 0.6, 0.7, 0.8, 0.9):
        comb = combined(t)
        sweep.append({"threshold": t, "accuracy": float(np.mean([g == c for g, c in zip(gold, comb)])), "reattributed": sum(comb[i] != "author" for i in abstained)})
    return {
        "source_side_threshold_sweep": sweep,
        "source_side": classification_metrics(gold, model),
        "source_side_rules": classification_metrics(gold, rules),
        "source_side_rules_then_model": classification_metrics(gold, hybrid),
        "source_side_where_rules_abstain": {"n": len(abstained), "gold_attributed": sum(gold[i] != "author" for i in abstained),
                                            "rules_accuracy": float(np.mean([gold[i] == "author" for i in abstained])) if abstained else None,
                                            "combined_accuracy": float(np.mean([gold[i] == hybrid[i] for i in abstained])) if abstained else None,
                                            "threshold": threshold},
    }


def risk_coverage(rows: list[dict], thresholds=(0.4, 0.5, 0.6, 0.7, 0.8, 0.9)) -> list[dict]:
    """Side-favored accuracy on the passages kept at each abstain threshold, and the share kept
    (pick ``train.abstain_threshold`` from this)."""
    out = []
    for t in thresholds:
        kept = [r for r in rows if r["stance_prob"] >= t]
        m = classification_metrics([r["gold_stance"] for r in kept], [r["stance"] for r in kept])
        out.append({"threshold": t, "coverage": len(kept) / len(rows), "accuracy": m["accuracy"], "macro_f1": m["macro_f1"], "n": len(kept)})
    return out


def example_metrics(scored: list[dict], disputes: dict[str, Dispute], tasks: list[str]) -> dict:
    """Per (passage, side) example scores for each task, as the model was trained."""
    from pipeline.labels import gold_target_labels

    out = {}
    for task in tasks:
        y, yhat = [], []
        for r in scored:
            if r["role"] != "body" or not r.get("has_gold") or r.get("gold_role") not in (None, "body") or not r.get("side_probs"):
                continue
            cred = gold_credibility_dict(r)
            if task == "source_side" and not r.get("gold_source"):
                continue
            gold = gold_target_labels(task, disputes[r["dispute"]].side_names, r["gold_stance"], cred, r.get("gold_source"), r.get("gold_source_side"))
            for side, probs in r["side_probs"][task].items():
                y.append(gold[side])
                yhat.append(TASK_LABELS[task][int(np.argmax(probs))])
        out[task] = classification_metrics(y, yhat, TASK_LABELS[task])
    return out


def article_metrics(scored: list[dict], disputes: dict[str, Dispute], answers: dict) -> tuple[list[dict], dict]:
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
        "author_favors_accuracy": float(np.mean([v["author_favors"] == v["gold_author_favors"] for v in judged])) if judged else None,
        "more_credible_accuracy": float(np.mean([v["more_credible"] == v["gold_more_credible"] for v in cred])) if cred else None,
        "n_with_gold": len(judged),
    }
    return verdicts, summary


def baselines(train_rows: list[dict], eval_rows: list[dict], disputes: dict[str, Dispute], tasks: list[str], input_cfg: dict) -> dict:
    """Majority class and TF-IDF + logistic regression, trained on the train split's
    examples and scored through the same per-side derivation as the model."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    from pipeline.labels import gold_target_labels
    from pipeline.score.predictor import passage_inputs

    def examples(rows):
        X, y, keys = [], [], []
        for d_name in sorted({r["dispute"] for r in rows}):
            d = disputes[d_name]
            drows = [r for r in rows if r["dispute"] == d_name]
            for i, task, side, text, pair in passage_inputs(drows, d, tasks, input_cfg):
                r = drows[i]
                cred = gold_credibility_dict(r)
                gold = gold_target_labels(task, d.side_names, r["gold_stance"], cred, r.get("gold_source"), r.get("gold_source_side")) if r.get("has_gold") else {}
                X.append(f"{text} [SEP] {pair}")
                y.append(TASK_LABELS[task].index(gold[side]) if gold else -1)
                keys.append((r["doc_id"], r["index"], task, side))
        return X, np.array(y), keys

    labelled = lambda rows: [r for r in rows if r["role"] == "body" and r.get("has_gold") and r.get("gold_role") in (None, "body")]
    Xtr, ytr, ktr = examples(labelled(train_rows))
    Xev, _, kev = examples(labelled(eval_rows))
    if not Xtr or not Xev:
        return {}
    task_tr = np.array([k[2] for k in ktr])
    vec = TfidfVectorizer(ngram_range=(1, 2), min_df=1, sublinear_tf=True, max_features=50000)
    Atr, Aev = vec.fit_transform(Xtr), vec.transform(Xev)
    models = {}
    for task in tasks:
        m = task_tr == task
        k = len(TASK_LABELS[task])
        counts = np.bincount(ytr[m], minlength=k).astype(float)
        majority = np.zeros(k)
        majority[int(counts.argmax())] = 1.0
        clf = LogisticRegression(max_iter=2000, class_weight="balanced", C=4.0)
        clf.fit(Atr[m], ytr[m])
        models[task] = (majority, clf)
    results = {}
    for name in ("majority", "tfidf_logreg"):
        probs_of = {}
        for task in tasks:
            idx = [i for i, k in enumerate(kev) if k[2] == task]
            if name == "majority":
                P = np.tile(models[task][0], (len(idx), 1))
            else:
                clf = models[task][1]
                P = np.zeros((len(idx), len(TASK_LABELS[task])))
                P[:, clf.classes_] = clf.predict_proba(Aev[idx])
            for j, i in enumerate(idx):
                probs_of[kev[i]] = P[j].tolist()
        scored = []
        for r in labelled(eval_rows):
            d = disputes[r["dispute"]]
            row = dict(r)
            row["side_probs"] = {t: {s: probs_of[(r["doc_id"], r["index"], t, s)] for s in d.side_names} for t in tasks}
            if "stance" in tasks:
                sp = passage_stance(d.side_names, row["side_probs"]["stance"])
                row["stance"] = max(sp, key=sp.get)
                row["stance_prob"] = sp[row["stance"]]
            if "credibility" in tasks:
                row["credibility"], row["credibility_prob"] = passage_credibility(d.side_names, row["side_probs"]["credibility"])
            scored.append(row)
        pm = passage_metrics(scored, tasks)
        results[name] = {k: {"accuracy": v["accuracy"], "macro_f1": v["macro_f1"]} for k, v in pm.items() if isinstance(v, dict) and "macro_f1" in v}
    return results


def side_swap_audit(predictor, scored: list[dict], disputes: dict[str, Dispute]) -> dict:
    """Swap the first two sides' names and aliases; a fair model's predictions swap too.

    ``scored`` are the passage rows as :func:`score_passages` returned them
    under the real dispute (the original predictions). Attribution is
    recomputed under the swapped dispute, so a quoted actor's side swaps with
    it. Returns the share of body passages whose swapped prediction equals the
    swap of the original prediction.
    """
    from pipeline.score.predictor import score_passages
    from pipeline.text.attribution import attribute_passages

    agree, total = 0, 0
    for name, d in disputes.items():
        original = [r for r in scored if r["dispute"] == name]
        if len(d.side_names) < 2 or not original:
            continue
        a, b = d.side_names[:2]
        swap = {a: b, b: a}
        sd = d.swapped()
        swapped_rows = []
        by_doc = defaultdict(list)
        for r in original:
            by_doc[r["doc_id"]].append(dict(r))
        for doc_rows in by_doc.values():
            body = [r for r in doc_rows if r["role"] == "body"]
            for r, att in zip(body, attribute_passages([r["text"] for r in body], [r["paragraph"] for r in body], sd)):
                r.update(source=att.source, source_side=att.source_side, cue=att.cue, form=att.form)
            swapped_rows.extend(doc_rows)
        swapped = score_passages(predictor, swapped_rows, sd)
        for o, s in zip(original, swapped):
            if o["role"] != "body" or o["stance"] is None:
                continue
            total += 1
            agree += s["stance"] == swap.get(o["stance"], o["stance"])
    return {"consistency": agree / total if total else None, "n": total}


def load_dataset_folder(data_dir: str | Path) -> tuple[dict, dict[str, Dispute], dict]:
    """The manifest, the disputes and the gold article answers of a dataset folder."""
    manifest = read_manifest(data_dir, "run `stance build` or fix --data")
    disputes = {name: load_dispute(path) for name, path in dispute_paths(data_dir, manifest).items()}
    return manifest, disputes, read_article_answers(data_dir)


def evaluate(model_dir: str | Path, data_dir: str | Path, output: str | Path | None = None, split: str = "test", batch_size: int = 64, command: str = "") -> Path:
    """Evaluate a model folder on a dataset folder and write the report folder.

    The requested split is the primary one (its scores fill ``summary``);
    extra held-out splits in the dataset (e.g. ``seed``) are reported too.

    Raises:
        ModelError: the folder has no label map.
        DataError: the data has tasks the model does not know, or no such split.
    """
    from datasets import load_from_disk

    from pipeline.contracts import read_label_map
    from pipeline.score.predictor import Predictor, score_passages

    label_map = read_label_map(model_dir)
    manifest, disputes, answers = load_dataset_folder(data_dir)
    if manifest.get("kind") == "benchmark" or label_map.get("kind") == "benchmark":
        if manifest.get("kind") != "benchmark":
            raise DataError(f"{data_dir}: commentary data, but {model_dir} was trained on the {label_map.get('benchmark')} benchmark; evaluate a model trained on commentary")
        from pipeline.evaluate.benchmark import evaluate_benchmark

        return evaluate_benchmark(model_dir, data_dir, manifest, label_map, output, split, batch_size, command)
    unknown = [t for t in manifest["tasks"] if t not in label_map["tasks"]]
    if unknown:
        raise DataError(f"{data_dir}: has '{unknown[0]}' labels the model {model_dir} does not know (it knows {', '.join(label_map['tasks'])}); evaluate a model trained on that task")
    for t in manifest["tasks"]:
        if manifest["task_labels"][t] != label_map["tasks"][t]:
            raise DataError(f"{data_dir}: labels for {t} are {manifest['task_labels'][t]}, the model's are {label_map['tasks'][t]}; rebuild the data or retrain")
    passages = load_from_disk(str(Path(data_dir) / "passages"))
    if split not in passages:
        raise DataError(f"{data_dir}: no '{split}' split (it has {', '.join(passages)}); pass --split with one of those")
    tasks = [t for t in manifest["tasks"] if t in label_map["tasks"]]
    out = Path(output) if output else report_dir_of(model_dir)
    t0 = time.time()
    predictor = Predictor(model_dir, batch_size=batch_size)
    train_rows = passages["train"].to_list() if "train" in passages else []
    splits = [split] + [s for s in passages if s not in FIXED_SPLITS and s != split]
    result = {"format_version": REPORT_FORMAT, "primary_split": split, "splits": {}}
    all_predictions, all_verdicts = [], {}
    for s in splits:
        rows = passages[s].to_list()
        scored = []
        for name, d in disputes.items():
            drows = [r for r in rows if r["dispute"] == name]
            if drows:
                scored.extend(score_passages(predictor, drows, d))
        log.info("split %s: %d passages scored", s, len(scored))
        verdicts, art_summary = article_metrics(scored, disputes, answers)
        sres = {
            "passages": passage_metrics(scored, tasks),
            "examples": example_metrics(scored, disputes, tasks),
            "articles": art_summary,
            "baselines": baselines(train_rows, rows, disputes, tasks, predictor.input_cfg) if train_rows else {},
            "side_swap": side_swap_audit(predictor, scored, disputes) if "stance" in tasks else {},
        }
        result["splits"][s] = sres
        all_verdicts[s] = verdicts
        for r in scored:
            if r["role"] != "body":
                continue
            all_predictions.append({
                "id": f"{r['doc_id']}:{r['index']}",
                "split": s,
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
            })
    prim = result["splits"][split]["passages"]
    result["summary"] = {
        "stance_accuracy": prim.get("stance", {}).get("accuracy"),
        "stance_macro_f1": prim.get("stance", {}).get("macro_f1"),
        "stance_high_confidence_macro_f1": prim.get("stance_high_confidence", {}).get("macro_f1"),
        "credibility_accuracy": prim.get("credibility", {}).get("accuracy"),
        "credibility_macro_f1": prim.get("credibility", {}).get("macro_f1"),
        "stance_ece": prim.get("stance_calibration", {}).get("ece"),
        "author_favors_accuracy": result["splits"][split]["articles"]["author_favors_accuracy"],
        "more_credible_accuracy": result["splits"][split]["articles"]["more_credible_accuracy"],
        "side_swap_consistency": result["splits"][split]["side_swap"].get("consistency"),
    }
    result["model"] = model_summary(model_dir, predictor.model_id, predictor.model_version, predictor.temperature)
    result["data"] = {"path": str(Path(data_dir).resolve()), "data_hash": manifest["data_hash"], "splits": splits}
    result["command"] = command
    result["seconds"] = round(time.time() - t0, 1)
    from pipeline.evaluate.html import render_report

    html, md = render_report(result, all_predictions, all_verdicts, disputes)
    write_report(out, metrics=result, predictions=all_predictions, verdicts=all_verdicts, html=html, markdown=md)
    log.info("report written to %s (%.0f s)", out, result["seconds"])
    return out
