"""Article verdicts across training seeds: how many change, and how often each seed is right.

Issue 15 asks whether an article's verdict survives retraining: the default config trained with three
seeds (``make seeds``: ``models/default`` is seed 13, ``models/seed-14`` and ``models/seed-15`` the
others), each with its own verdict rule fitted on validation by ``stance train``. Every model scores the
same built data; per article with gold answers this lists each seed's verdicts (with confidence) and the
gold answers, and counts the articles whose verdict is not the same under every seed. The seed commentary and the test
split are held out from everything; the validation articles are listed apart, because each model's
verdict rule was fitted on them. Usage::

    python bench/verdict_seeds.py [--models models/default models/seed-14 models/seed-15]
        [--data data/built/default] [--out bench/out/verdict_seeds.json]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SPLITS = ("test", "seed", "validation")


def verdicts_of(model: str, data: str) -> dict[str, dict]:
    """doc_id -> the model's verdict (its own fitted rule) for every article of :data:`SPLITS` in ``data``
    with gold answers (the articles :func:`pipeline.score.aggregate.validation_articles` scores)."""
    from pipeline.analysis.verdicts import article_verdict
    from pipeline.score.aggregate import validation_articles
    from pipeline.score.predictor import Predictor

    predictor = Predictor(model, backend="torch")
    out = {}
    for split in SPLITS:
        for a in validation_articles(predictor, data, split):
            v = article_verdict(a.passages, a.sides, predictor.verdict_rule)
            out[v["doc_id"]] = {"split": split, **{k: v[k] for k in VERDICT_KEYS}}
    return out


VERDICT_KEYS = ("author_favors", "author_favors_confidence", "more_credible", "more_credible_confidence")


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", nargs="+", default=["models/default", "models/seed-14", "models/seed-15"])
    ap.add_argument("--data", default="data/built/default")
    ap.add_argument("--out", default=str(ROOT / "bench" / "out" / "verdict_seeds.json"))
    args = ap.parse_args(argv)
    from pipeline.contracts import read_article_answers, read_calibration

    answers = read_article_answers(args.data)
    per_model = {m: verdicts_of(m, args.data) for m in args.models}
    docs = sorted(set.intersection(*(set(v) for v in per_model.values())))
    rows, summary = [], {}
    for doc in docs:
        gold = answers.get(doc) or {}
        row = {"doc_id": doc, "split": per_model[args.models[0]][doc]["split"]}
        row |= {"gold_author_favors": gold.get("author_favors"), "gold_more_credible": gold.get("more_credible")}
        row["models"] = {m: per_model[m][doc] for m in args.models}
        for key in ("author_favors", "more_credible"):
            row[f"{key}_changes"] = len({per_model[m][doc][key] for m in args.models}) > 1
        rows.append(row)
    for group, splits in (("held_out", ("test", "seed")), ("validation", ("validation",))):
        rs = [r for r in rows if r["split"] in splits]
        if not rs:
            continue
        summary[group] = {
            "articles": len(rs),
            "author_favors_changes": sum(r["author_favors_changes"] for r in rs),
            "more_credible_changes": sum(r["more_credible_changes"] for r in rs),
            "author_favors_right": {
                m: sum(r["models"][m]["author_favors"] == r["gold_author_favors"] for r in rs) for m in args.models
            },
            "more_credible_right": {
                m: sum(r["models"][m]["more_credible"] == r["gold_more_credible"] for r in rs) for m in args.models
            },
        }
    rules = {}
    for m in args.models:
        rule = read_calibration(m).get("verdict_rule") or {}
        rules[m] = {
            "author_favors": "learned" if rule.get("favors_model") else "thresholds",
            "more_credible": "learned" if rule.get("credible_model") else "thresholds",
        }
    result = {"models": args.models, "data": args.data, "verdict_rules": rules, "summary": summary, "articles": rows}
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")

    def cell(v: dict) -> str:
        return f"{v['author_favors']} ({v['author_favors_confidence']:.2f}) / {v['more_credible']}"

    print("| article | split | gold | " + " | ".join(args.models) + " |")
    print("|---|---|---|" + "---|" * len(args.models))
    for r in rows:
        gold = f"{r['gold_author_favors']} / {r['gold_more_credible']}"
        cells = " | ".join(cell(r["models"][m]) for m in args.models)
        print(f"| {r['doc_id']} | {r['split']} | {gold} | {cells} |")
    for group, s in summary.items():
        print(
            f"{group}: {s['articles']} articles; author favors changes on {s['author_favors_changes']}, more "
            f"credible on {s['more_credible_changes']}; author favors right {s['author_favors_right']}; "
            f"more credible right {s['more_credible_right']}"
        )
    print(f"verdict rules: {rules}")
    return result


if __name__ == "__main__":
    main()
