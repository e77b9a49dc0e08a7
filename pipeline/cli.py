"""The ``stance`` command: one subcommand per stage.

Thin on purpose: it parses arguments, configures logging and calls the stage's
entry point. torch and transformers are imported only inside the stages that
need them, so ``stance --help`` and config checks answer at once.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import shlex
import sys

from pipeline import __version__
from pipeline.config import ScoreConfig
from pipeline.errors import StanceError

log = logging.getLogger("pipeline")


def _setup_logging(verbose: bool, quiet: bool) -> None:
    level = logging.DEBUG if verbose else logging.WARNING if quiet else logging.INFO
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", datefmt="%H:%M:%S")
    for noisy in ("httpx", "urllib3", "filelock", "datasets", "trafilatura", "htmldate", "matplotlib", "PIL"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    if quiet:  # the hub's and transformers' bars ("Loading weights") too; read when they are first imported
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    if not verbose:
        import warnings

        warnings.filterwarnings("ignore", category=FutureWarning)
        warnings.filterwarnings("ignore", category=UserWarning)


def _config(args, overrides):
    from pipeline.config import load_config, parse_overrides

    return load_config(args.config, parse_overrides(overrides))


def _banner(stage: str, detail: str) -> None:
    log.info("== stance %s: %s", stage, detail)


def cmd_build(args, overrides) -> int:
    cfg = _config(args, overrides)
    _banner("build", f"{args.config} -> {cfg.build.output}")
    from pipeline.dataset.run import build

    out = build(cfg, args.config, args.command)
    print(f"dataset: {out}\ndata report: {out / 'data_report.md'}")
    return 0


def cmd_train(args, overrides) -> int:
    cfg = _config(args, overrides)
    _banner("train", f"{cfg.train.model} on {cfg.build.output} -> {cfg.train.output_dir}")
    from pipeline.train.model import resolve_model
    from pipeline.train.run import check_dataset

    resolve_model(cfg.train.model)
    manifest = check_dataset(cfg.build.output, cfg, args.config)
    if args.check:
        print(f"config ok: {args.config}")
        return 0
    if cfg.build.polnear is not None:  # the attribution model: a token classifier over PolNeAR spans
        from pipeline.train.attribution import train_attribution

        out = train_attribution(cfg, manifest, args.config, args.command)
    else:
        from pipeline.train.run import train

        out = train(cfg, args.config, args.command)
    main_process = os.environ.get("RANK", "0") == "0"  # torchrun: the other ranks have no model folder to add to
    if main_process and cfg.build.benchmark is None and cfg.build.polnear is None and "stance" in cfg.build.tasks:
        from pipeline.score.aggregate import fit_verdict_rule

        fit_verdict_rule(out, cfg.build.output)  # article verdicts: how passages add up, chosen on validation
    print(f"model: {out}\nmodel card: {out / 'README.md'}")
    return 0


def cmd_evaluate(args, overrides) -> int:
    model, data, output, split = args.model, args.data, args.output, args.split
    batch_size, passages_from = 64, args.passages_from
    if args.config:
        cfg = _config(args, overrides)
        passages_from = passages_from or cfg.evaluate.passages_from
        model = model or cfg.train.output_dir
        data = data or cfg.build.output
        output = output or cfg.evaluate.output_dir
        split = split or cfg.evaluate.split
        batch_size = cfg.evaluate.batch_size
    if not model or not data:
        raise StanceError("evaluate: pass --model MODEL_DIR and --data DATASET_DIR, or a CONFIG")
    _banner("evaluate", f"{model} on {data}")
    from pipeline.evaluate.run import evaluate

    out = evaluate(
        model, data, output, split or "test", batch_size=batch_size, command=args.command, passages_from=passages_from
    )
    print(summary_table(out / "metrics.json"))
    print(f"metrics: {out / 'metrics.json'}\nreport: {out / 'report.html'}")
    return 0


def attribution_table(m: dict) -> str:
    """The headline numbers of an attribution report: exact span F1 on PolNeAR, speakers per passage."""
    pn = m["polnear"]
    lines = [f"PolNeAR {pn['split']} ({pn['articles']} articles), exact / overlap F1"]
    lines.append(f"{'system':20s} {'source':>13s} {'cue':>13s} {'content':>13s}")
    for name in ("model", "rules", "direct_quotes_only"):
        cells = []
        for r in ("source", "cue", "content"):
            e, o = pn[name].get(f"{r}_exact"), pn[name].get(f"{r}_overlap")
            cells.append(f"{e['f1']:.3f} / {o['f1']:.3f}" if e else "-")
        lines.append(f"{name:20s} " + " ".join(f"{c:>13s}" for c in cells))
    if m.get("passages"):
        lines.append("passages: source accuracy, side accuracy, author handed to a source, attributed missed")
        for split, modes in m["passages"].items():
            for by, a in modes.items():
                if a:
                    lines.append(
                        f"{split:10s} {by:9s} {a['source_accuracy']:.3f} {a['source_side_accuracy']:.3f} "
                        f"{a['author_handed_to_source_share']:.1%} {a['attributed_missed_share']:.1%} "
                        f"({a['passages']} passages)"
                    )
    return "\n".join(lines)


def summary_table(metrics_path) -> str:
    """The headline numbers of a report, per split, with the baselines beside them."""
    import json

    m = json.loads(open(metrics_path, encoding="utf-8").read())
    fmt = lambda x: f"{x:.3f}" if isinstance(x, float) else "-"
    if m.get("kind") == "attribution":
        return attribution_table(m)
    if m.get("kind") == "benchmark":
        measure = m["official_measure"]
        lines = [f"{'split':10s} {'system':14s} {'accuracy':>9s} {'macro-F1':>9s} {measure:>14s}"]
        for split, res in m["splits"].items():
            t = res["task"]
            lines.append(
                f"{split:10s} {'model':14s} {fmt(t['accuracy']):>9s} {fmt(t['macro_f1']):>9s} {fmt(t['official']):>14s}"
            )
            for name, b in res["baselines"].items():
                lines.append(
                    f"{split:10s} {name:14s} {fmt(b['accuracy']):>9s} {fmt(b['macro_f1']):>9s} "
                    f"{fmt(b['official']):>14s}"
                )
            lines.append(
                f"{split:10s} per-class F1: " + ", ".join(f"{lab} {fmt(v['f1'])}" for lab, v in t["per_class"].items())
            )
        return "\n".join(lines)
    lines = [
        "role labels: side favored side 1 / side 2 / neutral (dispute config order); stance and credibility "
        "per (passage, side): favor / against / none, credible / not_credible / none",
        f"{'split':10s} {'task':18s} {'model acc':>9s} {'macro-F1':>9s} {'tfidf F1':>9s} {'majority F1':>11s}",
    ]
    for split, res in m["splits"].items():
        p, ex, b = res["passages"], res.get("examples") or {}, res.get("baselines") or {}
        rows = (
            ("side favored", p.get("side_favored"), lambda x: x.get("side_favored")),
            ("stance/side", ex.get("stance"), lambda x: (x.get("examples") or {}).get("stance")),
            ("credibility/side", ex.get("credibility"), lambda x: (x.get("examples") or {}).get("credibility")),
            ("credibility judged", p.get("credibility_judged"), lambda x: x.get("credibility_judged")),
        )
        for task, mt, of in rows:
            if not mt or not mt.get("n", 1):
                continue
            f = lambda name: (of(b.get(name, {})) or {}).get("macro_f1")
            lines.append(
                f"{split:10s} {task:18s} {fmt(mt['accuracy']):>9s} {fmt(mt['macro_f1']):>9s} "
                f"{fmt(f('tfidf_logreg')):>9s} {fmt(f('majority')):>11s}"
            )
        names = p.get("by_side_name") or {}
        if names:
            lines.append(
                f"{split:10s} over side names (as before): "
                + ", ".join(
                    f"{what} accuracy {fmt(names[k]['accuracy'])} macro-F1 {fmt(names[k]['macro_f1'])}"
                    for k, what in (("stance", "side favored"), ("credibility", "credibility"))
                    if names.get(k)
                )
            )
        p = res["passages"]
        if "source_side" in p:
            lines.append(
                f"{split:10s} source side accuracy: classifier {fmt(p['source_side']['accuracy'])}, "
                f"rules {fmt(p['source_side_rules']['accuracy'])}, "
                f"rules then classifier {fmt(p['source_side_rules_then_model']['accuracy'])}"
            )
        a = res.get("articles", {})
        if "side_favored" not in p:
            continue
        lines.append(
            f"{split:10s} articles: author-favors accuracy {fmt(a.get('author_favors_accuracy'))}, "
            f"more-credible accuracy {fmt(a.get('more_credible_accuracy'))} (n={a.get('n_with_gold')}; "
            f"neutral reports judged neutral {fmt((a.get('neutral_reports') or {}).get('judged_neutral'))} "
            f"of {(a.get('neutral_reports') or {}).get('n', 0)}, side-taking right "
            f"{fmt((a.get('side_taking') or {}).get('right_side'))} of {(a.get('side_taking') or {}).get('n', 0)}); "
            f"side-swap consistency {res.get('side_swap', {}).get('consistency')}"
        )
    for split, per in (m.get("sources") or {}).items():
        for name, v in per.items():
            lines.append(
                f"{split:10s} {name:18s} {fmt(v['accuracy']):>9s} {fmt(v['macro_f1']):>9s} {'':>9s} "
                f"{fmt(v['majority_macro_f1']):>11s}  {v['measure']} {fmt(v['official'])}"
                + ("" if v["trained_on"] else "  (not trained on)")
            )
    return "\n".join(lines)


# the flags of stance score, by their ScoreConfig key; each one given overrides the --config file
SCORE_FLAGS = (
    "model",
    "dispute",
    "output",
    "format",
    "batch_size",
    "chunk_articles",
    "backend",
    "engine",
    "workers",
    "ray_address",
    "source_model",
    "source_threshold",
    "attribution_model",
    "attribution_by",
    "attribution_backend",
)


class _ScoreOverride(argparse.Action):
    """``--score.KEY VALUE``, kept in order for :func:`pipeline.config.parse_overrides` (values read as YAML)."""

    def __call__(self, parser, namespace, values, option_string=None):
        namespace.score_overrides = [*namespace.score_overrides, option_string, values]


def _score_config(args, extra: list[str]):
    """The ScoreConfig of a stance score command line: the --config file, then --score.KEY overrides, then flags."""
    from pipeline.config import from_dict, load_score_config, parse_overrides

    for arg in extra:  # argparse knows every --score.KEY, so one left over is a typo
        if arg.startswith("--score."):
            from_dict(ScoreConfig, {arg.split("=", 1)[0][len("--score.") :]: None}, "--score")  # did-you-mean
    if extra:
        raise StanceError(f"score: unexpected arguments {' '.join(extra)}; see stance score --help")
    overrides = parse_overrides(args.score_overrides)
    overrides.update({f"score.{k}": getattr(args, k) for k in SCORE_FLAGS if getattr(args, k) is not None})
    if args.no_progress:
        overrides["score.progress"] = False
    return load_score_config(args.config, overrides)


def cmd_score(args, overrides) -> int:
    cfg = _score_config(args, overrides)
    _banner("score", f"{cfg.model} ({cfg.backend}, {cfg.engine}) on {len(args.inputs)} input(s) -> {cfg.output}")
    from pipeline.contracts import read_label_map
    from pipeline.labels import TASK_LABELS

    lm = read_label_map(cfg.model)
    odd = [t for t, labels in lm["tasks"].items() if TASK_LABELS.get(t) != labels]
    if odd:
        needs = ", ".join(f"{t} {v}" for t, v in TASK_LABELS.items())
        raise StanceError(
            f"{cfg.model}: trained on {lm.get('benchmark') or 'data'} with task {odd[0]} "
            f"{lm['tasks'][odd[0]]}, which scoring commentary cannot use (it needs {needs}); "
            "evaluate it with stance evaluate, or score with a commentary model"
        )
    from pipeline.score.run import score

    summary = score(cfg, args.inputs, command=args.command)
    print(
        f"passages: {summary['passages_file']} ({summary['passages']} rows)\n"
        f"articles: {summary['articles_file']} ({summary['articles']} rows)"
    )
    if summary["rejects"]:
        print(f"rejected: {summary['rejects']} item(s), listed in {summary['rejects_file']}")
    return 0


def cmd_compare(args, overrides) -> int:
    if overrides:
        raise StanceError(f"compare: unexpected arguments {' '.join(overrides)}; see stance compare --help")
    _banner("compare", f"{args.a} vs {args.b}")
    from pipeline.compare.run import compare

    result, out = compare(args.a, args.b, args.output, fail_if_worse=args.fail_if_worse, data=args.data)
    print(f"comparison: {out / 'comparison.json'}\nreport: {out / 'comparison.html'}")
    return 0


def _add_score_command(sub) -> None:
    """``stance score``: today's flags, ``--config`` and the ``--score.KEY VALUE`` overrides."""
    d = ScoreConfig()  # the defaults, for the help
    s = sub.add_parser(
        "score",
        help="batch-score new articles",
        epilog="Every option can also come from a config file (--config configs/score.yaml, its score "
        "section) or a dotted override (--score.backend onnx-int8); flags override both.",
    )
    s.add_argument("inputs", nargs="+", help="files, directories, globs, or - for JSONL on standard input")
    s.add_argument(
        "--config",
        help="config file with a score section, e.g. configs/score.yaml; dotted overrides follow (--score.KEY VALUE)",
    )
    s.add_argument("--model", help="model folder from stance train (required here or in the config)")
    s.add_argument("--dispute", help="dispute config (sides, aliases, actors) (required here or in the config)")
    s.add_argument("--output", help="output folder (required here or in the config)")
    s.add_argument(
        "--format",
        choices=("jsonl", "csv", "parquet"),
        help=f"default {d.format}; csv and parquet need pip install 'stance-pipeline[parquet]'",
    )
    s.add_argument(
        "--batch-size",
        type=int,
        help=f"default {d.batch_size}: at most this many model inputs per forward "
        "pass (int8 and onnx-int8 also cap a pass at 1,024 padded tokens)",
    )
    s.add_argument(
        "--chunk-articles",
        type=int,
        help=f"default {d.chunk_articles}: articles scored between checkpoints (a rerun resumes after the last one)",
    )
    s.add_argument(
        "--backend",
        help=f"default {d.backend}; inference backend. Batch-invariant (a passage gets the "
        "same label whichever passages share its batch): auto (the fastest batch-invariant one for this "
        "machine, chosen from the CPU's flags and a one-off check of onnx-int8-static against fp32 cached "
        "in MODEL/onnx/; logged with its reason), torch (fp32), bf16 (fp32 weights under bfloat16 "
        "autocast; GPUs and CPUs with AVX512-BF16/AMX; as accurate as fp32), onnx (onnxruntime, CPU; "
        "exported once into MODEL/onnx/), onnx-int8-static (that export in int8 with activation scales "
        "calibrated once; as fast as onnx-int8). NOT batch-invariant (activations quantized with one "
        "scale per batch, so a few labels in a hundred change with the batching): int8 (torch dynamic "
        "per-channel quantization, CPU) and onnx-int8 (the export quantized dynamically by onnxruntime). "
        "The onnx ones need pip install 'stance-pipeline[onnx]'",
    )
    s.add_argument(
        "--engine",
        help=f"default {d.engine}: local (this process) or ray (Ray Data actors hold the model; "
        "needs pip install 'stance-pipeline[ray]')",
    )
    s.add_argument("--workers", type=int, help="--engine ray: model actors (default: one per CPU of the cluster)")
    s.add_argument("--ray-address", help="--engine ray: cluster to join (default: $RAY_ADDRESS, else a local Ray)")
    s.add_argument(
        "--source-model",
        help="source-side model folder (make source-model): re-attributes passages where "
        "the attribution rules find no source",
    )
    s.add_argument(
        "--source-threshold",
        type=float,
        help="--source-model: probability the classifier needs to "
        f"re-attribute a passage (default {d.source_threshold}, chosen on the validation, test and seed "
        "splits: lower thresholds re-attribute author passages wrongly)",
    )
    s.add_argument(
        "--attribution-model",
        help="attribution model folder (make attribution): finds who says each passage; without it the rules do",
    )
    s.add_argument(
        "--attribution-by",
        help=f"--attribution-model: default {d.attribution_by}: combined (the model, and the rules where it finds "
        "no speaker), model (the model alone) or rules",
    )
    s.add_argument(
        "--attribution-backend",
        help=f"--attribution-model: default {d.attribution_backend}: torch, int8, onnx or onnx-int8 "
        "(make bench measures each)",
    )
    s.add_argument("--no-progress", action="store_true")
    for f in dataclasses.fields(ScoreConfig):  # --score.KEY VALUE, declared so that VALUE is not taken for an input
        s.add_argument(f"--score.{f.name}", action=_ScoreOverride, metavar="VALUE", help=argparse.SUPPRESS)
    s.set_defaults(func=cmd_score, score_overrides=[])


def make_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="stance", description="Stance and credibility classifiers over commentary.")
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging and full tracebacks")
    p.add_argument("-q", "--quiet", action="store_true", help="warnings and errors only")
    sub = p.add_subparsers(dest="cmd", required=True, metavar="COMMAND")

    b = sub.add_parser("build", help="commentary + dispute + labels -> passage datasets and a data report")
    b.add_argument(
        "config", help="pipeline config, e.g. configs/default.yaml; dotted overrides follow (--build.output DIR)"
    )
    b.set_defaults(func=cmd_build)

    t = sub.add_parser("train", help="fine-tune a classifier on a built dataset")
    t.add_argument("config", help="pipeline config; dotted overrides follow (--train.learning_rate 3e-5)")
    t.add_argument("--check", action="store_true", help="validate config, dataset and model path, then stop")
    t.set_defaults(func=cmd_train)

    e = sub.add_parser("evaluate", help="metrics, baselines, per-passage and per-article report")
    e.add_argument("config", nargs="?", help="pipeline config (model and data paths come from it)")
    e.add_argument("--model", help="model folder from stance train")
    e.add_argument("--data", help="dataset folder from stance build")
    e.add_argument("--split", help="split to evaluate (default: test)")
    e.add_argument("--output", help="report folder (default: MODEL/report)")
    e.add_argument(
        "--passages-from",
        help="attribution models: a built commentary dataset (e.g. data/built/default) whose gold sources "
        "measure who says each passage",
    )
    e.set_defaults(func=cmd_evaluate)

    _add_score_command(sub)

    c = sub.add_parser("compare", help="compare two evaluation reports (or model folders) on the same data")
    c.add_argument("a", help="report folder (or model folder) of version A, the baseline")
    c.add_argument("b", help="report folder (or model folder) of version B")
    c.add_argument("--data", help="dataset folder, when A and B are model folders")
    c.add_argument("--output", help="comparison folder (default: B/compare)")
    c.add_argument(
        "--fail-if-worse",
        metavar="METRIC",
        help="exit 1 when B is significantly worse on METRIC (e.g. side_favored_macro_f1)",
    )
    c.set_defaults(func=cmd_compare)
    return p


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = make_parser()
    args, extra = parser.parse_known_args(argv)
    args.command = "stance " + " ".join(shlex.quote(a) for a in argv)
    _setup_logging(args.verbose, args.quiet)
    try:
        return args.func(args, extra)
    except StanceError as exc:
        if args.verbose:
            log.exception("failed")
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted; partial outputs are kept and a rerun resumes", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug, not a user mistake: one line unless --verbose
        if args.verbose:
            raise
        print(
            f"internal error: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''} "
            "(rerun with --verbose for the traceback)",
            file=sys.stderr,
        )
        return 1
