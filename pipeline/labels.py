"""The declared label schema and the model's input/output contract.

The classifier is target-conditioned: it reads a passage paired with a question
about one side ("stance toward the side marked << >>"). In the passage, mentions of that
side (names, aliases, actors from the dispute config) are marked ``<< >>`` and
mentions of the other sides ``[[ ]]``; the attributed source is shown relative
to the side ("[author]", "[this side]", "[other side]", "[third party]"), and
optionally the sentence before it. Every task shares one classification head
with three slots, named per task:

    slot      0       1          2
    stance    none    favor      against
    credibility none  credible   not_credible

A *joint* model (``train.joint``) instead reads each (passage, side) once, with
the question "stance and credibility toward the side marked << >>", and has
one block of slots per task (slots 0-2 stance, 3-5 credibility): one forward
pass answers both tasks, half the compute of asking twice. The model folder's
label map records the blocks (:func:`pipeline.contracts.task_view`).

A passage's "side favored" and its credibility judgment are derived from the
per-side predictions (:func:`passage_stance`, :func:`passage_credibility`), so
a model scores a dispute it never saw from the dispute config alone.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

TASK_LABELS: dict[str, list[str]] = {
    "stance": ["none", "favor", "against"],
    "credibility": ["none", "credible", "not_credible"],
    # who carries the passage, relative to the side asked about; trained as its own
    # run (its input must not show the rule-attributed source it predicts) and
    # used when scoring where the attribution rules abstain (see pipeline.score.source_model)
    "source_side": ["author", "this_side", "other_side", "third_party"],
}
ROLES = ("body", "title", "byline", "date", "boilerplate")
FORMS = ("direct", "indirect", "account", "continuation")
JUDGMENTS = ("credible", "not_credible")
NEUTRAL = "neutral"


def num_slots(tasks: Sequence[str]) -> int:
    return max(len(TASK_LABELS[t]) for t in tasks)


JOINT = "joint"  # the task name of a joint model's input: every passage task in one question
JOINT_TASKS = ("stance", "credibility")


def task_prompt(task: str) -> str:
    """The words naming the task in the input's question."""
    return " and ".join(JOINT_TASKS) if task == JOINT else task


def joint_pair(pair: str, task: str) -> str:
    """A built example's ``text_pair`` (asked for ``task``) as the joint model's question.

    Raises:
        ValueError: ``pair`` is not a question about ``task`` in this format.
    """
    prefix = f"{task} toward "
    if not pair.startswith(prefix):
        raise ValueError(f"text_pair {pair[:60]!r} does not ask about {task}")
    return f"{task_prompt(JOINT)} toward " + pair[len(prefix) :]


TARGET_OPEN, TARGET_CLOSE = "<<", ">>"
OTHER_OPEN, OTHER_CLOSE = "[[", "]]"


def mark_mentions(text: str, dispute, side: str) -> str:
    """Wrap mentions of the target side as ``<< name >>`` and of other sides as ``[[ name ]]``.

    The model then learns patterns about "the side asked about" and "the other
    side" (blame, praise, belief) rather than about particular names, which is
    what lets it score a dispute it never saw.
    """
    out, last = [], 0
    for start, end, _canon, owner, _body in dispute.find(text):
        if owner == "other":
            continue
        o, c = (TARGET_OPEN, TARGET_CLOSE) if owner == side else (OTHER_OPEN, OTHER_CLOSE)
        out.append(text[last:start] + f"{o} {text[start:end]} {c}")
        last = end
    out.append(text[last:])
    return "".join(out)


def source_tag(source: str, source_side: str | None, side: str) -> str:
    """Who speaks, relative to the side asked about: ``[author]``, ``[this side]``, ``[other side]`` or
    ``[third party]``."""
    if source == "author" or not source:
        return "[author]"
    if source_side == side:
        return "[this side]"
    if source_side in (None, "other"):
        return "[third party]"
    return "[other side]"


def model_input(
    task: str,
    dispute,
    side: str,
    passage: str,
    source: str,
    source_side: str | None,
    context: str | None,
    with_source: bool = True,
) -> tuple[str, str]:
    """The (text, text_pair) the tokenizer receives for one passage, one side and one task
    (:data:`JOINT`: the question a joint model answers for every passage task at once)."""
    text = mark_mentions(passage, dispute, side)
    if with_source and task != "source_side":
        text = f"{source_tag(source, source_side, side)} {text}"
    # no side name: it would let the model learn name biases
    pair = f"{task_prompt(task)} toward the side marked {TARGET_OPEN} {TARGET_CLOSE}"
    if context:
        pair += f" | before: {mark_mentions(context, dispute, side)}"
    return text, pair


def mark_target(text: str, target: str) -> str:
    """``text`` with mentions of a free-text ``target`` (a person, a topic, a claim) marked ``<< >>``: the
    whole target wherever it occurs, and for a short name (at most three words, the last capitalised) its
    last word alone ("<< Clinton >>" for "Hillary Clinton"). Text already marked is returned as it is."""
    if TARGET_OPEN in text:
        return text
    words = target.split()
    names = {target.strip()}
    if 1 < len(words) <= 3 and words[-1][:1].isupper():
        names.add(words[-1])
    names = sorted((n for n in names if n), key=len, reverse=True)
    if not names:
        return text
    pattern = re.compile(r"(?<!\w)(" + "|".join(re.escape(n) for n in names) + r")(?!\w)", re.IGNORECASE)
    return pattern.sub(lambda m: f"{TARGET_OPEN} {m.group(1)} {TARGET_CLOSE}", text)


def target_input(task: str, text: str, target: str, source: str = "[author]") -> tuple[str, str]:
    """The (text, text_pair) of a passage about a free-text target, in the commentary input's shape
    (:func:`model_input`): the target's mentions marked ``<< >>``, the speaker's tag in front, the same task
    question; since a topic or claim can rarely be marked in full, the question also names it
    (``| side: <target>``). Commentary inputs never name the side (it would teach name biases); a public
    benchmark's or a user's target is all the model has to go on."""
    pair = f"{task_prompt(task)} toward the side marked {TARGET_OPEN} {TARGET_CLOSE} | side: {target.strip()}"
    marked = mark_target(text.strip(), target)
    return (f"{source} {marked}" if source else marked), pair


def gold_target_labels(
    task: str,
    sides: Sequence[str],
    stance: str | None,
    credibility: dict | None,
    source: str | None = None,
    source_side: str | None = None,
) -> dict[str, str]:
    """Per-side gold labels from a passage's gold stance, credibility or source.

    A passage favoring A is ``favor`` toward A and, in a two-sided dispute,
    ``against`` B (blaming one side favors the other). A credibility judgment
    applies to the side it names; other sides get ``none``. The source side is
    ``author``, or the speaker's side relative to each side asked about.
    """
    if task == "source_side":
        if not source or source == "author":
            return {s: "author" for s in sides}
        if source_side not in sides:
            return {s: "third_party" for s in sides}
        return {s: ("this_side" if s == source_side else "other_side") for s in sides}
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


TIE = 1e-4  # sides this close count as tied: identical inputs differ by float noise when padded differently


def side_favored(scores: dict[str, float]) -> str:
    """The label of a :func:`passage_stance` distribution: its most likely key,
    except that sides tied for the top give ``neutral``.

    A passage that mentions neither side reads the same whichever side is asked
    about, so every side gets the same score; taking the first listed side
    would favor whichever side the dispute config names first.
    """
    best = max(scores, key=scores.get)
    if best != NEUTRAL and sum(1 for k, v in scores.items() if k != NEUTRAL and scores[best] - v <= TIE) > 1:
        return NEUTRAL
    return best


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


def passage_source_side(sides: Sequence[str], probs: dict[str, Sequence[float]]) -> tuple[str, float]:
    """The passage's source side from per-side ``source_side`` probabilities
    ``[p_author, p_this_side, p_other_side, p_third_party]``: ``author``, a
    side's name, or ``other`` (a third party), with its probability (averaged
    over the sides asked about, normalised)."""
    n = len(sides)
    scores = {"author": sum(probs[s][0] for s in sides) / n, "other": sum(probs[s][3] for s in sides) / n}
    for s in sides:
        others = [o for o in sides if o != s]
        scores[s] = (probs[s][1] + (sum(probs[o][2] for o in others) / len(others) if others else probs[s][1])) / 2
    total = sum(scores.values()) or 1.0
    best = max(scores, key=scores.get)
    return best, scores[best] / total
