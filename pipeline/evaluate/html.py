"""Render an evaluation result as one self-contained HTML page (plots inline) and Markdown."""

from __future__ import annotations

import base64
import html
import io

import numpy as np


def _png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def confusion_plot(metrics: dict, title: str) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = metrics["confusion"]["labels"]
    m = np.array(metrics["confusion"]["matrix"])
    fig, ax = plt.subplots(figsize=(1.1 + 0.65 * len(labels), 0.9 + 0.6 * len(labels)))
    ax.imshow(m, cmap="Blues")
    ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(len(labels)), labels, fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("gold")
    ax.set_title(title, fontsize=10)
    for i in range(m.shape[0]):
        for j in range(m.shape[1]):
            ax.text(
                j,
                i,
                int(m[i, j]),
                ha="center",
                va="center",
                fontsize=8,
                color="white" if m[i, j] > m.max() / 2 else "black",
            )
    return _png(fig)


def reliability_plot(cal: dict, title: str) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    bins = [b for b in cal["bins"] if b["n"]]
    fig, ax = plt.subplots(figsize=(4, 3.6))
    ax.plot([0, 1], [0, 1], "--", color="grey", lw=1, label="perfect calibration")
    ax.bar(
        [(b["lo"] + b["hi"]) / 2 for b in bins],
        [b["accuracy"] for b in bins],
        width=0.09,
        alpha=0.7,
        label="accuracy per bin",
    )
    ax.plot(
        [b["confidence"] for b in bins], [b["accuracy"] for b in bins], "o-", color="C3", ms=3, label="mean confidence"
    )
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("confidence")
    ax.set_ylabel("accuracy")
    ax.set_title(f"{title} (ECE {cal['ece']:.3f})", fontsize=10)
    ax.legend(fontsize=7, loc="upper left")
    return _png(fig)


def f1_plot(named: dict[str, dict], title: str) -> str:
    """Per-class F1 of the model beside macro-F1 of baselines."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(named)
    vals = [named[n] if named[n] is not None else 0 for n in names]
    fig, ax = plt.subplots(figsize=(max(4, 0.6 * len(names) + 1.5), 3))
    ax.bar(range(len(names)), vals, color=["C0" if not n.startswith("baseline") else "C7" for n in names])
    ax.set_xticks(range(len(names)), names, rotation=40, ha="right", fontsize=8)
    ax.set_ylim(0, 1)
    ax.set_ylabel("F1")
    ax.set_title(title, fontsize=10)
    for i, v in enumerate(vals):
        ax.text(i, v + 0.02, f"{v:.2f}", ha="center", fontsize=7)
    return _png(fig)


def _fmt(x) -> str:
    if x is None:
        return "–"
    if isinstance(x, float):
        return f"{x:.3f}"
    return html.escape(str(x))


def _metric_table(m: dict) -> str:
    rows = "".join(
        f"<tr><td>{html.escape(lab)}</td><td>{_fmt(v['precision'])}</td><td>{_fmt(v['recall'])}</td><td>{_fmt(v['f1'])}</td><td>{v['support']}</td></tr>"
        for lab, v in m["per_class"].items()
    )
    return (
        "<table class='metrics'><thead><tr><th>class</th><th>precision</th><th>recall</th><th>F1</th>"
        f"<th>support</th></tr></thead><tbody>{rows}</tbody></table>"
    )


CSS = (
    "\n"
    "body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:1.5rem auto;max-width:1200px;color:#222;"
    "line-height:1.4}\n"
    "h1{font-size:1.5rem}h2{font-size:1.2rem;border-bottom:1px solid #ddd;padding-bottom:.2rem;margin-top:2rem}"
    "h3{font-size:1rem}\n"
    "table{border-collapse:collapse;margin:.5rem 0;font-size:.85rem}"
    "th,td{border:1px solid #ddd;padding:.25rem .5rem;text-align:left;vertical-align:top}\n"
    "th{background:#f3f3f3}.ok{background:#eaf7ea}.bad{background:#fbeaea}.muted{color:#777}"
    ".figs img{margin:.3rem;border:1px solid #eee}\n"
    ".card{border:1px solid #ddd;border-radius:6px;padding:.6rem 1rem;margin:.8rem 0}.verdict{font-weight:600}\n"
    "details summary{cursor:pointer}\n"
    "table.confusion{display:inline-table;margin-right:1.5rem}table.confusion td{text-align:right}"
    "caption{font-size:.8rem;text-align:left;color:#555}\n"
)


ROLE_LABELS = (
    "Headline figures are over role labels, the same few in every dispute: side favored is side 1 / side 2 / "
    "neutral (side 1 is the first side in the dispute config, side 2 the second, side 3 and on where a dispute "
    "has more); stance and credibility per (passage, side asked about), the model's own examples, are favor / "
    "against / none and credible / not_credible / none; a passage's credibility judgment is side 1:credible ... "
    "none. Each dispute's figures with its side names are in the tables by dispute; the pooled figures over side "
    "names (one class per side of every dispute), as reports measured them before, are under by_side_name."
)


def headline_sections(pm: dict, ex: dict) -> list[tuple]:
    """The report's headline tables: (key, title, model metrics, baseline metrics getter), in reading order."""
    return [
        (
            "side favored",
            "side favored: which side the passage favors (side 1 / side 2 / neutral)",
            pm.get("side_favored"),
            lambda b: b.get("side_favored"),
        ),
        (
            "stance",
            "stance per (passage, side asked about): favor / against / none, as the model was trained",
            ex.get("stance"),
            lambda b: (b.get("examples") or {}).get("stance"),
        ),
        (
            "credibility",
            "credibility per (passage, side asked about): credible / not_credible / none, as the model was trained",
            ex.get("credibility"),
            lambda b: (b.get("examples") or {}).get("credibility"),
        ),
        (
            "credibility judged",
            "credibility judgment per passage: which side’s account it judges, and how (side 1:credible ... none)",
            pm.get("credibility_judged"),
            lambda b: b.get("credibility_judged"),
        ),
    ]


def _side_favored_notes(pm: dict) -> str:
    out = ""
    if "side_favored_high_confidence" in pm:
        hc = pm["side_favored_high_confidence"]
        out += (
            f"<p>High-confidence gold passages only: accuracy {_fmt(hc['accuracy'])}, "
            f"macro-F1 {_fmt(hc['macro_f1'])} (n={hc['n']}). "
            + "By voice: "
            + ", ".join(
                f"{k}: macro-F1 {_fmt(v['macro_f1'])} (n={v['n']})"
                for k, v in pm.get("side_favored_by_voice", {}).items()
            )
            + "</p>"
        )
    if pm.get("stance_risk_coverage"):
        out += (
            "<p>Abstaining below a side-favored probability "
            "(set <code>train.abstain_threshold</code> to apply one when scoring):</p>"
            "<table><thead><tr><th>threshold</th><th>passages kept</th><th>accuracy on kept</th>"
            "<th>macro-F1 on kept</th></tr></thead><tbody>"
            + "".join(
                f"<tr><td>{x['threshold']:.1f}</td><td>{x['coverage']:.0%} ({x['n']})</td>"
                f"<td>{_fmt(x['accuracy'])}</td><td>{_fmt(x['macro_f1'])}</td></tr>"
                for x in pm["stance_risk_coverage"]
            )
            + "</tbody></table>"
        )
    return out


def _sides(t: dict) -> str:
    return ", ".join(f"{role} = {name}" for role, name in t["sides"].items())


def _confusion_table(m: dict, title: str) -> str:
    """A small confusion matrix as an HTML table (gold down, predicted across)."""
    labels, matrix = m["confusion"]["labels"], m["confusion"]["matrix"]
    if not matrix:
        return ""
    head = "".join(f"<th>{html.escape(str(lab))}</th>" for lab in labels)
    body = "".join(
        f"<tr><th>{html.escape(str(lab))}</th>" + "".join(f"<td>{x}</td>" for x in row) + "</tr>"
        for lab, row in zip(labels, matrix)
    )
    return (
        f"<table class='confusion'><caption>{html.escape(title)} (gold down, predicted across)</caption>"
        f"<thead><tr><th></th>{head}</tr></thead><tbody>{body}</tbody></table>"
    )


def _dispute_tables(by_dispute: dict) -> str:
    get = lambda t, k, what: (t.get(k) or {}).get(what)
    rows = "".join(
        f"<tr><td>{html.escape(name)}</td><td>{html.escape(_sides(t))}</td><td>{t['n']}</td>"
        f"<td>{_fmt(get(t, 'side_favored', 'accuracy'))}</td><td>{_fmt(get(t, 'side_favored', 'macro_f1'))}</td>"
        f"<td>{_fmt(get(t, 'credibility', 'accuracy'))}</td><td>{_fmt(get(t, 'credibility', 'macro_f1'))}</td></tr>"
        for name, t in by_dispute.items()
    )
    details = "".join(
        f"<details><summary>{html.escape(name)} ({html.escape(_sides(t))})</summary><div class='figs'>"
        + "".join(_confusion_table(t[k], f"{name}: {k}") for k in ("side_favored", "credibility") if t.get(k))
        + "</div></details>"
        for name, t in by_dispute.items()
    )
    return (
        "<h3>By dispute, with side names</h3>"
        "<table><thead><tr><th>dispute</th><th>sides</th><th>passages</th><th>side favored accuracy</th>"
        "<th>side favored macro-F1</th><th>credibility accuracy</th><th>credibility macro-F1</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>{details}"
    )


def _dispute_markdown(by_dispute: dict) -> list[str]:
    get = lambda t, k, what: (t.get(k) or {}).get(what)
    return (
        [
            "### By dispute, with side names",
            "",
            "| dispute | sides | passages | side favored acc. | macro-F1 | credibility acc. | macro-F1 |",
            "|---|---|---|---|---|---|---|",
        ]
        + [
            f"| {name} | {_sides(t)} | {t['n']} | {_fmt(get(t, 'side_favored', 'accuracy'))} "
            f"| {_fmt(get(t, 'side_favored', 'macro_f1'))} | {_fmt(get(t, 'credibility', 'accuracy'))} "
            f"| {_fmt(get(t, 'credibility', 'macro_f1'))} |"
            for name, t in by_dispute.items()
        ]
        + [""]
    )


def _by_side_name_line(names: dict) -> str:
    parts = []
    for key, what in (("stance", "side favored"), ("credibility", "credibility judgment")):
        if names.get(key):
            m = names[key]
            parts.append(
                f"{what} accuracy {_fmt(m['accuracy'])}, macro-F1 {_fmt(m['macro_f1'])} "
                f"over {len(m['confusion']['labels'])} classes"
            )
    return (
        "Over side names (one class per side of every dispute; the measure before role labels, by_side_name in "
        "metrics.json): " + "; ".join(parts) + "."
    )


def _sources_section(sources: dict, primary: str) -> tuple[str, list[str]]:
    """A mixture's public benchmarks, each on its own examples: a table per split and a plot of the
    primary split's macro-F1 beside each benchmark's majority class."""
    head = (
        "<tr><th>source</th><th>task</th><th>n</th><th>trained on</th><th>measure</th><th>value</th>"
        "<th>macro-F1</th><th>accuracy</th><th>majority macro-F1</th></tr>"
    )
    parts = [
        "<h2>Per source (each public benchmark's own examples, in the commentary input)</h2>",
        "<p>Labels over roles; decoding restricted to the labels each benchmark has. "
        "<i>trained on</i> no: the model never saw this source's train split (leave-one-source-out).</p>",
    ]
    md = ["", "## Per source", ""]
    for split, per in sources.items():
        if not per:
            continue
        rows = "".join(
            f"<tr><td>{html.escape(n)}</td><td>{v['task']}</td><td>{v['n']}</td>"
            f"<td>{'yes' if v['trained_on'] else 'no'}</td><td>{html.escape(str(v['measure']))}</td>"
            f"<td>{_fmt(v['official'])}</td><td>{_fmt(v['macro_f1'])}</td><td>{_fmt(v['accuracy'])}</td>"
            f"<td>{_fmt(v['majority_macro_f1'])}</td></tr>"
            for n, v in per.items()
        )
        parts.append(f"<h3>split {html.escape(split)}</h3><table><thead>{head}</thead><tbody>{rows}</tbody></table>")
        md += [
            f"### split {split}",
            "",
            "| source | task | n | trained on | measure | value | macro-F1 | majority macro-F1 |",
            "|---|---|---|---|---|---|---|---|",
        ] + [
            f"| {n} | {v['task']} | {v['n']} | {'yes' if v['trained_on'] else 'no'} | {v['measure']} | "
            f"{_fmt(v['official'])} | {_fmt(v['macro_f1'])} | {_fmt(v['majority_macro_f1'])} |"
            for n, v in per.items()
        ]
        md.append("")
    per = sources.get(primary) or {}
    if per:
        named = {}
        for n, v in per.items():
            named[n] = v["macro_f1"]
            named[f"baseline {n} majority"] = v["majority_macro_f1"]
        title = f"macro-F1 per source ({primary}), beside each source's majority class"
        parts.append(f"<div class='figs'><img alt='macro-F1 per source' src='{f1_plot(named, title)}'></div>")
    return "".join(parts), md


def render_report(result: dict, predictions: list[dict], verdicts: dict, disputes: dict) -> tuple[str, str]:
    """Returns (html, markdown)."""
    s = result["summary"]
    flat = [(k, v) for k, v in s.items() if not isinstance(v, dict)]
    flat += [(f"{k} (over side names, as before)", v) for k, v in (s.get("by_side_name") or {}).items()]
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Evaluation report</title>"
        f"<style>{CSS}</style></head><body>"
    ]
    parts.append("<h1>Evaluation report</h1>")
    parts.append(
        f"<p>Model <code>{html.escape(str(result['model']['path']))}</code> "
        f"(version {html.escape(str(result['model']['version']))}, "
        f"base {html.escape(str(result['model']['base_model']))}) "
        f"on <code>{html.escape(result['data']['path'])}</code> (data hash {result['data']['data_hash'][:12]}). "
        f"Primary split: <b>{result['primary_split']}</b>.</p>"
    )
    parts.append(f"<p>{html.escape(ROLE_LABELS)}</p>")
    parts.append(
        "<h2>Summary</h2><table class='summary'><tbody>"
        + "".join(f"<tr><th>{html.escape(k)}</th><td>{_fmt(v)}</td></tr>" for k, v in flat)
        + "</tbody></table>"
    )
    md = [
        "# Evaluation report",
        "",
        f"Model `{result['model']['path']}` on `{result['data']['path']}`, primary split `{result['primary_split']}`.",
        "",
        ROLE_LABELS,
        "",
        "| metric | value |",
        "|---|---|",
    ]
    md += [f"| {k} | {_fmt(v)} |" for k, v in flat]
    if result.get("sources"):
        page, lines = _sources_section(result["sources"], result["primary_split"])
        parts.append(page)
        md += lines
    for split, sres in result["splits"].items():
        pm = sres["passages"]
        ex = sres.get("examples") or {}
        parts.append(f"<h2>Split: {html.escape(split)} ({pm.get('n', 0)} labelled passages)</h2>")
        md += ["", f"## Split {split}", ""]
        base = sres.get("baselines") or {}
        for key, title, m, of_baseline in headline_sections(pm, ex):
            if not m or not m.get("n"):
                continue
            rows = [("model", m)] + [(f"baseline: {n}", of_baseline(b)) for n, b in base.items() if of_baseline(b)]
            parts.append(f"<h3>{html.escape(title)}</h3>")
            parts.append(
                "<table><thead><tr><th>system</th><th>accuracy</th><th>macro-F1</th></tr></thead><tbody>"
                + "".join(
                    f"<tr><td>{html.escape(n)}</td><td>{_fmt(x['accuracy'])}</td><td>{_fmt(x['macro_f1'])}</td></tr>"
                    for n, x in rows
                )
                + "</tbody></table>"
            )
            md += (
                [f"### {title}", "", "| system | accuracy | macro-F1 |", "|---|---|---|"]
                + [f"| {n} | {_fmt(x['accuracy'])} | {_fmt(x['macro_f1'])} |" for n, x in rows]
                + [""]
            )
            figs = [f"<img alt='{key} confusion matrix' src='{confusion_plot(m, f'{key} confusion ({split})')}'>"]
            f1s = {lab: v["f1"] for lab, v in m["per_class"].items()}
            f1s.update({f"baseline {n}": of_baseline(b)["macro_f1"] for n, b in base.items() if of_baseline(b)})
            f1s["model macro-F1"] = m["macro_f1"]
            figs.append(
                f"<img alt='{key} F1 per class' src='{f1_plot(f1s, f'{key}: F1 per class and macro-F1 vs baselines')}'>"
            )
            if key == "side favored" and pm.get("stance_calibration", {}).get("ece") is not None:
                figs.append(
                    "<img alt='reliability diagram' "
                    f"src='{reliability_plot(pm['stance_calibration'], 'side favored: reliability')}'>"
                )
            parts.append("<div class='figs'>" + "".join(figs) + "</div>")
            parts.append(_metric_table(m))
            if key == "side favored":
                parts.append(_side_favored_notes(pm))
            if key == "credibility judged" and "credibility_judged_model_only" in pm:
                cf = pm["credibility_cue_fallbacks"]
                parts.append(
                    f"<p>The model alone: accuracy {_fmt(pm['credibility_judged_model_only']['accuracy'])}, "
                    f"macro-F1 {_fmt(pm['credibility_judged_model_only']['macro_f1'])}. "
                    "The explicit-cue fallback (author-voice passages the model judges none) "
                    f"judged {cf['n']} passages, {cf['right']} of them as gold does.</p>"
                )
        other = {t: v for t, v in ex.items() if t not in ("stance", "credibility")}
        if other:
            parts.append(
                "<h3>Other tasks per (passage, side) example (as trained)</h3>"
                "<table><thead><tr><th>task</th><th>accuracy</th><th>macro-F1</th><th>n</th></tr></thead><tbody>"
                + "".join(
                    f"<tr><td>{t}</td><td>{_fmt(v['accuracy'])}</td><td>{_fmt(v['macro_f1'])}</td><td>{v['n']}</td></tr>"
                    for t, v in other.items()
                )
                + "</tbody></table>"
            )
        if "source_side" in pm:
            rows = [
                ("classifier", pm["source_side"]),
                ("rules", pm["source_side_rules"]),
                ("rules, then the classifier where they find no source", pm["source_side_rules_then_model"]),
            ]
            ab = pm["source_side_where_rules_abstain"]
            parts.append(
                "<h3>source side: whose claim the passage carries (author, a side, other)</h3>"
                "<table><thead><tr><th>system</th><th>accuracy</th><th>macro-F1</th></tr></thead><tbody>"
                + "".join(
                    f"<tr><td>{html.escape(n)}</td><td>{_fmt(x['accuracy'])}</td><td>{_fmt(x['macro_f1'])}</td></tr>"
                    for n, x in rows
                )
                + "</tbody></table>"
                + (
                    f"<p>Where the rules find no source ({ab['n']} passages, "
                    f"{ab['gold_attributed']} of them attributed in gold): "
                    f"accuracy {_fmt(ab['rules_accuracy'])} with the rules' author default, "
                    f"{_fmt(ab['combined_accuracy'])} with the classifier (threshold {ab['threshold']}).</p>"
                )
            )
            parts.append(
                "<p>Rules, then the classifier, by the probability it needs:</p>"
                "<table><thead><tr><th>threshold</th><th>accuracy</th>"
                "<th>passages re-attributed</th></tr></thead><tbody>"
                + "".join(
                    f"<tr><td>{x['threshold']:.1f}</td><td>{_fmt(x['accuracy'])}</td><td>{x['reattributed']}</td></tr>"
                    for x in pm.get("source_side_threshold_sweep", [])
                )
                + "</tbody></table>"
            )
            parts.append(
                "<div class='figs'><img alt='source side confusion matrix' src='"
                f"{confusion_plot(pm['source_side_rules_then_model'], f'source side, rules then classifier ({split})')}"
                "'></div>"
            )
            md += (
                ["### source side", "", "| system | accuracy | macro-F1 |", "|---|---|---|"]
                + [f"| {n} | {_fmt(x['accuracy'])} | {_fmt(x['macro_f1'])} |" for n, x in rows]
                + [""]
            )
        if pm.get("by_dispute"):
            parts.append(_dispute_tables(pm["by_dispute"]))
            md += _dispute_markdown(pm["by_dispute"])
        if pm.get("by_side_name"):
            line = _by_side_name_line(pm["by_side_name"])
            parts.append(f"<p>{html.escape(line)}</p>")
            md += [line, ""]
        sw = sres.get("side_swap") or {}
        if sw.get("n"):
            parts.append(
                "<p><b>Side-swap audit:</b> with everything the text calls each side (name, aliases, actors) "
                f"moved to the other side, {_fmt(sw['consistency'])} of {sw['n']} passages "
                "get the swapped prediction"
                f" ({_fmt(sw.get('mirrored_inputs'))} of them get the mirror image of their input; "
                f"{_fmt(sw.get('indistinct'))} get the same input for both sides)."
                f" A perfect model scores {_fmt(sw.get('perfect_model'))}. "
                f"{html.escape(sw.get('perfect_model_why', ''))}</p>"
            )
            md.append(
                f"Side-swap consistency: {_fmt(sw['consistency'])} (n={sw['n']}; "
                f"inputs mirrored: {_fmt(sw.get('mirrored_inputs'))}; indistinct: {_fmt(sw.get('indistinct'))}; "
                f"a perfect model scores {_fmt(sw.get('perfect_model'))}). {sw.get('perfect_model_why', '')}"
            )
        art = sres.get("articles") or {}
        neu, side = art.get("neutral_reports") or {}, art.get("side_taking") or {}
        conf, rule = art.get("confidence") or {}, art.get("verdict_rule") or {}
        breakdown = (
            f"Neutral reports judged neutral: {_fmt(neu.get('judged_neutral'))} of {neu.get('n', 0)}; "
            f"side-taking articles given the right side: {_fmt(side.get('right_side'))} of {side.get('n', 0)}. "
            f"Mean confidence {_fmt(conf.get('author_favors_mean'))} (author favors) and "
            f"{_fmt(conf.get('more_credible_mean'))} (more credible), against accuracies "
            f"{_fmt(conf.get('author_favors_accuracy'))} and {_fmt(conf.get('more_credible_accuracy'))}. "
            f"Verdict rule: {html.escape(str(rule.get('fitted_on', 'default')))}; author favors by "
            f"{'a learned aggregation' if rule.get('favors_model') else 'thresholds'}, more credible by "
            f"{'a learned aggregation' if rule.get('credible_model') else 'thresholds'}."
        )
        parts.append(
            f"<h3>Articles</h3><p>Author-favors accuracy {_fmt(art.get('author_favors_accuracy'))}, "
            f"more-credible accuracy {_fmt(art.get('more_credible_accuracy'))} "
            f"over {art.get('n_with_gold', 0)} articles with answers. {breakdown}</p>"
        )
        md.append(
            f"Articles: author-favors accuracy {_fmt(art.get('author_favors_accuracy'))}, "
            f"more-credible accuracy {_fmt(art.get('more_credible_accuracy'))}. {breakdown}"
        )
        preds = [p for p in predictions if p["split"] == split]
        for v in verdicts.get(split, []):
            doc_preds = [p for p in preds if p["doc_id"] == v["doc_id"]]
            text_of = {p["index"]: p["text"] for p in doc_preds}
            parts.append(_article_card(v, text_of, doc_preds))
            md.append(
                f"- **{v['doc_id']}** {v.get('title') or ''}: author favors **{v['author_favors']}** "
                f"(confidence {_fmt(v.get('author_favors_confidence'))}; gold {v.get('gold_author_favors')}), "
                f"more credible **{v['more_credible']}** "
                f"(confidence {_fmt(v.get('more_credible_confidence'))}; gold {v.get('gold_more_credible')})"
            )
            for i in v["more_credible_evidence"][:1] or v["author_favors_evidence"][:1]:
                md.append(f"  - evidence: “{text_of.get(i, '')}”")
    parts.append("</body></html>")
    return "".join(parts), "\n".join(md) + "\n"


def _probs(probs: dict | None) -> str:
    """A learned verdict's probability of each answer ('' for a threshold verdict, which has none)."""
    if not probs:
        return ""
    return "; probabilities " + ", ".join(f"{html.escape(str(k))} {_fmt(p)}" for k, p in probs.items())


def _article_card(v: dict, text_of: dict, doc_preds: list[dict]) -> str:
    def ev(idxs):
        return (
            "".join(f"<li>[{i}] “{html.escape(text_of.get(i, ''))}”</li>" for i in idxs)
            or "<li class='muted'>none</li>"
        )

    gold = ""
    if v.get("gold_author_favors") is not None:
        gold = (
            f" <span class='muted'>(gold: favors {html.escape(str(v['gold_author_favors']))}, "
            f"more credible {html.escape(str(v.get('gold_more_credible')))})</span>"
        )
    sources = (
        ", ".join(f"{html.escape(q['source'])} ({html.escape(q['side'])}, {q['count']}×)" for q in v["quoted_sources"])
        or "none"
    )
    rows = []
    for p in doc_preds:
        cls = "" if not p["has_gold"] else (" class='ok'" if p["stance"] == p["gold_stance"] else " class='bad'")
        right = "" if not p["has_gold"] else ("✓" if p["stance"] == p["gold_stance"] else "✗")
        rows.append(
            f"<tr{cls}><td>{p['index']}</td><td>{html.escape(p['text'])}</td><td>{html.escape(p['source'])}</td>"
            f"<td>{html.escape(p['source_side'] or '')}</td>"
            f"<td>{html.escape(str(p['stance']))} ({_fmt(p['stance_prob'])})</td><td>{html.escape(p['credibility'])}"
            f"""{
                ""
                if p["credibility"] == "none"
                else " (explicit cue)"
                if p.get("credibility_by") == "cue"
                else " ("
                + _fmt(p["credibility_prob"])
                + (", and an explicit cue" if p.get("credibility_by") == "model+cue" else "")
                + ")"
            }</td>"""
            f"<td>{html.escape(str(p['gold_stance']))}</td><td>{html.escape(str(p['gold_credibility']))}</td><td>{right}</td></tr>"
        )
    table = (
        "<table class='passages'><thead><tr><th>#</th><th>text</th><th>source</th><th>source side</th>"
        "<th>side favored (p)</th><th>credibility (p)</th><th>gold stance</th><th>gold credibility</th>"
        "<th>right</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
    )
    return (
        f"<div class='card'><h3>{html.escape(str(v['doc_id']))}: {html.escape(str(v.get('title') or ''))}</h3>"
        f"<p class='verdict'>The author favors {html.escape(str(v['author_favors']))}"
        f" (confidence {_fmt(v.get('author_favors_confidence'))}{_probs(v.get('author_favors_probs'))})"
        f"""{
            " (from the credibility verdict: the side-favored passages alone decide nothing)"
            if v.get("author_favors_by") == "credibility"
            else ""
        }"""
        f"; the author finds {html.escape(str(v['more_credible'] or 'neither side'))}’s account more credible"
        f" (confidence {_fmt(v.get('more_credible_confidence'))}{_probs(v.get('more_credible_probs'))})."
        f"{gold}</p>"
        f"<p>Evidence for the side favored:</p><ul>{ev(v['author_favors_evidence'])}</ul>"
        f"<p>Evidence for the credibility verdict:</p><ul>{ev(v['more_credible_evidence'])}</ul>"
        f"<p>Quoted sources: {sources}</p>"
        f"<details><summary>{len(doc_preds)} passages</summary>{table}</details></div>"
    )


ATTRIBUTION_CSS = (
    "body{font-family:sans-serif;max-width:60em;margin:2em auto;padding:0 1em}"
    "table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:.2em .6em;text-align:right}"
    "td:first-child,th:first-child{text-align:left}"
)


def attribution_report(result: dict) -> tuple[str, str]:
    """The report page (HTML, plots inline) and Markdown of an attribution model's evaluation."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    pn = result["polnear"]
    roles = ("source", "cue", "content")
    systems = {"model": pn["model"], "rules": pn["rules"], "direct quotes only": pn["direct_quotes_only"]}
    fig, ax = plt.subplots(figsize=(6.5, 3))
    width = 0.2
    anchor = pn["anchors_exact_f1"]["BERT+CofeNet (COLING 2022)"]
    for k, (name, m) in enumerate([*systems.items(), ("CofeNet (published)", None)]):
        vals = [anchor[r] if m is None else m.get(f"{r}_exact", {}).get("f1", 0) for r in roles]
        ax.bar([i + (k - 1.5) * width for i in range(3)], vals, width, label=name, color=f"C{k if m else 7}")
    ax.set_xticks(range(3), roles)
    ax.set_ylim(0, 1)
    ax.set_ylabel("exact span F1")
    ax.set_title(f"PolNeAR {pn['split']} ({pn['articles']} articles)", fontsize=10)
    ax.legend(fontsize=7, ncol=2)
    plot = _png(fig)

    def prf_row(name: str, m: dict, key: str) -> str:
        x = m.get(key)
        if not x:
            return ""
        cells = (html.escape(name), f"{x['precision']:.3f}", f"{x['recall']:.3f}", f"{x['f1']:.3f}", str(x["gold"]))
        return "<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>"

    head = "<tr><th>system</th><th>P</th><th>R</th><th>F1</th><th>gold spans</th></tr>"
    sections = []
    md = [
        f"# Attribution report: {result['model'].get('path', '')}",
        "",
        f"PolNeAR {pn['split']}, {pn['articles']} articles, {pn['relations']} attributions.",
        "",
    ]
    for r in roles:
        for mode in ("exact", "overlap"):
            key = f"{r}_{mode}"
            rows = "".join(prf_row(n, m, key) for n, m in systems.items())
            sections.append(f"<h3>{r}, {mode} match</h3><table>{head}{rows}</table>")
            md.append(
                f"- {r} {mode} F1: " + ", ".join(f"{n} {m[key]['f1']:.3f}" for n, m in systems.items() if key in m)
            )
    pubs = pn["by_publisher"]["model"]
    pub_rows = "".join(
        f"<tr><td>{html.escape(p)}</td><td>{v['articles']}</td>"
        + "".join(
            f"<td>{v[f'{r}_exact']['f1']:.3f} / {pn['by_publisher']['rules'][p][f'{r}_exact']['f1']:.3f}</td>"
            if f"{r}_exact" in pn["by_publisher"]["rules"][p]
            else f"<td>{v[f'{r}_exact']['f1']:.3f} / -</td>"
            for r in roles
        )
        + "</tr>"
        for p, v in pubs.items()
    )
    anchors = "".join(
        f"<tr><td>{html.escape(n)}</td>" + "".join(f"<td>{a[r]:.3f}</td>" for r in roles) + "</tr>"
        for n, a in pn["anchors_exact_f1"].items()
    )
    passage_html = ""
    if result.get("passages"):
        prow = []
        md += ["", "## Passages: who says each one (gold from the commentary labels)", ""]
        md.append(
            "| split | attribution | passages | source acc | side acc | author handed to a source | attributed missed |"
        )
        md.append("|---|---|---|---|---|---|---|")
        for split, modes in result["passages"].items():
            for by, a in modes.items():
                if not a:
                    continue
                cells = (
                    f"{a['passages']}",
                    f"{a['source_accuracy']:.3f}",
                    f"{a['source_side_accuracy']:.3f}",
                    f"{a['author_voice_wrongly_attributed']} of {a['author_passages']} "
                    f"({a['author_handed_to_source_share']:.1%})",
                    f"{a['attributed_missed']} of {a['attributed_passages']} ({a['attributed_missed_share']:.1%})",
                )
                prow.append(f"<tr><td>{split}</td><td>{by}</td>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
                md.append(f"| {split} | {by} | " + " | ".join(cells) + " |")
        passage_html = (
            "<h2>Passages: who says each one</h2><p>Commentary from "
            f"<code>{html.escape(str(result['passages_from']))}</code>, attributed by the rules, the model, and the "
            "model with the rules where it finds no speaker; gold from the commentary's labels (text the model never "
            "saw).</p><table><tr><th>split</th><th>attribution</th><th>passages</th><th>source accuracy</th>"
            "<th>side accuracy</th><th>author passages handed to a source</th><th>attributed passages missed</th></tr>"
            + "".join(prow)
            + "</table>"
        )
    model = result["model"]
    page = f"""<!doctype html><html><head><meta charset="utf-8"><title>Attribution report</title>
<style>{ATTRIBUTION_CSS}</style></head><body>
<h1>Attribution report</h1>
<p>Model <code>{html.escape(str(model.get("path", "")))}</code>, version {html.escape(str(model.get("version", "")))};
data <code>{html.escape(result["data"]["path"])}</code> (hash {html.escape(result["data"]["data_hash"])}).</p>
<h2>Spans on PolNeAR {html.escape(pn["split"])}</h2>
<p>{pn["articles"]} articles, {pn["relations"]} attributions, read whole. Exact: same start and end;
overlap: at least one shared word, matched one to one. The rules find sources and cues, not contents.</p>
<img alt="exact span F1 by role" src="{plot}">
{"".join(sections)}
<h3>Published results (exact F1 on PolNeAR test)</h3>
<table><tr><th>system</th><th>source</th><th>cue</th><th>content</th></tr>{anchors}</table>
<h3>Per publisher: exact F1, model / rules</h3>
<table><tr><th>publisher</th><th>articles</th><th>source</th><th>cue</th><th>content</th></tr>{pub_rows}</table>
{passage_html}
<p>Command: <code>{html.escape(result.get("command") or "")}</code> ({result["seconds"]} s)</p>
</body></html>"""
    return page, "\n".join(md) + "\n"
