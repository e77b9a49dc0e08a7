"""Who says each passage, against gold: the attribution measures of the data report and the attribution report."""

from __future__ import annotations

from collections import Counter, defaultdict


def attribution_agreement(rows: list[dict]) -> dict:
    """Rule attribution vs gold on labelled body passages."""
    body = [r for r in rows if r["role"] == "body" and r["has_gold"] and r["gold_source"]]
    if not body:
        return {}

    def rate(pred):
        hits = sum(1 for r in body if pred(r))
        return round(hits / len(body), 4)

    attributed = [r for r in body if r["gold_source"] != "author"]
    authors = [r for r in body if r["gold_source"] == "author"]
    by_form = defaultdict(lambda: [0, 0])
    for r in attributed:
        k = r["gold_form"] or "unknown"
        by_form[k][1] += 1
        by_form[k][0] += (r["source"], r["source_side"]) == (r["gold_source"], r["gold_source_side"])
    return {
        "passages": len(body),
        "source_accuracy": rate(lambda r: r["source"] == r["gold_source"]),
        "source_side_accuracy": rate(lambda r: r["source_side"] == r["gold_source_side"]),
        "attributed_recall": round(
            sum(1 for r in attributed if r["source"] == r["gold_source"]) / max(len(attributed), 1), 4
        ),
        "author_voice_wrongly_attributed": sum(1 for r in authors if r["source"] != "author"),
        "author_passages": len(authors),
        "attributed_missed": sum(1 for r in attributed if r["source"] == "author"),
        "attributed_passages": len(attributed),
        "source_by": dict(sorted(Counter(r.get("source_by") or "rules" for r in body).items())),
        "by_gold_form": {k: {"correct": v[0], "total": v[1]} for k, v in sorted(by_form.items())},
    }


def with_shares(a: dict) -> dict:
    """:func:`attribution_agreement` with the two shares issue 16's goals are stated in: author passages
    handed to a source, attributed passages missed."""
    if not a:
        return a
    return {
        **a,
        "author_handed_to_source_share": round(a["author_voice_wrongly_attributed"] / max(a["author_passages"], 1), 4),
        "attributed_missed_share": round(a["attributed_missed"] / max(a["attributed_passages"], 1), 4),
    }
