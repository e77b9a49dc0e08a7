"""PerSenT documents from paragraphs: the paragraph model's predictions added up to the article's label.

Issue 15 asks for PerSenT random_test macro-F1 at document level (the author's sentiment toward the
article's main person). Two routes are compared in the docs: a document classifier
(``make benchmark NAME=persent-document``) and this one, which scores every labelled paragraph with the
paragraph model (``make benchmark NAME=persent``) and aggregates per article: the mean of the first ``k``
paragraphs' probabilities, with the neutral class needing a lead of ``margin`` over the stronger polar one.
``k`` and ``margin`` are chosen on dev (validation) by macro-F1 and reported on random_test.

A second aggregation is the one ``stance train`` can choose for article verdicts
(:mod:`pipeline.analysis.choice`): a conditional logit over the two polar labels as "sides" (each with
its share of paragraphs, its mean paragraph probability and, with ``--doc-model``, the document
classifier's probability) against neutral (mean neutral probability, the document classifier's).
It is fitted on dev (penalty, and whether the classes are balanced, chosen by cross-validation on dev)
and reported on random_test. Usage::

    python bench/persent_documents.py [--model models/persent] [--paragraphs data/built/persent]
        [--documents data/built/persent-document] [--doc-model models/persent-document]
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.analysis.metrics import classification_metrics  # noqa: E402

KS = (1, 2, 3, 5, 8, 16)
MARGINS = (-0.2, -0.1, 0.0, 0.1, 0.2, 0.3)


def aggregate(probs, labels: list[str], k: int, margin: float) -> str:
    """The article's label from its paragraphs' probabilities (rows in page order)."""
    import numpy as np

    mean = np.asarray(probs[:k]).mean(0)
    neutral = labels.index("neutral")
    polar = [i for i in range(len(labels)) if i != neutral]
    best = max(polar, key=lambda i: mean[i])
    return labels[neutral] if mean[neutral] + margin >= mean[best] else labels[best]


def learned_aggregation(per_split: dict, doc_probs: dict, labels: list[str]) -> dict:
    """The conditional logit of :mod:`pipeline.analysis.choice` over each article's paragraphs (and the
    document classifier where there is one), chosen and fitted on dev, scored on random_test: for
    paragraphs alone and, with document probabilities, for both."""
    import numpy as np

    from pipeline.analysis.choice import cross_predict, fit_choice_cv

    neutral = labels.index("neutral")
    polar = [i for i in range(len(labels)) if i != neutral]
    answers = [labels[i] for i in polar] + ["neutral"]

    def examples(split: str, with_doc: bool) -> list:
        by_doc, gold = per_split[split]
        ids = [d for d in gold if d in by_doc and (not with_doc or d in doc_probs[split])]
        out = []
        for d in ids:
            p = np.asarray(by_doc[d])
            vote = np.bincount(p.argmax(1), minlength=len(labels)) / len(p)
            side = [[vote[i], p[:, i].mean()] for i in polar]
            none = [p[:, neutral].mean()]
            if with_doc:
                side = [f + [doc_probs[split][d][i]] for f, i in zip(side, polar)]
                none.append(doc_probs[split][d][neutral])
            out.append((np.array(side), np.array(none), answers.index(gold[d])))
        return out

    def macro(xs, probs) -> dict:
        m = classification_metrics([answers[x[2]] for x in xs], [answers[int(np.argmax(p))] for p in probs], labels)
        return {"n": len(xs), "macro_f1": m["macro_f1"], "accuracy": m["accuracy"]}

    result = {}
    for name, with_doc in (("paragraphs", False), ("paragraphs+document", True)):
        if with_doc and not doc_probs["validation"]:
            continue
        dev = examples("validation", with_doc)
        test = examples("test", with_doc)
        cv = {b: macro(dev, cross_predict(dev, balanced=b)) for b in (False, True)}
        balanced = cv[True]["macro_f1"] > cv[False]["macro_f1"]
        model = fit_choice_cv(dev, balanced=balanced)
        result[name] = {
            "balanced": balanced,
            "validation_cv": cv[balanced],
            "test": macro(test, [model.probs(x[0], x[1]) for x in test]),
            "model": model.to_dict(),
            "answers": answers,
        }
    return result


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="models/persent")
    ap.add_argument("--paragraphs", default="data/built/persent")
    ap.add_argument("--documents", default="data/built/persent-document")
    ap.add_argument("--doc-model", default="models/persent-document", help="a document classifier ('' for none)")
    ap.add_argument("--out", default=str(ROOT / "bench" / "out" / "persent_documents.json"))
    args = ap.parse_args(argv)
    from datasets import load_from_disk

    from pipeline.score.predictor import Predictor

    pred = Predictor(args.model, batch_size=64)
    labels = pred.label_map["tasks"]["sentiment"]
    paras = load_from_disk(str(Path(args.paragraphs) / "examples"))
    docs = load_from_disk(str(Path(args.documents) / "examples"))
    per_split = {}
    for split in ("validation", "test"):
        rows = paras[split].to_list()
        probs = pred.probs([r["text"] for r in rows], [r["text_pair"] for r in rows])
        by_doc: dict[str, list] = {}
        for r, p in zip(rows, probs):
            by_doc.setdefault(r["doc_id"], []).append(p)
        gold = {r["doc_id"]: r["label"] for r in docs[split].to_list()}
        per_split[split] = (by_doc, gold)
        print(f"{split}: {len(rows)} paragraphs of {len(by_doc)} articles scored ({len(gold)} article labels)")
    doc_probs: dict[str, dict] = {"validation": {}, "test": {}}
    if args.doc_model and Path(args.doc_model).exists():
        dpred = Predictor(args.doc_model, batch_size=16)
        order = [dpred.label_map["tasks"]["sentiment"].index(lab) for lab in labels]
        for split in doc_probs:
            rows = docs[split].to_list()
            probs = dpred.probs([r["text"] for r in rows], [r["text_pair"] for r in rows])
            doc_probs[split] = {r["doc_id"]: p[order] for r, p in zip(rows, probs)}
        print(f"document classifier {args.doc_model}: {sum(map(len, doc_probs.values()))} articles scored")

    def score(split: str, k: int, margin: float) -> dict:
        by_doc, gold = per_split[split]
        ids = [d for d in gold if d in by_doc]
        y = [gold[d] for d in ids]
        p = [aggregate(by_doc[d], labels, k, margin) for d in ids]
        m = classification_metrics(y, p, labels)
        return {"n": len(ids), "macro_f1": m["macro_f1"], "accuracy": m["accuracy"]}

    grid = {(k, m): score("validation", k, m) for k, m in itertools.product(KS, MARGINS)}
    (k, margin), val = max(grid.items(), key=lambda kv: (kv[1]["macro_f1"], -kv[0][0]))
    test = score("test", k, margin)
    learned = learned_aggregation(per_split, doc_probs, labels)
    result = {
        "chosen_on": "validation (PerSenT dev)",
        "k": k,
        "margin": margin,
        "validation": val,
        "test": test,
        "test_mean_of_all_paragraphs": score("test", 16, 0.0),
        "grid": {f"k={a},margin={b}": v["macro_f1"] for (a, b), v in grid.items()},
        "learned": learned,
    }
    print(f"chosen on dev: first {k} paragraphs, neutral margin {margin}: dev macro-F1 {val['macro_f1']:.3f}")
    print(f"random_test: macro-F1 {test['macro_f1']:.3f}, accuracy {test['accuracy']:.3f} ({test['n']} articles)")
    for name, r in learned.items():
        print(
            f"learned ({name}): dev cross-validated macro-F1 {r['validation_cv']['macro_f1']:.3f} -> random_test "
            f"{r['test']['macro_f1']:.3f} (accuracy {r['test']['accuracy']:.3f}, {r['test']['n']} articles)"
        )
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":
    main()
