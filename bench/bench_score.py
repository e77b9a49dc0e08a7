"""Scoring throughput: Hugging Face pipeline one-at-a-time and batched vs this project's
length-sorted dynamic-padding batches, on the same model and the same passages.

Prints examples per second, the ratio to the one-at-a-time pipeline, peak RSS
growth, and the macro-F1 of each path on the labelled test split (all paths
must agree). Run: make bench (after make train), or
    python bench/bench_score.py --model models/default --data data/built/default
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import psutil


def rss_mb() -> float:
    return psutil.Process().memory_info().rss / 2**20


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="models/default")
    ap.add_argument("--data", default="data/built/default")
    ap.add_argument("--split", default="test")
    ap.add_argument("--limit", type=int, default=400, help="examples to score per path")
    ap.add_argument("--out", default="bench/out/score.json")
    args = ap.parse_args()
    if not (Path(args.model) / "label_map.json").is_file():
        print(f"error: {args.model} is not a trained model folder; run `make train` first", file=sys.stderr)
        return 2
    import torch
    from datasets import load_from_disk
    from transformers import pipeline

    from pipeline.evaluate.metrics import classification_metrics
    from pipeline.score.predictor import Predictor

    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "2")))
    ex = load_from_disk(str(Path(args.data) / "examples"))[args.split]
    ex = ex.select(range(min(args.limit, len(ex))))
    texts, pairs, gold = ex["text"], ex["text_pair"], ex["slot"]
    tasks = ex["task"]
    pred = Predictor(args.model, batch_size=64, calibrated=False)

    def f1(slots):
        names = lambda ss: [f"{t}:{int(s)}" for t, s in zip(tasks, ss)]
        return classification_metrics(names(gold), names(slots))["macro_f1"]

    results = {}

    def run(name, fn):
        base = rss_mb()
        t0 = time.perf_counter()
        slots = fn()
        dt = time.perf_counter() - t0
        results[name] = {"examples_per_s": len(texts) / dt, "seconds": dt, "rss_growth_mb": max(0.0, rss_mb() - base), "macro_f1": f1(slots)}

    clf = pipeline("text-classification", model=pred.model, tokenizer=pred.tokenizer, device=-1, truncation=True, max_length=pred.input_cfg["max_length"], top_k=None)
    id_of = {v: int(k) for k, v in pred.model.config.id2label.items()}
    inputs = [{"text": t, "text_pair": p} for t, p in zip(texts, pairs)]

    def from_pipe(outs):
        return [id_of[max(o, key=lambda d: d["score"])["label"]] for o in outs]

    run("hf_pipeline_one_at_a_time", lambda: from_pipe([clf(x) for x in inputs]))
    run("hf_pipeline_batched_64", lambda: from_pipe(clf(inputs, batch_size=64)))
    run("project_length_sorted_64", lambda: np.argmax(pred.logits(texts, pairs), -1).tolist())
    base = results["hf_pipeline_one_at_a_time"]["examples_per_s"]
    print(f"{'path':28s} {'ex/s':>8s} {'x one-at-a-time':>16s} {'RSS +MB':>8s} {'macro-F1':>9s}")
    for name, r in results.items():
        r["ratio_vs_one_at_a_time"] = r["examples_per_s"] / base
        print(f"{name:28s} {r['examples_per_s']:8.1f} {r['ratio_vs_one_at_a_time']:16.2f} {r['rss_growth_mb']:8.1f} {r['macro_f1']:9.4f}")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps({"model": args.model, "n": len(texts), "threads": torch.get_num_threads(), "results": results}, indent=2))
    print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
