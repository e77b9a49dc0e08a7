"""The side-swap audit: score every passage again with the first two sides
exchanged; a model that reads the markers rather than the names swaps its
prediction with them."""

from __future__ import annotations

from collections import defaultdict

from pipeline.dispute import Dispute


def side_swap_audit(predictor, scored: list[dict], disputes: dict[str, Dispute]) -> dict:
    """Swap the first two sides' names and aliases; a fair model's predictions swap too.

    ``scored`` are the passage rows as :func:`score_passages` returned them
    under the real dispute (the original predictions). Attribution is
    recomputed under the swapped dispute, so a quoted actor's side swaps with
    it. Returns the share of body passages whose swapped prediction equals the
    swap of the original prediction.
    """
    from pipeline.score.predictor import score_passages

    agree, total = 0, 0
    for name, d in disputes.items():
        original = [r for r in scored if r["dispute"] == name]
        if len(d.side_names) < 2 or not original:
            continue
        a, b = d.side_names[:2]
        swap = {a: b, b: a}
        sd = d.swapped()
        swapped = score_passages(predictor, reattributed(original, sd), sd)
        for o, s in zip(original, swapped):
            if o["role"] != "body" or o["stance"] is None:
                continue
            total += 1
            agree += s["stance"] == swap.get(o["stance"], o["stance"])
    return {"consistency": agree / total if total else None, "n": total}


def reattributed(rows: list[dict], dispute: Dispute) -> list[dict]:
    """Copies of ``rows``, in their order, with the body passages' source, side,
    cue and form attributed again under ``dispute``, article by article."""
    from pipeline.text.attribution import attribute_passages

    out = [dict(r) for r in rows]
    by_doc = defaultdict(list)
    for r in out:
        if r["role"] == "body":
            by_doc[r["doc_id"]].append(r)
    for body in by_doc.values():
        for r, att in zip(body, attribute_passages([r["text"] for r in body], [r["paragraph"] for r in body], dispute)):
            r.update(source=att.source, source_side=att.source_side, cue=att.cue, form=att.form)
    return out
