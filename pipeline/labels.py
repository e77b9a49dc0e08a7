"""The declared label schema and the model's input/output contract.

The classifier is target-conditioned: it reads a passage (with its attributed
source and, optionally, the sentence before it) paired with a question about
one side ("stance: US: United States, Washington, Donald Trump"). Every task
shares one classification head with three slots, named per task:

    slot      0       1          2
    stance    none    favor      against
    credibility none  credible   not_credible

A passage's "side favored" and its credibility judgment are derived from the
per-side predictions (:func:`passage_stance`, :func:`passage_credibility`), so
a model scores a dispute it never saw from the dispute config alone.
"""

from __future__ import annotations

from typing import Sequence

TASK_LABELS: dict[str, list[str]] = {
    "stance": ["none", "favor", "against"],
    "credibility": ["none", "credible", "not_credible"],
}
ROLES = ("body", "title", "byline", "date", "boilerplate")
FORMS = ("direct", "indirect", "account", "continuation")
JUDGMENTS = ("credible", "not_credible")
NEUTRAL = "neutral"


def num_slots(tasks: Sequence[str]) -> int:
    return max(len(TASK_LABELS[t]) for t in tasks)


def source_tag(source: str, source_side: str | None, cue: str | None) -> str:
    """How the attributed source is shown to the model, e.g. ``[Ri Yong Ho | DPRK | stressed]``."""
    if source == "author" or not source:
        return "[author]"
    parts = [source, source_side or "other"] + ([cue] if cue else [])
    return "[" + " | ".join(parts) + "]"


def model_input(task: str, target_text: str, passage: str, tag: str, context: str | None) -> tuple[str, str]:
    """The (text, text_pair) the tokenizer receives for one passage and one side."""
    text = f"{tag} {passage}" if tag else passage
    pair = f"{task}: {target_text}"
    if context:
        pair += f" | before: {context}"
    return text, pair


def gold_target_labels(task: str, sides: Sequence[str], stance: str | None, credibility: dict | None) -> dict[str, str]:
    """Per-side gold labels from a passage's gold stance or credibility.

    A passage favoring A is ``favor`` toward A and, in a two-sided dispute,
    ``against`` B (blaming one side favors the other). A credibility judgment
    applies to the side it names; other sides get ``none``.
    """
    if task == "stance":
        if stance in (None, NEUTRAL):
            return {s: "none" for s in sides}
        other = "against" if len(sides) == 2 else "none"
        return {s: ("favor" if s == stance else other) for s in sides}
    if task == "credibility":
        if not credibility:
            return {s: "none" for s in sides}
        return {s: (credibility["judgment"] if s == credibility["side"] else "none") for s in sides}
    raise ValueError(task)


def passage_stance(sides: Sequence[str], probs: dict[str, Sequence[float]]) -> dict[str, float]:
    """Side-favored distribution from per-side stance probabilities.

    ``probs[side]`` is ``[p_none, p_favor, p_against]``. A side's score is its
    favor probability plus the mean against-probability of the other sides;
    neutral is the mean none-probability. Scores are normalised to sum to 1.
    """
    n = len(sides)
    scores = {}
    for s in sides:
        against_others = sum(probs[o][2] for o in sides if o != s) / max(n - 1, 1)
        scores[s] = probs[s][1] + against_others
    scores[NEUTRAL] = sum(probs[s][0] for s in sides) / n
    total = sum(scores.values()) or 1.0
    return {k: v / total for k, v in scores.items()}


def passage_credibility(sides: Sequence[str], probs: dict[str, Sequence[float]]) -> tuple[dict | None, float]:
    """The strongest credibility judgment over sides, or None when every side's
    most likely label is ``none``. Returns (judgment, its probability)."""
    best, best_p = None, 0.0
    for s in sides:
        p_none, p_cred, p_not = probs[s][:3]
        for judgment, p in (("credible", p_cred), ("not_credible", p_not)):
            if p > p_none and p > best_p:
                best, best_p = {"side": s, "judgment": judgment}, p
    return best, best_p
