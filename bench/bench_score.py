"""Scoring throughput, accuracy and memory, on one trained model and the same passages.

Paths compared on the labelled held-out examples (validation, test and seed
splits; every path scores all of them once, for accuracy, and a fixed random
sample of --limit for speed):
  hf_pipeline_one_at_a_time   transformers pipeline("text-classification"), one input per call
  hf_pipeline_batched_64      the same pipeline, batch_size=64 (no length sorting)
  torch_fp32_sorted_64        this project's Predictor, backend torch (length-sorted dynamic padding, 64 inputs a batch)
  torch_fp32_sorted_1024tok   the same, batches also capped at 1,024 padded tokens (fp32 with the int8 paths' batching)
  bf16_sorted_64              Predictor, backend bf16 (bfloat16 autocast; only on CPUs with native bf16)
  int8_sorted_1024tok         Predictor, backend int8 (dynamic quantization, per-channel weights; its default token cap)
  onnx_sorted_64              Predictor, backend onnx (onnxruntime on the exported model)
  onnx-int8_sorted_1024tok    Predictor, backend onnx-int8 (the export quantized by onnxruntime; its default token cap)
  onnx-int8-static_sorted_1024tok  Predictor, backend onnx-int8-static (that int8 graph with activation scales
                              calibrated once and frozen: batch-invariant)

and what --backend auto (the default of stance score) picks on this machine,
with its reason, the row it runs as and that row's rebatch agreement (1.000
for a batch-invariant path), plus the static int8 graph's own check against
fp32 from calibration time.

For each: examples/s, ratio to one-at-a-time and to torch_fp32_sorted_64,
peak RSS while the path loads and runs, macro-F1 on the gold slots with its
difference from fp32 (and that difference's 95% interval, paired bootstrap over
articles), agreement with fp32 (argmax and max |p - p_fp32|), and whether
each example keeps its label when scored again in another batch.

Then an end-to-end figure for `stance score` (the real score() on the embedded
corpus: reading, segmentation, attribution, model, verdicts, writing) with the
share of time spent in segmentation + attribution, and, with
--memory-articles N, N synthetic articles (sentences of data/corpus recombined
at random, written to a temp folder) scored through score() while RSS is
sampled every second.

Run: make bench (after make train), or
    OMP_NUM_THREADS=2 python bench/bench_score.py [--memory-articles 10000]
The ONNX export is written into a copy of the model (bench/out/model), never
into models/default.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import psutil

ROOT = Path(__file__).resolve().parents[1]
DISPUTES = (
    "port-strike",
    "trade-tariffs",
    "river-border",
    "rideshare-rules",
    "reservoir-summit",
    "vaccine-contract",
    "airspace-incident",
    "stadium-lease",
)


def rss_mb() -> float:
    return psutil.Process().memory_info().rss / 2**20


class RssSampler:
    """Samples this process's RSS in a thread: peak over a block, or a time series."""

    def __init__(self, interval: float = 0.02, log: Path | None = None):
        self.interval, self.samples, self._stop, self.log = interval, [], threading.Event(), log

    def __enter__(self):
        self.t0 = time.perf_counter()
        self.samples = [(0.0, rss_mb())]
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self):
        while not self._stop.wait(self.interval):
            self.samples.append((time.perf_counter() - self.t0, rss_mb()))
            if self.log:  # a long run can be watched (and read if it is cut short)
                with open(self.log, "a") as f:
                    f.write(f"{self.samples[-1][0]:.1f}\t{self.samples[-1][1]:.1f}\n")

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.samples.append((time.perf_counter() - self.t0, rss_mb()))

    @property
    def peak(self) -> float:
        return max(r for _, r in self.samples)


def model_copy(src: Path, dst: Path) -> Path:
    """A copy of the model folder that the onnx backend may write its export into."""
    if src.resolve() == dst.resolve():
        return dst
    w = src / "model.safetensors"
    if (
        not (dst / "model.safetensors").is_file()
        or (dst / "model.safetensors").stat().st_mtime_ns < w.stat().st_mtime_ns
    ):
        shutil.rmtree(dst, ignore_errors=True)
        shutil.copytree(src, dst, ignore=shutil.ignore_patterns("checkpoints", "report", "onnx"))
    return dst


def bench_paths(args, model: Path) -> dict:
    from datasets import concatenate_datasets, load_from_disk
    from transformers import pipeline

    from pipeline.analysis.metrics import classification_metrics, softmax
    from pipeline.compare.run import paired_bootstrap
    from pipeline.contracts import example_input, read_label_map, task_view
    from pipeline.score.backends import BACKENDS, INT8_BATCH_TOKENS, _cpu_has_bf16
    from pipeline.score.predictor import Predictor

    dd = load_from_disk(str(Path(args.data) / "examples"))
    splits = [s for s in args.split.split(",") if s in dd]
    if not splits:
        raise SystemExit(f"error: {args.data} has none of the splits {args.split!r}; it has {', '.join(dd)}")
    ex = concatenate_datasets([dd[s] for s in splits])
    texts, pairs, gold, tasks, docs = list(ex["text"]), list(ex["text_pair"]), ex["slot"], ex["task"], ex["doc_id"]
    # a joint model reads each example as its one question for every task and answers in a block of slots per task
    label_map = read_label_map(model)
    pairs = [example_input(label_map, t, p, task)[1] for t, p, task in zip(texts, pairs, tasks)]
    view = lambda logits: task_view(label_map, np.asarray(logits), tasks)  # noqa: E731
    n = len(texts)
    # speed is timed on a fixed random sample of --limit examples (every path scores all n once, for accuracy)
    timed = sorted(random.Random(0).sample(range(n), min(args.limit, n)))
    t_texts, t_pairs = [texts[i] for i in timed], [pairs[i] for i in timed]
    names = lambda ss: [f"{t}:{int(s)}" for t, s in zip(tasks, ss)]

    def f1(slots) -> float:
        return classification_metrics(names(gold), names(slots))["macro_f1"]

    results: dict[str, dict] = {}
    probs: dict[str, np.ndarray] = {}
    paths: dict = {}

    # Phase 1, one path at a time: load its model, warm up, and score everything once (peak RSS, load time, accuracy).
    def phase1(name, load):
        with RssSampler() as mem:
            t0 = time.perf_counter()
            fn = load()
            load_s = time.perf_counter() - t0
            logits = fn()
        paths[name] = fn
        probs[name] = softmax(view(np.asarray(logits, dtype=np.float64)))
        results[name] = {
            "load_s": load_s,
            "peak_rss_mb": mem.peak,
            "rss_growth_mb": mem.peak - mem.samples[0][1],
            "macro_f1": f1(probs[name].argmax(1)),
        }
        print(f"  loaded {name} in {load_s:.1f} s (+{results[name]['rss_growth_mb']:.0f} MB)", flush=True)

    hf = {}

    def load_hf():
        hf["pred"] = pred = Predictor(model, batch_size=64, calibrated=False, backend="torch")
        hf["clf"] = pipeline(
            "text-classification",
            model=pred.model,
            tokenizer=pred.tokenizer,
            device=-1,
            truncation=True,
            max_length=pred.input_cfg["max_length"],
            top_k=None,
            function_to_apply="none",
        )
        hf["labels"] = [pred.model.config.id2label[i] for i in range(pred.model.config.num_labels)]
        return lambda inputs=inputs: from_pipe([hf["clf"](x) for x in inputs])

    inputs = [{"text": t, "text_pair": p} for t, p in zip(texts, pairs)]
    t_inputs = [inputs[i] for i in timed]

    def from_pipe(outs):  # raw logits back in slot order
        return [[{d["label"]: d["score"] for d in o}[lab] for lab in hf["labels"]] for o in outs]

    phase1("hf_pipeline_one_at_a_time", load_hf)
    phase1("hf_pipeline_batched_64", lambda: lambda inputs=inputs: from_pipe(hf["clf"](inputs, batch_size=64)))
    phase1("torch_fp32_sorted_64", lambda: lambda x=texts, y=pairs: hf["pred"].logits(x, y))
    predictors = {"torch_fp32_sorted_64": hf["pred"]}
    # fp32 with the int8 paths' token cap, then each backend with its default batching
    backends = (("bf16",) if _cpu_has_bf16() else ()) + ("int8", "onnx", "onnx-int8", "onnx-int8-static")
    runs = [("torch_fp32", "torch", INT8_BATCH_TOKENS)] + [(b, b, BACKENDS[b].batch_tokens) for b in backends]
    for label, backend, cap in runs:
        name = f"{label}_sorted_" + (f"{cap}tok" if cap else "64")

        def load(b=backend, cap=cap, name=name):
            pb = predictors[name] = Predictor(model, batch_size=64, calibrated=False, backend=b, batch_tokens=cap)
            return lambda x=texts, y=pairs: pb.logits(x, y)

        phase1(name, load)

    # Does a passage's prediction depend on the batch it lands in? Score the same examples again in
    # another order with batches of 16: fp32 paths agree with themselves, dynamic int8 (activation
    # scales computed per batch) need not.
    shuffled = random.Random(1).sample(range(n), n)
    for name, pb in predictors.items():
        bs, pb.batch_size = pb.batch_size, 16
        again = np.empty(n, dtype=int)
        got = pb.logits([texts[i] for i in shuffled], [pairs[i] for i in shuffled])
        again[shuffled] = task_view(label_map, got, [tasks[i] for i in shuffled]).argmax(1)
        pb.batch_size = bs
        results[name]["self_agreement_other_batching"] = float((again == probs[name].argmax(1)).mean())

    # Phase 2: timed rounds on the sample, every path once per round, so load from other processes on the machine
    # hits all paths alike.
    def on_sample(name, fn):
        return (lambda: fn(t_inputs)) if name.startswith("hf_") else (lambda: fn(t_texts, t_pairs))

    timed_calls = {name: on_sample(name, fn) for name, fn in paths.items()}
    times: dict[str, list[float]] = {k: [] for k in paths}
    for r in range(args.reps):
        for name, fn in timed_calls.items():
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
        print(
            f"  round {r + 1}/{args.reps}: " + ", ".join(f"{k} {len(timed) / v[-1]:.0f}/s" for k, v in times.items()),
            flush=True,
        )
    nt = len(timed)
    for name, ts in times.items():
        results[name].update(
            seconds=statistics.median(ts),
            examples_per_s=nt / statistics.median(ts),
            examples_per_s_runs=[nt / t for t in ts],
        )

    one, fp32 = results["hf_pipeline_one_at_a_time"], results["torch_fp32_sorted_64"]
    for name, r in results.items():
        r["x_one_at_a_time"] = r["examples_per_s"] / one["examples_per_s"]
        r["x_fp32_sorted"] = r["examples_per_s"] / fp32["examples_per_s"]
        r["argmax_agreement_vs_fp32"] = float((probs[name].argmax(1) == probs["torch_fp32_sorted_64"].argmax(1)).mean())
        r["max_abs_prob_diff_vs_fp32"] = float(np.abs(probs[name] - probs["torch_fp32_sorted_64"]).max())
        r["macro_f1_minus_fp32"] = r["macro_f1"] - fp32["macro_f1"]
        # 95% interval of the F1 difference from a paired bootstrap over articles (examples of one article are not
        # independent)
        bs = paired_bootstrap(
            names(gold),
            names(probs["torch_fp32_sorted_64"].argmax(1)),
            names(probs[name].argmax(1)),
            "macro_f1",
            groups=docs,
        )
        r["macro_f1_minus_fp32_ci95"] = bs["ci95"]
        r["within_0.01_of_fp32"] = abs(r["macro_f1_minus_fp32"]) <= 0.01
    print(
        f"\nmacro-F1 on {n} labelled examples ({'+'.join(splits)} of {args.data}; {len(set(docs))} articles); "
        f"speed on a sample of {nt}, "
        f"{args.threads} thread(s), median of {args.reps} interleaved rounds"
    )
    print(
        f"{'path':28s} {'ex/s':>8s} {'x 1-at-a-time':>13s} {'x fp32-sorted':>13s} {'peak RSS MB':>11s} "
        f"{'macro-F1':>9s} {'dF1':>7s} {'dF1 95% CI':>17s} {'argmax=':>8s} {'max|dp|':>8s} {'rebatch=':>8s}"
    )
    for name, r in results.items():
        lo, hi = r["macro_f1_minus_fp32_ci95"]
        rebatch = r.get("self_agreement_other_batching")
        print(
            f"{name:28s} {r['examples_per_s']:8.1f} {r['x_one_at_a_time']:13.2f} {r['x_fp32_sorted']:13.2f} "
            f"{r['peak_rss_mb']:11.0f} {r['macro_f1']:9.4f} {r['macro_f1_minus_fp32']:+7.4f} "
            f"{f'[{lo:+.3f}, {hi:+.3f}]':>17s} {r['argmax_agreement_vs_fp32']:8.3f} "
            f"{r['max_abs_prob_diff_vs_fp32']:8.1e} {'' if rebatch is None else f'{rebatch:.3f}':>8s}"
        )
    print(
        "argmax= : share of examples whose label equals fp32's; "
        "rebatch= : share that keep their label when scored again in another order with batches of 16"
    )
    auto = bench_auto(model, hf["pred"].input_names, results)
    return {"n": n, "n_timed": nt, "splits": splits, "articles": len(set(docs)), "results": results, "auto": auto}


def bench_auto(model: Path, input_names: list[str], results: dict) -> dict:
    """What --backend auto picks here and why, the row above it runs as, and the static int8 graph's check."""
    from pipeline.score.backends import BACKENDS, resolve_backend
    from pipeline.score.onnx_export import ONNX_STATIC_FILE, export_info

    name, why = resolve_backend("auto", model, input_names)
    cap = BACKENDS[name].batch_tokens
    row = "torch_fp32_sorted_64" if name == "torch" else f"{name}_sorted_" + (f"{cap}tok" if cap else "64")
    r = results.get(row, {})
    out = {
        "backend": name,
        "reason": why,
        "row": row,
        "batch_invariant": BACKENDS[name].batch_invariant,
        "rebatch": r.get("self_agreement_other_batching"),
        "examples_per_s": r.get("examples_per_s"),
        "x_one_at_a_time": r.get("x_one_at_a_time"),
        "macro_f1_minus_fp32": r.get("macro_f1_minus_fp32"),
        "static_int8_check": export_info(model / ONNX_STATIC_FILE).get("check"),
    }
    print(f"\n--backend auto (the default) on this machine: {name} ({why})")
    if r:
        print(
            f"  runs as {row}: {r['examples_per_s']:.1f} ex/s, {r['x_one_at_a_time']:.2f}x one-at-a-time, "
            f"dF1 {r['macro_f1_minus_fp32']:+.4f}, rebatch {r['self_agreement_other_batching']:.3f}"
        )
    check = out["static_int8_check"]
    if check:
        print(
            f"  onnx-int8-static's check at calibration: argmax = fp32 on {check['agreement']:.3f} of "
            f"{check['inputs']} {check['source']} (dynamic onnx-int8: {check['dynamic']['agreement']:.3f}), rebatch "
            f"{check['rebatch_agreement']:.3f}; {'passed' if check['passed'] else 'failed'}"
        )
    return out


def bench_end_to_end(
    args, model: Path, backend: str, attribution_model: str | None = None, attribution_backend: str = "torch"
) -> dict:
    """The real score() over every embedded corpus folder, copied ``--e2e-copies`` times (with the attribution
    model when given: ``--attribution-model``)."""
    from pipeline.config import ScoreConfig
    from pipeline.score.predictor import Predictor
    from pipeline.score.run import score

    pred = Predictor(model, batch_size=64, backend=backend)
    tot = {"seconds": 0.0, "articles": 0, "passages": 0, "segment_attribute_s": 0.0, "model_s": 0.0}
    with tempfile.TemporaryDirectory() as tmp:
        for d in DISPUTES:
            src = ROOT / "data/corpus" / d
            inp = Path(tmp) / "in" / d
            inp.mkdir(parents=True)
            for c in range(args.e2e_copies):
                for f in sorted(src.glob("*.txt")):
                    shutil.copy(f, inp / f"{c}_{f.name}")
            cfg = ScoreConfig(
                model=str(model),
                dispute=str(ROOT / "configs/disputes" / f"{d}.yaml"),
                output=str(Path(tmp) / "out" / d),
                progress=False,
                backend=backend,
                attribution_model=attribution_model,
                attribution_backend=attribution_backend,
            )
            s = score(cfg, [str(inp)], predictor=pred)
            for k in ("seconds", "articles", "passages"):
                tot[k] += s[k]
            for k in ("segment_attribute_s", "model_s"):
                tot[k] += s["timing"][k]
    tot["articles_per_s"] = tot["articles"] / tot["seconds"]
    tot["passages_per_s"] = tot["passages"] / tot["seconds"]
    tot["segment_attribute_share"] = tot["segment_attribute_s"] / tot["seconds"]
    tot["other_share"] = 1 - (tot["segment_attribute_s"] + tot["model_s"]) / tot["seconds"]
    with_model = f" --attribution-model {attribution_model} ({attribution_backend})" if attribution_model else ""
    print(
        f"end to end, stance score --backend {backend}{with_model}: {tot['articles']} articles, "
        f"{tot['passages']} passages in {tot['seconds']:.1f} s "
        f"({tot['articles_per_s']:.1f} articles/s, {tot['passages_per_s']:.0f} passages/s); "
        f"segmentation + attribution {tot['segment_attribute_share']:.1%} of the time, "
        f"model + verdicts {tot['model_s'] / tot['seconds']:.1%}, reading/writing/checkpoints {tot['other_share']:.1%}"
    )
    return tot


def bench_attribution_share(args, model: Path, rules_run: dict) -> dict:
    """The same end-to-end run with the attribution model on each of ``--attribution-backends``: its share of
    the time, as a ratio to the rules run of the same process; and each backend's exact span F1 on PolNeAR's
    validation articles (``--attribution-data``, when built), so a faster backend is checked on labelled data."""
    out = {"attribution_model": args.attribution_model, "backends": {}}
    for backend in args.attribution_backends.split(","):
        run = bench_end_to_end(args, model, args.e2e_backend, args.attribution_model, backend)
        res = {
            "with_model": run,
            "slowdown_vs_rules": run["seconds"] / rules_run["seconds"],
            "attribution_model_share": (run["seconds"] - rules_run["seconds"]) / run["seconds"],
        }
        print(
            f"attribution model ({backend}): end to end {res['slowdown_vs_rules']:.2f}x the rules' time; the model "
            f"takes {res['attribution_model_share']:.1%} of the run, segmentation + attribution "
            f"{run['segment_attribute_share']:.1%} in all"
        )
        data = Path(args.attribution_data)
        if (data / "documents").is_dir():
            from pipeline.score.tagging import load_tagger
            from pipeline.text.polnear import load_documents, score_tagger

            rows = load_documents(data)["validation"].to_list()
            t0 = time.perf_counter()
            whole, _, _ = score_tagger(load_tagger(args.attribution_model, backend), rows)
            res["polnear_validation"] = {k: whole[k]["f1"] for k in whole if k.endswith("_exact")}
            res["polnear_validation_seconds"] = time.perf_counter() - t0
            print(f"  PolNeAR validation exact F1 ({backend}): {res['polnear_validation']}")
        out["backends"][backend] = res
    return out


SHAPES = {
    # (paragraphs, sentences per paragraph): "short" is the old 1-2 x 1-2; "realistic" about 25 passages an
    # article (6-9 paragraphs of 2-4 sentences, plus the title), the length of the corpus's own articles
    "short": ((1, 2), (1, 2)),
    "realistic": ((6, 9), (2, 4)),
}


def synthetic_corpus(folder: Path, n_articles: int, per_file: int = 100, seed: int = 0, shape: str = "short") -> None:
    """``n_articles`` articles as JSONL files of ``per_file``: a title and paragraphs of sentences drawn from
    data/corpus/port-strike, as many as ``shape`` (:data:`SHAPES`) says."""
    from pipeline.text.readers import read_inputs
    from pipeline.text.segment import segment_article

    arts, _ = read_inputs([str(ROOT / "data/corpus/port-strike")])
    sentences = [p.text for a in arts for p in segment_article(a) if p.role == "body"]
    titles = [a.title for a in arts if a.title]
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for start in range(0, n_articles, per_file):
        with open(folder / f"synthetic_{start // per_file:05d}.jsonl", "w", encoding="utf-8") as f:
            for i in range(start, min(start + per_file, n_articles)):
                (p_lo, p_hi), (s_lo, s_hi) = SHAPES[shape]
                n_paras = rng.randint(p_lo, p_hi)
                paras = [" ".join(rng.sample(sentences, rng.randint(s_lo, s_hi))) for _ in range(n_paras)]
                f.write(
                    json.dumps({"doc_id": f"syn-{i:06d}", "title": rng.choice(titles), "text": "\n".join(paras)}) + "\n"
                )


def _slope(pts) -> float:
    """Least-squares slope of (seconds, MB) points, in MB/min."""
    return (
        float(np.polyfit(np.array([t for t, _ in pts]) / 60, np.array([m for _, m in pts]), 1)[0])
        if len(pts) > 2
        else 0.0
    )


def rss_trend(series: list, tolerance: float) -> dict:
    """Is RSS flat over the second half of the run?

    Within a chunk RSS swings by hundreds of MB (the batches' activations,
    released after the chunk), so the 1 s samples are noisy. The test is on
    the floor: the minimum of each window of ~1/20 of the run (at least 10 s),
    i.e. what stays allocated between chunks, where the old growth showed.
    The slopes of the per-window peaks and of the raw samples are reported too.
    The verdict is "flat" within the tolerance, "NOT flat (growing)" above it,
    and "falling, not growing" below minus it. The last sample, taken after
    score() returned, is left out. The floor still wanders by some +-40 MB
    from window to window, so on a run of a few minutes its slope is noise of
    +-15 MB/min either way; the verdict is meant for the 10,000-article run
    (10+ min).
    """
    series = series[:-1]
    end = series[-1][0]
    window = max(10.0, end / 20)
    wins: dict[int, list] = {}
    for t, m in series:
        if t >= 0.5 * end:
            wins.setdefault(int(t // window), []).append((t, m))
    full = [w for k, w in sorted(wins.items()) if w[-1][0] - w[0][0] >= 0.5 * window]
    floor = [(statistics.mean(t for t, _ in w), min(m for _, m in w)) for w in full]
    peak = [(statistics.mean(t for t, _ in w), max(m for _, m in w)) for w in full]
    slope = _slope(floor)
    return {
        "window_s": window,
        "slope_floor_second_half": slope,
        "slope_peak_second_half": _slope(peak),
        "slope_samples_second_half": _slope([(t, m) for t, m in series if t >= 0.5 * end]),
        "flat_tolerance_mb_per_min": tolerance,
        "verdict": _verdict(slope, tolerance) if len(floor) >= 3 else "too short to tell",
    }


def _verdict(slope: float, tolerance: float) -> str:
    """A leak shows as a rising floor; a falling one (an allocator handing memory back) is not growth."""
    if abs(slope) <= tolerance:
        return "flat"
    return "NOT flat (growing)" if slope > 0 else "falling, not growing"


def bench_memory(args, model: Path, backend: str) -> dict:
    from pipeline.config import ScoreConfig
    from pipeline.score.run import score

    with tempfile.TemporaryDirectory() as tmp:
        inp = Path(tmp) / "in"
        synthetic_corpus(inp, args.memory_articles, shape=args.memory_shape)
        print(
            f"memory: scoring {args.memory_articles} synthetic {args.memory_shape} articles, --backend {backend} ...",
            flush=True,
        )
        rss_log = Path(args.out).parent / f"memory_rss_{backend}.tsv"
        rss_log.parent.mkdir(parents=True, exist_ok=True)
        rss_log.write_text("seconds\trss_mb\n")
        with RssSampler(interval=1.0, log=rss_log) as mem:
            cfg = ScoreConfig(
                model=str(model),
                dispute=str(ROOT / "configs/disputes/port-strike.yaml"),
                output=str(Path(tmp) / "out"),
                progress=args.progress,
                backend=backend,
            )
            s = score(cfg, [str(inp)])
    series = mem.samples
    trend = rss_trend(series, args.flat_tolerance)
    steady = [
        (t, m) for t, m in series if t >= 0.1 * series[-1][0]
    ]  # after the model loaded and the first chunks warmed the allocator
    half = [(t, m) for t, m in series if t >= 0.5 * series[-1][0]]
    slope_half, verdict = trend["slope_floor_second_half"], trend["verdict"]
    r = {
        "backend": backend,
        "backend_used": s.get("backend_used", backend),
        "shape": args.memory_shape,
        "articles": s["articles"],
        "passages": s["passages"],
        "seconds": s["seconds"],
        "articles_per_s": s["articles"] / s["seconds"],
        "passages_per_s": s["passages"] / s["seconds"],
        "segment_attribute_share": s["timing"]["segment_attribute_s"] / s["seconds"],
        "rss_first_mb": series[0][1],
        "rss_steady_first_mb": steady[0][1],
        "rss_half_mb": half[0][1],
        "rss_last_mb": series[-1][1],
        "rss_peak_mb": mem.peak,
        "rss_slope_mb_per_min_after_warmup": _slope(steady),
        **trend,
        "samples": [[round(t, 1), round(m, 1)] for t, m in series],
    }
    print(
        f"memory: {r['articles']} articles, {r['passages']} passages in {r['seconds']:.0f} s "
        f"({r['passages_per_s']:.0f} passages/s); RSS first {r['rss_first_mb']:.0f} MB, "
        f"after warm-up {r['rss_steady_first_mb']:.0f} MB, at half-time {r['rss_half_mb']:.0f} MB, "
        f"last {r['rss_last_mb']:.0f} MB, peak {r['rss_peak_mb']:.0f} MB; "
        f"segmentation + attribution {r['segment_attribute_share']:.1%} of the time"
    )
    print(
        f"memory: RSS slope over the second half: {slope_half:+.2f} MB/min for the floor "
        f"(minimum per {trend['window_s']:.0f} s window), "
        f"{trend['slope_peak_second_half']:+.2f} for the per-window peak, "
        f"{trend['slope_samples_second_half']:+.2f} for the raw samples; "
        f"floor within {args.flat_tolerance:g} MB/min: {verdict}"
    )
    return r


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default="models/default")
    ap.add_argument("--data", default="data/built/default")
    ap.add_argument(
        "--split",
        default="validation,test,seed",
        help="labelled splits for the accuracy columns (comma-separated; those present are used)",
    )
    ap.add_argument(
        "--limit", type=int, default=400, help="examples in the timed sample (a fixed random sample of those splits)"
    )
    ap.add_argument("--reps", type=int, default=3, help="timed runs per batched path (median reported)")
    ap.add_argument("--e2e-copies", type=int, default=3, help="copies of each corpus article in the end-to-end run")
    ap.add_argument("--e2e-backend", default="int8", help="backend of the end-to-end and memory runs")
    ap.add_argument(
        "--memory-articles",
        type=int,
        default=0,
        help="also score this many synthetic articles and sample RSS "
        "(10000 for the flatness check; ~10+ min on 2 cores)",
    )
    ap.add_argument(
        "--memory-shape",
        choices=sorted(SHAPES),
        default="short",
        help="length of the memory run's synthetic articles: short (1-4 passages) or realistic (~25)",
    )
    ap.add_argument(
        "--memory-backends",
        default=None,
        help="comma-separated backends for the memory run, one run each (default: --e2e-backend)",
    )
    ap.add_argument(
        "--flat-tolerance",
        type=float,
        default=2.0,
        help="MB/min: RSS counts as flat when its slope over the second half of the memory run is within this",
    )
    ap.add_argument("--skip-e2e", action="store_true", help="skip the end-to-end runs over the embedded corpus")
    ap.add_argument(
        "--attribution-model",
        default="models/attribution",
        help="attribution model folder (make attribution): its share of the end-to-end time; skipped when absent",
    )
    ap.add_argument("--attribution-backends", default="torch,onnx-int8", help="backends the attribution model runs on")
    ap.add_argument(
        "--attribution-data",
        default="data/built/attribution",
        help="the attribution dataset (PolNeAR): each backend's span F1 on its validation articles",
    )
    ap.add_argument("--skip-paths", action="store_true", help="skip the per-path comparison")
    ap.add_argument("--progress", action="store_true")
    ap.add_argument("--out", default="bench/out/score.json")
    args = ap.parse_args()
    if not (Path(args.model) / "label_map.json").is_file():
        print(f"error: {args.model} is not a trained model folder; run `make train` first", file=sys.stderr)
        return 2
    import torch

    args.threads = int(os.environ.get("OMP_NUM_THREADS", "2"))
    torch.set_num_threads(args.threads)
    model = model_copy(Path(args.model), Path(args.out).parent / "model")
    report = {
        "model": args.model,
        "threads": args.threads,
        "cpu_count": os.cpu_count(),
        "load_avg_at_start": os.getloadavg(),
    }
    print(
        f"model {args.model} (copied to {model}), {args.threads} thread(s), "
        f"load average {os.getloadavg()[0]:.1f} at start",
        flush=True,
    )
    if not args.skip_paths:
        report["paths"] = bench_paths(args, model)
    if not args.skip_e2e:
        report["end_to_end"] = {b: bench_end_to_end(args, model, b) for b in dict.fromkeys(("torch", args.e2e_backend))}
        if args.attribution_model and (Path(args.attribution_model) / "label_map.json").is_file():
            report["attribution"] = bench_attribution_share(args, model, report["end_to_end"][args.e2e_backend])
    if args.memory_articles:
        backends = (args.memory_backends or args.e2e_backend).split(",")
        runs = {b: bench_memory(args, model, b) for b in backends}
        report["memory"] = runs[backends[0]] if len(runs) == 1 else runs
    report["load_avg_at_end"] = os.getloadavg()
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=2))
    print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
