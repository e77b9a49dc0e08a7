"""``stance compare``: two model versions on the same data.

Reads two report folders (or evaluates two model folders on ``--data``),
refuses reports on different data, and writes ``comparison.json`` and
``comparison.html``: metric deltas with paired-bootstrap 95% confidence
intervals, McNemar's test on correctness, per-class and per-side deltas, and
the passages whose prediction flipped.

Commentary reports are compared over role labels (the report's headline, see
:mod:`pipeline.evaluate.scores`): side favored (``side 1`` / ``side 2`` /
``neutral``), stance and credibility per (passage, side) and the passage's
credibility judgment; side favored and credibility over side names, the
measure before, are under ``by_side_name``. A report written before role
labels is compared over side names only (with a warning), and gating on a
role-label metric names the key its predictions lack.
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
from pipeline.io import iter_jsonl, write_json, write_text

log = logging.getLogger(__name__)

COMPARE_FORMAT = 2
KINDS = ("accuracy", "macro_f1")


def passage_pairs(gold: str, pred: str):
    """A measure read as one (gold, prediction) pair per passage from two keys of its prediction row."""

    def pairs(r: dict) -> list[tuple]:
        return [(r[gold], r[pred])]

    return pairs


def per_side_pairs(task: str):
    """A measure read as one (gold, prediction) pair per (passage, side asked about): the row's ``per_side[task]``."""

    def pairs(r: dict) -> list[tuple]:
        labels = r["per_side"].get(task)
        if labels is None:
            return []
        return list(zip(labels["gold"] or [], labels["pred"]))

    return pairs


# the headline measures of a commentary report, over role labels (see pipeline.evaluate.scores)
MEASURES = {
    "side_favored": passage_pairs("gold_side_favored", "side_favored"),
    "stance_examples": per_side_pairs("stance"),
    "credibility_examples": per_side_pairs("credibility"),
    "credibility_judged": passage_pairs("gold_credibility_judged", "credibility_judged"),
}
# the same passages over side names, as reports measured them before role labels
NAME_MEASURES = {
    "stance": passage_pairs("gold_stance", "stance"),
    "credibility": passage_pairs("gold_credibility", "credibility"),
}
METRICS = {f"{m}_{k}": (m, k) for m in MEASURES for k in KINDS}
NAME_METRICS = {f"{m}_{k}": (m, k) for m in NAME_MEASURES for k in KINDS}


def load_report(path: str | Path) -> tuple[dict, list[dict]]:
    """A report folder's metrics and predictions, checking the format version."""
    return read_report(path)


def _metric(y: list, yhat: list, kind: str) -> float:
    if kind == "accuracy":
        return float(np.mean([a == b for a, b in zip(y, yhat)])) if y else float("nan")
    if kind in ("fnc_score", "semeval_f_avg"):
        from pipeline.analysis.metrics import official_measure

        return official_measure(kind, list(y), list(yhat))
    return macro_f1(y, yhat)


def metrics_of(report_metrics: dict) -> tuple[dict, dict, dict, dict]:
    """A report's comparable metrics and measures: ``(metrics, measures, name metrics, name
    measures)``, metrics as ``{name: (measure, kind)}`` and measures as ``{name: pairs(row)}``.
    Commentary reports compare role labels (side favored, stance and credibility per (passage,
    side), credibility judged) and, under ``by_side_name``, side favored and credibility over side
    names; benchmark reports their task and official measure."""
    if report_metrics.get("kind") == "benchmark":
        task = report_metrics["task"]
        m = {k: (task, k) for k in KINDS}
        measure = report_metrics.get("official_measure")
        if measure in ("fnc_score", "semeval_f_avg"):
            m[measure] = (task, measure)
        return m, {task: passage_pairs("gold", "pred")}, {}, {}
    return dict(METRICS), dict(MEASURES), dict(NAME_METRICS), dict(NAME_MEASURES)


def paired_labels(rows: dict, ids: list[str], pairs) -> tuple[list, list, list]:
    """(gold, prediction, article) lists of one measure over the passages ``ids``.

    Raises:
        KeyError: a row lacks a key the measure reads (a report written before it existed).
    """
    y, yhat, groups = [], [], []
    for i in ids:
        for g, p in pairs(rows[i]):
            y.append(g)
            yhat.append(p)
            groups.append(rows[i]["doc_id"])
    return y, yhat, groups


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


def per_class_deltas(y: list, a: list, b: list) -> dict:
    """Per gold-or-predicted class: F1 of A and B, the delta and the support."""
    ma, mb = classification_metrics(y, a), classification_metrics(y, b)
    return {
        str(lab): {
            "a_f1": v["f1"],
            "b_f1": mb["per_class"].get(lab, {}).get("f1", 0.0),
            "delta": mb["per_class"].get(lab, {}).get("f1", 0.0) - v["f1"],
            "support": v["support"],
        }
        for lab, v in ma["per_class"].items()
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
    metrics, measures, name_metrics, name_measures = metrics_of(ma)
    if fail_if_worse and fail_if_worse not in metrics and fail_if_worse not in name_metrics:
        raise ReportError(
            f"--fail-if-worse {fail_if_worse}: unknown metric; use one of {', '.join([*metrics, *name_metrics])}"
        )
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
    labels, missing = {}, {}
    for measure, pairs in {**measures, **name_measures}.items():
        try:
            (y, la, groups), (_, lb, _) = paired_labels(ra, ids, pairs), paired_labels(rb, ids, pairs)
        except KeyError as e:
            missing[measure] = (paths[0] if all(e.args[0] in r for r in rb.values()) else paths[1], e.args[0])
            continue
        if la and la[0] is not None:  # a model without the task predicts None
            labels[measure] = (y, la, lb, groups)
    if missing:
        path, key = next(iter(missing.values()))
        log.warning(
            "%s: predictions.jsonl has no '%s' (written before role-label metrics): compared over side names only",
            path,
            key,
        )
    sections = {"": (measures, metrics), "by_side_name": (name_measures, name_metrics)}
    for section, (ms, mets) in sections.items():
        if not ms:
            continue
        target = result if not section else result.setdefault(section, {"metrics": {}, "mcnemar": {}})
        for name, (measure, kind) in mets.items():
            if measure in labels:
                y, la, lb, groups = labels[measure]
                target["metrics"][name] = paired_bootstrap(y, la, lb, kind, groups=groups)
        for measure in ms:
            if measure in labels:
                y, la, lb, _ = labels[measure]
                target["mcnemar"][measure] = mcnemar([g == x for g, x in zip(y, la)], [g == x for g, x in zip(y, lb)])
    # per class and per side: the headline measures, or the side-name ones for reports written before them
    shown = [m for m in measures if m in labels] or [m for m in name_measures if m in labels]
    for measure in shown:
        y, la, lb, _ = labels[measure]
        result["per_class"][measure] = per_class_deltas(y, la, lb)
    if shown:
        y, la, lb, _ = labels[shown[0]]  # side favored, or the benchmark's task
        by_side = defaultdict(list)
        for j, g in enumerate(y):
            by_side[g].append(j)
        result["per_side"] = {
            str(g): {
                "n": len(v),
                "a_accuracy": float(np.mean([la[j] == y[j] for j in v])),
                "b_accuracy": float(np.mean([lb[j] == y[j] for j in v])),
            }
            for g, v in sorted(by_side.items(), key=lambda kv: str(kv[0]))
        }
        for v in result["per_side"].values():
            v["delta"] = v["b_accuracy"] - v["a_accuracy"]
    # flipped passages, read by name: side favored (or the benchmark's label) and credibility
    gkey, pkey = ("gold", "pred") if ma.get("kind") == "benchmark" else ("gold_stance", "stance")
    for i in ids:
        if ra[i].get(pkey) != rb[i].get(pkey) or ra[i].get("credibility") != rb[i].get("credibility"):
            result["flipped"].append(
                {
                    "id": i,
                    "text": ra[i]["text"],
                    "gold_stance": ra[i][gkey],
                    "a_stance": ra[i][pkey],
                    "b_stance": rb[i][pkey],
                    "fixed": rb[i][pkey] == ra[i][gkey] and ra[i][pkey] != ra[i][gkey],
                    "broken": ra[i][pkey] == ra[i][gkey] and rb[i][pkey] != ra[i][gkey],
                    "gold_credibility": ra[i].get("gold_credibility"),
                    "a_credibility": ra[i].get("credibility"),
                    "b_credibility": rb[i].get("credibility"),
                }
            )
    result["articles"] = article_changes(paths[0], paths[1], split)
    result["sources"] = source_deltas(paths[0], paths[1])
    verdict = None
    if fail_if_worse:
        section = result if fail_if_worse in metrics else result["by_side_name"]
        measure, kind = (metrics if fail_if_worse in metrics else name_metrics)[fail_if_worse]
        if measure in missing:
            path, key = missing[measure]
            raise ReportError(
                f"{path}: predictions.jsonl has no '{key}' (written before role-label metrics), "
                f"so --fail-if-worse {fail_if_worse} cannot be read; re-run `stance evaluate`"
            )
        m = section["metrics"].get(fail_if_worse)
        significant = section["mcnemar"].get(measure, {}).get("p_value", 1.0) < alpha
        worse = bool(m and m["ci95"][1] < 0 and (significant if kind == "accuracy" else True))
        verdict = {"metric": fail_if_worse, "significantly_worse": worse}
        result["gate"] = verdict
    out = Path(output) if output else paths[1] / "compare"
    write_json(out / "comparison.json", result)
    write_text(out / "comparison.html", render(result))
    if verdict and verdict["significantly_worse"]:
        m = (result["metrics"] if fail_if_worse in metrics else result["by_side_name"]["metrics"])[fail_if_worse]
        raise WorseError(
            f"B is significantly worse on {fail_if_worse}: {m['b']:.4f} vs {m['a']:.4f} "
            f"(delta {m['delta']:+.4f}, 95% CI [{m['ci95'][0]:+.4f}, {m['ci95'][1]:+.4f}]); "
            f"see {out / 'comparison.html'}"
        )
    return result, out


ROLES_NOTE = (
    "<p>Role labels: side favored is side 1 / side 2 / neutral (the sides in dispute config order); "
    "stance and credibility per (passage, side asked about) are favor / against / none and credible / "
    "not_credible / none; credibility judged is side 1:credible ... none.</p>"
)


def source_deltas(a: Path, b: Path) -> dict:
    """A mixture's public benchmarks (``sources.jsonl`` of both report folders): per benchmark, macro-F1
    and accuracy of A and B with the paired-bootstrap interval of B - A (resampling the benchmark's
    documents: tweets, articles, claims). {} when either report has none.

    Raises:
        ReportError: the two reports scored different benchmark examples.
    """
    from pipeline.contracts import SOURCE_PREDICTIONS

    if not (a / SOURCE_PREDICTIONS).is_file() or not (b / SOURCE_PREDICTIONS).is_file():
        return {}
    ra = {r["id"]: r for _, r in iter_jsonl(a / SOURCE_PREDICTIONS)}
    rb = {r["id"]: r for _, r in iter_jsonl(b / SOURCE_PREDICTIONS)}
    if set(ra) != set(rb):
        raise ReportError(
            f"{a} and {b} scored different benchmark examples ({len(set(ra) ^ set(rb))} differ); "
            "evaluate both on the same dataset"
        )
    out = {}
    for name in sorted({r["source"] for r in ra.values()}):
        ids = sorted(i for i, r in ra.items() if r["source"] == name)
        y = [ra[i]["gold"] for i in ids]
        la, lb = [ra[i]["pred"] for i in ids], [rb[i]["pred"] for i in ids]
        groups = [ra[i]["doc_id"] for i in ids]
        out[name] = {
            "n": len(ids),
            "macro_f1": paired_bootstrap(y, la, lb, "macro_f1", groups=groups),
            "accuracy": paired_bootstrap(y, la, lb, "accuracy", groups=groups),
        }
    return out


def article_changes(a: Path, b: Path, split: str) -> list[dict]:
    """The article verdicts of the split that differ between report folders ``a`` and ``b``, each with both
    verdicts, their confidences and the gold answers (commentary reports; [] for others)."""
    from pipeline.contracts import VERDICTS
    from pipeline.io import read_json

    def load(folder: Path) -> dict[str, dict]:
        f = Path(folder) / VERDICTS
        return {v["doc_id"]: v for v in (read_json(f, "verdicts").get(split) or [])} if f.is_file() else {}

    va, vb = load(a), load(b)
    out = []
    for doc in sorted(set(va) & set(vb)):
        x, y = va[doc], vb[doc]
        if (x.get("author_favors"), x.get("more_credible")) == (y.get("author_favors"), y.get("more_credible")):
            continue
        out.append(
            {
                "doc_id": doc,
                "gold_author_favors": x.get("gold_author_favors"),
                "a_author_favors": x.get("author_favors"),
                "a_author_favors_confidence": x.get("author_favors_confidence"),
                "b_author_favors": y.get("author_favors"),
                "b_author_favors_confidence": y.get("author_favors_confidence"),
                "gold_more_credible": x.get("gold_more_credible"),
                "a_more_credible": x.get("more_credible"),
                "a_more_credible_confidence": x.get("more_credible_confidence"),
                "b_more_credible": y.get("more_credible"),
                "b_more_credible_confidence": y.get("more_credible_confidence"),
            }
        )
    return out


def render(result: dict) -> str:
    f = lambda x: "–" if x is None else (f"{x:+.4f}" if isinstance(x, float) else html.escape(str(x)))
    metric_rows = lambda metrics: "".join(
        f"<tr><td>{k}</td><td>{v['a']:.4f}</td><td>{v['b']:.4f}</td><td>{f(v['delta'])}</td>"
        f"<td>[{v['ci95'][0]:+.4f}, {v['ci95'][1]:+.4f}]</td></tr>"
        for k, v in metrics.items()
    )
    rows = metric_rows(result["metrics"])
    names = result.get("by_side_name") or {}
    by_name = ""
    if names.get("metrics"):
        by_name = (
            "<h2>Over side names (the measure before role labels)</h2>"
            "<p>Side favored and credibility judgment with one class per side of every dispute.</p>"
            "<table><tr><th>metric</th><th>A</th><th>B</th><th>delta</th><th>95% CI</th></tr>"
            f"{metric_rows(names['metrics'])}</table>\n"
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
    src = "".join(
        f"<tr><td>{html.escape(name)}</td><td>{v['n']}</td><td>{v['macro_f1']['a']:.4f}</td>"
        f"<td>{v['macro_f1']['b']:.4f}</td><td>{f(v['macro_f1']['delta'])}</td>"
        f"<td>[{v['macro_f1']['ci95'][0]:+.4f}, {v['macro_f1']['ci95'][1]:+.4f}]</td></tr>"
        for name, v in (result.get("sources") or {}).items()
    )
    sources = (
        "<h2>Per source: each public benchmark's test examples (macro-F1, B − A, bootstrap over its documents)</h2>"
        "<table><tr><th>source</th><th>n</th><th>A</th><th>B</th><th>delta</th><th>95% CI</th></tr>"
        f"{src}</table>\n"
        if src
        else ""
    )
    c = lambda x: "-" if x is None else f"{x:.2f}"  # noqa: E731
    arts = "".join(
        f"<tr><td>{html.escape(v['doc_id'])}</td><td>{html.escape(str(v['gold_author_favors']))}</td>"
        f"<td>{html.escape(str(v['a_author_favors']))} ({c(v['a_author_favors_confidence'])})</td>"
        f"<td>{html.escape(str(v['b_author_favors']))} ({c(v['b_author_favors_confidence'])})</td>"
        f"<td>{html.escape(str(v['gold_more_credible']))}</td>"
        f"<td>{html.escape(str(v['a_more_credible']))} ({c(v['a_more_credible_confidence'])})</td>"
        f"<td>{html.escape(str(v['b_more_credible']))} ({c(v['b_more_credible_confidence'])})</td></tr>"
        for v in result.get("articles") or []
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
        f"{ROLES_NOTE if 'by_side_name' in result else ''}"
        f"<table><tr><th>metric</th><th>A</th><th>B</th><th>delta</th><th>95% CI</th></tr>{rows}</table>\n"
        f"{by_name}{sources}"
        "<h2>McNemar's test on correctness (per passage; per (passage, side) for the examples)</h2>"
        f"<table><tr><th>measure</th><th>A right, B wrong</th><th>B right, A wrong</th><th>p</th></tr>{mc}</table>\n"
        "<h2>Per-class F1</h2>"
        f"<table><tr><th>measure</th><th>class</th><th>A</th><th>B</th><th>delta</th><th>support</th></tr>{pc}</table>\n"
        "<h2>Per side (gold side favored)</h2>"
        f"<table><tr><th>side</th><th>n</th><th>A accuracy</th><th>B accuracy</th><th>delta</th></tr>{ps}</table>\n"
        f"<h2>Flipped passages ({len(result['flipped'])})</h2><p>Green: B fixed it; red: B broke it.</p>"
        "<table><tr><th>id</th><th>text</th><th>gold stance</th><th>A</th><th>B</th><th>gold credibility</th>"
        f"<th>A</th><th>B</th></tr>{fl}</table>\n"
        f"<h2>Changed article verdicts ({len(result.get('articles') or [])})</h2>"
        "<table><tr><th>article</th><th>gold favors</th><th>A (confidence)</th><th>B (confidence)</th>"
        f"<th>gold more credible</th><th>A (confidence)</th><th>B (confidence)</th></tr>{arts}</table>\n"
        "</body></html>"
    )
