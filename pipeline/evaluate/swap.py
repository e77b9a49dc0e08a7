"""The side-swap audit: score every passage again with the first two sides
exchanged (everything the text calls one side now belongs to the other) and
count the passages whose prediction swaps with them."""

from __future__ import annotations

from collections import defaultdict

from pipeline.dispute import Dispute

PERFECT = 1.0
PERFECT_WHY = (
    "With each side's name, aliases and actors moved to the other side, the swapped input asked about one side is, "
    "word for word, the original input asked about the other: the << >> and [[ ]] markers say which side is asked "
    "about and the question names no side (mirrored_inputs: the share of passages where this holds). So every model "
    "that gives the same input the same output swaps its prediction: sides tied for the top score give neutral "
    "(pipeline.labels.side_favored), and neutral swaps to itself. A tie is certain where the input is the same for "
    "both sides (indistinct: no side is mentioned or quoted in the passage or the sentence before). The audit thus "
    "checks that no side label reaches the input; "
    "it cannot show a bias toward one side's names, which stay in the text."
)


def side_swap_audit(predictor, scored: list[dict], disputes: dict[str, Dispute]) -> dict:
    """Score every passage under :meth:`Dispute.swapped`; a model that reads the
    markers, not the side labels, swaps its prediction with the sides.

    ``scored`` are the passage rows as :func:`score_passages` returned them
    under the real dispute (the original predictions). Attribution is
    recomputed under the swapped dispute, so a quoted actor's side swaps with
    it.

    Returns:
        ``consistency``: the share of body passages whose swapped prediction
        equals the swap of the original prediction; ``n``: those passages;
        ``mirrored_inputs``: the share of them whose swapped side-favored
        inputs are the original inputs with the two sides exchanged;
        ``indistinct``: the share whose input is the same for both sides (a
        tie, which :func:`pipeline.labels.side_favored` calls neutral);
        ``perfect_model`` and ``perfect_model_why``: what a perfect model
        scores, and why.
    """
    from pipeline.score.predictor import score_passages

    agree, total, mirrored, indistinct = 0, 0, 0, 0
    for name, d in disputes.items():
        original = [r for r in scored if r["dispute"] == name]
        if len(d.side_names) < 2 or not original:
            continue
        a, b = d.side_names[:2]
        swap = {a: b, b: a}
        sd = d.swapped()
        swapped_rows = reattributed(original, sd)
        unmirrored, same = compare_inputs(original, d, swapped_rows, sd, predictor.input_cfg)
        swapped = score_passages(predictor, swapped_rows, sd)
        for i, (o, s) in enumerate(zip(original, swapped)):
            if o["role"] != "body" or o["stance"] is None:
                continue
            total += 1
            agree += s["stance"] == swap.get(o["stance"], o["stance"])
            mirrored += i not in unmirrored
            indistinct += i in same
    share = lambda k: k / total if total else None
    return {
        "consistency": share(agree),
        "n": total,
        "mirrored_inputs": share(mirrored),
        "indistinct": share(indistinct),
        "perfect_model": PERFECT,
        "perfect_model_why": PERFECT_WHY,
    }


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
        attributions = attribute_passages([r["text"] for r in body], [r["paragraph"] for r in body], dispute)
        for r, att in zip(body, attributions):
            r.update(source=att.source, source_side=att.source_side, cue=att.cue, form=att.form)
    return out


def compare_inputs(
    original: list[dict], dispute: Dispute, swapped: list[dict], swapped_dispute: Dispute, input_cfg: dict
) -> tuple[set[int], set[int]]:
    """Positions of the passages whose side-favored input asked about one side
    under ``swapped_dispute`` differs from the original input asked about the
    other (not mirrored), and of those whose original input is the same for
    the first two sides (indistinct)."""
    from pipeline.score.predictor import passage_inputs

    a, b = dispute.side_names[:2]
    swap = {a: b, b: a}
    before = {
        (i, side): (text, pair) for i, _, side, text, pair in passage_inputs(original, dispute, ["stance"], input_cfg)
    }
    after = {
        (i, swap.get(side, side)): (text, pair)
        for i, _, side, text, pair in passage_inputs(swapped, swapped_dispute, ["stance"], input_cfg)
    }
    unmirrored = {i for i, side in before if before[(i, side)] != after.get((i, side))}
    same = {i for i, side in before if side == a and before[(i, a)] == before[(i, b)]}
    return unmirrored, same
