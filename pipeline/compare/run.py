"""``stance compare``: two model versions on the same data.

Reads two report folders (or evaluates two model folders on ``--data``),
refuses reports on different data, and writes ``comparison.json`` and
``comparison.html``: metric deltas with paired-bootstrap 95% confidence
intervals, McNemar's test on passage correctness, per-class and per-side
deltas, and the passages whose prediction flipped.
"""

from __future__ import annotations

import html
import logging
from collections import defaultdict
from pathlib import Path

import numpy as np

from pipeline.analysis.metrics import classification_metrics, macro_f1
from pipeline.contracts import is_model_folder, read_report, report_dir_of
from pipeline.errors import ReportError, WorseError
from pipeline.io import write_json, write_text

log = logging.getLogger(__name__)

COMPARE_FORMAT = 1
METRICS = {
    "stance_accuracy": ("gold_stance", "stance", "accuracy"),
    "stance_macro_f1": ("gold_stance", "stance", "macro_f1"),
    "credibility_accuracy": ("gold_credibility", "credibility", "accuracy"),
    "credibility_macro_f1": ("gold_credibility", "credibility", "macro_f1"),
}


def load_report(path: str | Path) -> tuple[dict, list[dict]]:
    """A report folder's metrics and predictions, checking the format version."""
    return read_report(path)


BENCHMARK_METRICS = {
    "accuracy": ("gold", "pred", "accuracy"),
    "macro_f1": ("gold", "pred", "macro_f1"),
}


def _metric(y: list, yhat: list, kind: str) -> float:
    if kind == "accuracy":
        return float(np.mean([a == b for a, b in zip(y, yhat)])) if y else float("nan")
    if kind in ("fnc_score", "semeval_f_avg"):
        from pipeline.analysis.metrics import official_measure

        return official_measure(kind, list(y), list(yhat))
    return macro_f1(y, yhat)


def metrics_of(report_metrics: dict) -> tuple[dict, list[tuple[str, str, str]]]:
    """The comparable metrics of a report ({name: (gold key, prediction key, kind)})
    and its tasks [(task, gold key, prediction key)]: commentary reports compare
    side favored and credibility; benchmark reports their task and official measure."""
    if report_metrics.get("kind") == "benchmark":
        m = dict(BENCHMARK_METRICS)
        measure = report_metrics.get("official_measure")
        if measure in ("fnc_score", "semeval_f_avg"):
            m[measure] = ("gold", "pred", measure)
        return m, [(report_metrics["task"], "gold", "pred")]
    return dict(METRICS), [("stance", "gold_stance", "stance"), ("credibility", "gold_credibility", "credibility")]


def paired_bootstrap(
    y: list, a: list, b: list, kind: str, n: int = 1000, seed: int = 0, groups: list | None = None
) -> dict:
    """Delta B - A with a 95% interval from a paired bootstrap.

    Resamples articles (``groups``) when given, since passages of one article
    are not independent; else passages.
    """
    rng = np.random.default_rng(seed)
    y, a, b = np.asarray(y, dtype=object), np.asarray(a, dtype=object), np.asarray(b, dtype=object)
    delta = _metric(list(y), list(b), kind) - _metric(list(y), list(a), kind)
    if groups is not None:
        by = defaultdict(list)
        for i, g in enumerate(groups):
            by[g].append(i)
        units = list(by.values())
    else:
        units = [[i] for i in range(len(y))]
    deltas = []
    for _ in range(n):
        pick = rng.integers(0, len(units), len(units))
        idx = [i for u in pick for i in units[u]]
        deltas.append(_metric(list(y[idx]), list(b[idx]), kind) - _metric(list(y[idx]), list(a[idx]), kind))
    lo, hi = np.percentile(deltas, [2.5, 97.5])
    return {
        "a": _metric(list(y), list(a), kind),
        "b": _metric(list(y), list(b), kind),
        "delta": delta,
        "ci95": [float(lo), float(hi)],
        "p_b_not_better": float(np.mean(np.asarray(deltas) <= 0)),
        "resampled": "articles" if groups is not None else "passages",
    }


def mcnemar(correct_a: list[bool], correct_b: list[bool]) -> dict:
    """McNemar's test (exact binomial for small discordant counts, chi-square with continuity otherwise)."""
    from scipy.stats import binomtest, chi2

    only_a = sum(1 for x, y in zip(correct_a, correct_b) if x and not y)
    only_b = sum(1 for x, y in zip(correct_a, correct_b) if y and not x)
    n = only_a + only_b
    if n == 0:
        p = 1.0
    elif n < 25:
        p = binomtest(only_a, n, 0.5).pvalue
    else:
        stat = (abs(only_a - only_b) - 1) ** 2 / n
        p = float(chi2.sf(stat, 1))
    return {"a_right_b_wrong": only_a, "b_right_a_wrong": only_b, "p_value": float(p)}


def compare(
    a: str,
    b: str,
    output: str | None = None,
    fail_if_worse: str | None = None,
    data: str | None = None,
    alpha: float = 0.05,
) -> tuple[dict, Path]:
    """Compare report (or model) folders A (baseline) and B.

    Raises:
        ReportError: reports on different data, old formats, unknown metric.
        WorseError: with ``fail_if_worse``, when B is significantly worse.
    """
    paths = []
    for x in (a, b):
        px = Path(x)
        if is_model_folder(px):
            if not data:
                raise ReportError(
                    f"{x}: is a model folder; pass --data DATASET_DIR to evaluate it, or pass its report folder"
                )
            from pipeline.evaluate.run import evaluate

            px = evaluate(px, data, report_dir_of(px))
        paths.append(px)
    (ma, pa), (mb, pb) = load_report(paths[0]), load_report(paths[1])
    if ma.get("kind", "commentary") != mb.get("kind", "commentary"):
        raise ReportError(
            f"{paths[0]} is a {ma.get('kind', 'commentary')} report, "
            f"{paths[1]} a {mb.get('kind', 'commentary')} report; compare two reports on the same data"
        )
    metrics, tasks = metrics_of(ma)
    if fail_if_worse and fail_if_worse not in metrics:
        raise ReportError(f"--fail-if-worse {fail_if_worse}: unknown metric; use one of {', '.join(metrics)}")
    if ma["data"]["data_hash"] != mb["data"]["data_hash"]:
        raise ReportError(
            f"{paths[0]} and {paths[1]} were evaluated on different data "
            f"(hash {ma['data']['data_hash'][:12]} vs {mb['data']['data_hash'][:12]}); "
            "evaluate both on the same dataset"
        )
    if ma["primary_split"] != mb["primary_split"]:
        raise ReportError(
            f"{paths[0]} evaluates split {ma['primary_split']}, {paths[1]} split {mb['primary_split']}; "
            "evaluate both on the same split"
        )
    split = ma["primary_split"]
    ra = {r["id"]: r for r in pa if r["split"] == split and r["has_gold"]}
    rb = {r["id"]: r for r in pb if r["split"] == split and r["has_gold"]}
    if set(ra) != set(rb):
        raise ReportError(
            f"{paths[0]} and {paths[1]} scored different passages ({len(set(ra) ^ set(rb))} differ); "
            "evaluate both on the same dataset and split"
        )
    ids = sorted(ra)
    result = {
        "format_version": COMPARE_FORMAT,
        "a": str(paths[0]),
        "b": str(paths[1]),
        "split": split,
        "n": len(ids),
        "metrics": {},
        "mcnemar": {},
        "per_class": {},
        "per_side": {},
        "flipped": [],
    }
    groups = [ra[i]["doc_id"] for i in ids]
    for name, (gkey, pkey, kind) in metrics.items():
        if ra[ids[0]].get(pkey) is None if ids else True:
            continue
        y = [ra[i][gkey] for i in ids]
        result["metrics"][name] = paired_bootstrap(
            y, [ra[i][pkey] for i in ids], [rb[i][pkey] for i in ids], kind, groups=groups
        )
    for task, gkey, pkey in tasks:
        if not ids or ra[ids[0]].get(pkey) is None:
            continue
        ca = [ra[i][pkey] == ra[i][gkey] for i in ids]
        cb = [rb[i][pkey] == rb[i][gkey] for i in ids]
        result["mcnemar"][task] = mcnemar(ca, cb)
        y = [ra[i][gkey] for i in ids]
        ma_ = classification_metrics(y, [ra[i][pkey] for i in ids])
        mb_ = classification_metrics(y, [rb[i][pkey] for i in ids])
        result["per_class"][task] = {
            lab: {
                "a_f1": ma_["per_class"][lab]["f1"],
                "b_f1": mb_["per_class"].get(lab, {}).get("f1", 0.0),
                "delta": mb_["per_class"].get(lab, {}).get("f1", 0.0) - ma_["per_class"][lab]["f1"],
                "support": ma_["per_class"][lab]["support"],
            }
            for lab in ma_["per_class"]
        }
    _task, gkey, pkey = tasks[
        0
    ]  # per side (gold label) and flips are read on the first task: side favored, or the benchmark's task
    by_side = defaultdict(list)
    for i in ids:
        by_side[ra[i][gkey]].append(i)
    result["per_side"] = {
        s: {
            "n": len(v),
            "a_accuracy": float(np.mean([ra[i][pkey] == ra[i][gkey] for i in v])),
            "b_accuracy": float(np.mean([rb[i][pkey] == rb[i][gkey] for i in v])),
        }
        for s, v in sorted(by_side.items())
    }
    for s in result["per_side"].values():
        s["delta"] = s["b_accuracy"] - s["a_accuracy"]
    for i in ids:
        if any(ra[i].get(p) != rb[i].get(p) for _t, _g, p in tasks):
            row = {
                "id": i,
                "text": ra[i]["text"],
                "gold_stance": ra[i][gkey],
                "a_stance": ra[i][pkey],
                "b_stance": rb[i][pkey],
                "fixed": rb[i][pkey] == ra[i][gkey] and ra[i][pkey] != ra[i][gkey],
                "broken": ra[i][pkey] == ra[i][gkey] and rb[i][pkey] != ra[i][gkey],
            }
            row.update(
                {
                    "gold_credibility": ra[i].get("gold_credibility"),
                    "a_credibility": ra[i].get("credibility"),
                    "b_credibility": rb[i].get("credibility"),
                }
            )
            result["flipped"].append(row)
    verdict = None
    if fail_if_worse:
        m = result["metrics"].get(fail_if_worse)
        task = fail_if_worse.split("_")[0] if ma.get("kind") != "benchmark" else tasks[0][0]
        worse = (
            bool(m and m["ci95"][1] < 0 and result["mcnemar"].get(task, {}).get("p_value", 1.0) < alpha)
            if "accuracy" in fail_if_worse
            else bool(m and m["ci95"][1] < 0)
        )
        verdict = {"metric": fail_if_worse, "significantly_worse": worse}
        result["gate"] = verdict
    out = Path(output) if output else paths[1] / "compare"
    write_json(out / "comparison.json", result)
    write_text(out / "comparison.html", render(result))
    if verdict and verdict["significantly_worse"]:
        m = result["metrics"][fail_if_worse]
        raise WorseError(
            f"B is significantly worse on {fail_if_worse}: {m['b']:.4f} vs {m['a']:.4f} "
            f"(delta {m['delta']:+.4f}, 95% CI [{m['ci95'][0]:+.4f}, {m['ci95'][1]:+.4f}]); "
            f"see {out / 'comparison.html'}"
        )
    return result, out


def render(result: dict) -> str:
    f = lambda x: "–" if x is None else (f"{x:+.4f}" if isinstance(x, float) else html.escape(str(x)))
    rows = "".join(
        f"<tr><td>{k}</td><td>{v['a']:.4f}</td><td>{v['b']:.4f}</td><td>{f(v['delta'])}</td>"
        f"<td>[{v['ci95'][0]:+.4f}, {v['ci95'][1]:+.4f}]</td></tr>"
        for k, v in result["metrics"].items()
    )
    mc = "".join(
        f"<tr><td>{k}</td><td>{v['a_right_b_wrong']}</td><td>{v['b_right_a_wrong']}</td><td>{v['p_value']:.4g}</td></tr>"
        for k, v in result["mcnemar"].items()
    )
    pc = "".join(
        f"<tr><td>{t}</td><td>{html.escape(lab)}</td><td>{v['a_f1']:.3f}</td><td>{v['b_f1']:.3f}</td><td>{f(v['delta'])}</td><td>{v['support']}</td></tr>"
        for t, d in result["per_class"].items()
        for lab, v in d.items()
    )
    ps = "".join(
        f"<tr><td>{html.escape(str(s))}</td><td>{v['n']}</td><td>{v['a_accuracy']:.3f}</td><td>{v['b_accuracy']:.3f}</td><td>{f(v['delta'])}</td></tr>"
        for s, v in result["per_side"].items()
    )
    fl = "".join(
        f"<tr class='{'ok' if x['fixed'] else 'bad' if x['broken'] else ''}'><td>{x['id']}</td>"
        f"<td>{html.escape(x['text'])}</td><td>{x['gold_stance']}</td><td>{x['a_stance']}</td><td>{x['b_stance']}</td>"
        f"<td>{x['gold_credibility']}</td><td>{x['a_credibility']}</td><td>{x['b_credibility']}</td></tr>"
        for x in result["flipped"]
    )
    gate = ""
    if result.get("gate"):
        gate = (
            f"<p><b>Gate on {result['gate']['metric']}:</b> "
            f"{'B is significantly worse' if result['gate']['significantly_worse'] else 'B is not significantly worse'}"
            ".</p>"
        )
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Model comparison</title>\n'
        "<style>body{font-family:system-ui,sans-serif;max-width:1200px;margin:1.5rem auto}"
        "table{border-collapse:collapse;font-size:.85rem;margin:.5rem 0}"
        "td,th{border:1px solid #ddd;padding:.25rem .5rem;text-align:left}th{background:#f3f3f3}"
        ".ok{background:#eaf7ea}.bad{background:#fbeaea}</style></head><body>\n"
        f"<h1>Model comparison</h1><p>A (baseline): <code>{html.escape(result['a'])}</code>"
        f"<br>B: <code>{html.escape(result['b'])}</code>"
        f"<br>split {html.escape(result['split'])}, {result['n']} labelled passages.</p>{gate}\n"
        "<h2>Metrics (B − A, paired bootstrap over articles, 95% CI)</h2>"
        f"<table><tr><th>metric</th><th>A</th><th>B</th><th>delta</th><th>95% CI</th></tr>{rows}</table>\n"
        "<h2>McNemar's test on passage correctness</h2>"
        f"<table><tr><th>task</th><th>A right, B wrong</th><th>B right, A wrong</th><th>p</th></tr>{mc}</table>\n"
        "<h2>Per-class F1</h2>"
        f"<table><tr><th>task</th><th>class</th><th>A</th><th>B</th><th>delta</th><th>support</th></tr>{pc}</table>\n"
        "<h2>Per side (gold stance)</h2>"
        f"<table><tr><th>side</th><th>n</th><th>A accuracy</th><th>B accuracy</th><th>delta</th></tr>{ps}</table>\n"
        f"<h2>Flipped passages ({len(result['flipped'])})</h2><p>Green: B fixed it; red: B broke it.</p>"
        "<table><tr><th>id</th><th>text</th><th>gold stance</th><th>A</th><th>B</th><th>gold credibility</th>"
        f"<th>A</th><th>B</th></tr>{fl}</table>\n"
        "</body></html>"
    )
