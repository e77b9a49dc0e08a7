"""Leave-one-source-out transfer for the mixture model: train without X, test on X.

Issue 14 asks what carries to data no one labelled for a user. For each source X of the mixture
(``configs/mixture.yaml``: the corpus and the public benchmarks), a model is trained on the mixture
without X (``--train.exclude_sources [X]``) and scored on X's test split; a model trained on every
source at the same budget is scored beside it. The gap between the two is what X's own labels add;
the "without" figure against X's majority class is what the other sources teach about X.

All runs share one built dataset, smaller than ``make mixture``'s (``--train-size`` units, one epoch by
default) so that a dozen runs fit on a laptop; the figures are for comparing runs with each other, not
with the full mixture model. A run whose model folder is complete is not trained again (rerun after a
crash and it goes on where it stopped). Usage::

    python bench/mixture_loso.py [--config configs/mixture.yaml] [--train-size 4000] [--epochs 1]
        [--sources corpus,persent,...] [--out models/mixture-loso]

Writes ``<out>/loso.json`` and ``<out>/loso.md``.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.analysis.metrics import classification_metrics  # noqa: E402
from pipeline.cli import main as stance  # noqa: E402
from pipeline.io import write_json, write_text  # noqa: E402

log = logging.getLogger("mixture_loso")


def corpus_metrics(predictor, label_map: dict, examples: list[dict]) -> dict:
    """The corpus's test (passage, side) examples: stance and credibility macro-F1 over role labels."""
    from pipeline.evaluate.benchmark import score_examples

    out = {}
    for task in ("stance", "credibility"):
        ev = [e for e in examples if e["task"] == task]
        labels = label_map["tasks"][task]
        rows = score_examples(predictor, label_map, ev, task, labels)
        m = classification_metrics([r["gold"] for r in rows], [r["pred"] for r in rows], labels)
        out[task] = {"n": m["n"], "macro_f1": m["macro_f1"], "accuracy": m["accuracy"]}
    return {
        "n": out["stance"]["n"],
        "measure": "stance / credibility macro-F1",
        "official": out["credibility"]["macro_f1"],
        "stance_macro_f1": out["stance"]["macro_f1"],
        "credibility_macro_f1": out["credibility"]["macro_f1"],
    }


def score_run(model_dir: Path, test: list[dict], mixture: dict, names: set[str]) -> dict:
    """The model's figures on the test split of each source in ``names``."""
    from pipeline.evaluate.benchmark import source_metrics
    from pipeline.score.predictor import Predictor

    predictor = Predictor(model_dir, batch_size=64)
    out = {}
    if "corpus" in names:
        out["corpus"] = corpus_metrics(predictor, predictor.label_map, [e for e in test if e["source"] == "corpus"])
    for name, m in source_metrics(
        predictor, predictor.label_map, test, {n: v for n, v in mixture.items() if n in names}
    ).items():
        out[name] = {k: m[k] for k in ("n", "measure", "official", "macro_f1", "majority_macro_f1")}
    return out


def markdown(result: dict) -> str:
    fmt = lambda x: "-" if x is None else f"{x:.3f}"
    lines = [
        "# Leave-one-source-out transfer",
        "",
        f"Mixture `{result['config']}`, {result['train_size']} train units, {result['epochs']} epoch(s) per run; "
        "each source's test split. *with*: trained on every source; *without*: trained on all but this one.",
        "",
        "| source | measure | with | without | without - with | majority class |",
        "|---|---|---|---|---|---|",
    ]
    for name, r in result["sources"].items():
        if name == "corpus":  # two tasks: a row each
            rows = [
                (f"corpus, {t} per (passage, side)", "macro-F1", r["detail_with"][k], r["detail_without"][k], None)
                for t, k in (("stance", "stance_macro_f1"), ("credibility", "credibility_macro_f1"))
            ]
        else:
            rows = [(name, r["measure"], r["with"], r["without"], r.get("majority_macro_f1"))]
        for label, measure, w, wo, majority in rows:
            delta = None if w is None or wo is None else wo - w
            lines.append(f"| {label} | {measure} | {fmt(w)} | {fmt(wo)} | {fmt(delta)} | {fmt(majority)} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--config", default="configs/mixture.yaml")
    ap.add_argument("--train-size", type=int, default=4000)
    ap.add_argument("--epochs", type=float, default=1.0)
    ap.add_argument("--sources", default="", help="comma-separated sources to leave out (default: every one)")
    ap.add_argument("--out", default="models/mixture-loso")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")

    out = Path(args.out)
    data = out / "data"
    common = ["--build.output", str(data), "--build.mixture.train_size", str(args.train_size)]
    if stance(["-q", "build", args.config, *common]) != 0:
        return 2
    from datasets import load_from_disk

    manifest = json.loads((data / "manifest.json").read_text())
    mixture = manifest["mixture"]
    test = load_from_disk(str(data / "examples"))["test"].to_list()
    sources = [s for s in args.sources.split(",") if s] or list(mixture)
    unknown = [s for s in sources if s not in mixture]
    if unknown:
        print(f"--sources: '{unknown[0]}' is not a source of {args.config} ({', '.join(mixture)})", file=sys.stderr)
        return 2
    runs = {"all": None} | {f"without-{s}": s for s in sources}
    scores, t0 = {}, time.time()
    for run, left_out in runs.items():
        model = out / run
        if not (model / "label_map.json").is_file():
            log.info("training %s", run)
            extra = ["--train.exclude_sources", f"[{left_out}]"] if left_out else []
            argv = ["-q", "train", args.config, *common, "--train.output_dir", str(model)]
            if stance([*argv, "--train.epochs", str(args.epochs), *extra]) != 0:
                return 2
        scores[run] = score_run(model, test, mixture, {left_out} if left_out else set(sources))
        log.info("%s: %s", run, {k: round(v["official"] or 0, 3) for k, v in scores[run].items()})
    result = {
        "config": args.config,
        "train_size": args.train_size,
        "epochs": args.epochs,
        "seconds": round(time.time() - t0, 1),
        "sources": {
            s: {
                "measure": scores["all"][s]["measure"],
                "with": scores["all"][s]["official"],
                "without": scores[f"without-{s}"][s]["official"],
                "majority_macro_f1": scores["all"][s].get("majority_macro_f1"),
                "detail_with": scores["all"][s],
                "detail_without": scores[f"without-{s}"][s],
            }
            for s in sources
        },
    }
    write_json(out / "loso.json", result)
    write_text(out / "loso.md", markdown(result))
    print(markdown(result))
    print(f"written: {out / 'loso.json'}, {out / 'loso.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
