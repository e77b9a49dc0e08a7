"""The data report: counts per split, label, side and attribution form; how well
the rules' attribution agrees with gold; gold rows that match no passage;
articles without body passages; skipped files; near-duplicates."""

from __future__ import annotations

from collections import Counter

from pipeline.analysis.attribution import attribution_agreement


def _article(row: dict) -> str:
    return row.get("file") or row["doc_id"]


def data_report(
    rows: list[dict],
    examples: list[dict],
    rejects: list,
    gold_stats: dict,
    duplicates: list[dict],
    weak: dict | None = None,
) -> dict:
    """Summarise a built dataset (pure: rows in, dict out).

    ``weak`` is :func:`pipeline.text.cues.apply_weak`'s summary (the
    labelling-function table), reported whether or not weak labels train.
    ``gold_stats`` holds the gold-matching counts and ``unmatched``, the gold
    rows that matched no passage.
    """
    splits = sorted({r["split"] for r in rows})
    body = [r for r in rows if r["role"] == "body"]
    per_split = {}
    for s in splits:
        srows = [r for r in body if r["split"] == s]
        per_split[s] = {
            "articles": len({r["doc_id"] for r in srows}),
            "body_passages": len(srows),
            "labelled_passages": sum(r["has_gold"] for r in srows),
            "examples": sum(1 for e in examples if e["split"] == s),
            "stance": dict(Counter(r["gold_stance"] for r in srows if r["has_gold"])),
            "credibility": dict(
                Counter(
                    f"{r['gold_credibility_side']}:{r['gold_credibility_judgment']}"
                    for r in srows
                    if r["gold_credibility_side"]
                )
            ),
            "source_side": dict(Counter(r["source_side"] or "author" for r in srows)),
            "form": dict(Counter(r["form"] or "author" for r in srows)),
        }
    return {
        "articles": len({r["doc_id"] for r in rows}),
        "passages": len(rows),
        "roles": dict(Counter(r["role"] for r in rows)),
        "disputes": dict(Counter(r["dispute"] for r in rows if r["index"] == 1)),
        "splits": per_split,
        "example_labels": {
            f"{t}/{s}": dict(Counter(e["label"] for e in examples if e["task"] == t and e["split"] == s))
            for t in sorted({e["task"] for e in examples})
            for s in splits
            if any(e["split"] == s for e in examples)
        },
        "gold_matching": {
            "gold_rows": 0,
            "gold_matched": 0,
            "gold_unmatched": 0,
            **gold_stats,
            "unmatched": list(gold_stats.get("unmatched") or []),
        },
        "articles_without_body": sorted({_article(r) for r in rows} - {_article(r) for r in body}),
        "attribution_vs_gold": attribution_agreement(rows),
        "skipped": [str(r) for r in rejects],
        "near_duplicates": duplicates,
        "weak_supervision": weak or {},
        "label_source": dict(Counter(e.get("label_source", "gold") for e in examples)),
    }


def _table(header: list[str], rows: list[list]) -> str:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(out)


def render_markdown(report: dict, manifest: dict) -> str:
    lines = [
        "# Data report",
        "",
        f"{report['articles']} articles, {report['passages']} passages over {len(report['disputes'])} disputes; "
        f"data hash `{manifest['data_hash'][:16]}`.",
        "",
        "## Splits (grouped by article)",
        "",
        _table(
            ["split", "articles", "body passages", "labelled", "examples", "stance", "attribution form"],
            [
                [
                    s,
                    v["articles"],
                    v["body_passages"],
                    v["labelled_passages"],
                    v["examples"],
                    ", ".join(f"{k}: {n}" for k, n in sorted(v["stance"].items(), key=str)),
                    ", ".join(f"{k}: {n}" for k, n in sorted(v["form"].items())),
                ]
                for s, v in report["splits"].items()
            ],
        ),
        "",
        "## Example labels per task and split",
        "",
        _table(
            ["task/split", "labels"],
            [[k, ", ".join(f"{l}: {n}" for l, n in sorted(v.items()))] for k, v in report["example_labels"].items()],
        ),
        "",
        "## Disputes",
        "",
        _table(["dispute", "articles"], [[k, v] for k, v in report["disputes"].items()]),
    ]
    att = report["attribution_vs_gold"]
    if att:
        lines += [
            "",
            "## Rule attribution against gold",
            "",
            f"On {att['passages']} labelled body passages: source accuracy {att['source_accuracy']:.3f}, "
            f"source-side accuracy {att['source_side_accuracy']:.3f}, "
            f"attributed-passage recall {att['attributed_recall']:.3f}; author-voice passages wrongly attributed: "
            f"{att['author_voice_wrongly_attributed']} of {att['author_passages']}.",
            "",
            _table(
                ["gold form", "correct", "total"],
                [[k, v["correct"], v["total"]] for k, v in att["by_gold_form"].items()],
            ),
        ]
    weak = report.get("weak_supervision") or {}
    if weak.get("functions"):
        lines += [
            "",
            "## Labelling functions (weak supervision)",
            "",
            f"Weak labels used for training: {'yes' if weak['enabled'] else 'no'}; "
            f"passages weakly labelled per task: {weak['weak_labelled_passages'] or 'none'}; "
            f"examples by label source: {report.get('label_source')}. "
            "Coverage, overlaps and conflicts are shares of all body passages; "
            "accuracy is on the passages with gold it votes on.",
            "",
            _table(
                ["function", "task", "votes", "coverage", "overlaps", "conflicts", "gold votes", "accuracy"],
                [
                    [
                        t["function"],
                        t["task"],
                        t["votes"],
                        f"{t['coverage']:.3f}",
                        f"{t['overlaps']:.3f}",
                        f"{t['conflicts']:.3f}",
                        t["gold_votes"],
                        "-" if t["accuracy"] is None else f"{t['accuracy']:.3f}",
                    ]
                    for t in weak["functions"]
                ],
            ),
        ]
    gm = report["gold_matching"]
    lines += [
        "",
        "## Gold labels",
        "",
        f"{gm['gold_rows']} gold rows, {gm['gold_matched']} matched to passages, "
        f"{gm['gold_unmatched']} matching no passage.",
    ]
    if gm["unmatched"]:
        lines += ["", "Gold rows that match no passage (fix the text, or the article):", ""]
        lines += [f"- {u['where']}: doc {u['doc_id']} index {u['index']}: “{u['text']}”" for u in gm["unmatched"]]
    lines += ["", "## Articles without body passages", ""]
    lines += [f"- {a}" for a in report["articles_without_body"]] or ["none"]
    lines += ["", "## Skipped inputs", ""]
    lines += [f"- {s}" for s in report["skipped"]] or ["none"]
    lines += ["", "## Near-duplicate passages across splits", ""]
    if report["near_duplicates"]:
        lines.append(
            _table(
                ["a", "b", "jaccard", "text"],
                [
                    [d["a"] + f" ({d['a_split']})", d["b"] + f" ({d['b_split']})", d["jaccard"], d["text"]]
                    for d in report["near_duplicates"][:50]
                ],
            )
        )
    else:
        lines.append("none found (word-trigram Jaccard >= 0.8)")
    if report.get("mixture"):
        mix = report["mixture"]
        lines += [
            "",
            f"## Mixture ({mix['train_size']} train units, shared by weight; one unit is one (passage, side) input)",
            "",
            _table(
                [
                    "source",
                    "task",
                    "weight",
                    "share",
                    "train drawn (available)",
                    "validation",
                    "test",
                    "dropped as in another source's test",
                    "train labels",
                ],
                [
                    [
                        name,
                        v.get("task") or "stance, credibility",
                        v["weight"],
                        v["share"],
                        f"{v['train_drawn']} ({v['train_available']})",
                        v["validation"],
                        v["test"],
                        v["dropped_as_in_another_source_test"],
                        ", ".join(f"{k} {n}" for k, n in v["labels_train"].items()),
                    ]
                    for name, v in mix["sources"].items()
                ],
            ),
        ]
    return "\n".join(lines) + "\n"


def benchmark_markdown(report: dict, manifest: dict) -> str:
    """The data report of a benchmark build, for a person."""
    labels = report["labels"]
    lines = [
        f"# Data report: {report['benchmark']}",
        "",
        f"Task `{report['task']}`, labels {', '.join(labels)}; official measure `{report['official_measure']}`; "
        f"data hash `{manifest['data_hash']}`.",
        "",
        "| split | examples | documents | " + " | ".join(labels) + " |",
        "|---|---|---|" + "---|" * len(labels),
    ]
    for s, n in report["examples"].items():
        c = report["labels_per_split"][s]
        lines.append(
            f"| {s} | {n} | {report['documents_per_split'][s]} | "
            + " | ".join(str(c.get(lab, 0)) for lab in labels)
            + " |"
        )
    lines += ["", "## Targets per split (most frequent 30)", ""]
    for s, t in report["targets_per_split"].items():
        lines.append(f"- {s}: " + ", ".join(f"{k} ({v})" for k, v in t.items()))
    lines += ["", "## Cleaning and source notes", ""]
    for k, v in report["notes"].items():
        lines.append(f"- {k}: {v}")
    nd = report["near_duplicates_across_splits"]
    lines += ["", "## Near-duplicates across splits", ""]
    if "skipped" in nd:
        lines.append(f"Not scanned: {nd['skipped']}.")
    else:
        lines.append(
            f"{nd['pairs']} text pairs in different splits with word-trigram Jaccard >= {nd['threshold']} "
            "(exact train/eval duplicates were already dropped from train)."
        )
        for x in nd["samples"][:10]:
            lines.append(f"- {x['a_split']} / {x['b_split']} ({x['jaccard']}): {x['text']}")
    return "\n".join(lines) + "\n"
