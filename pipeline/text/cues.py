"""Weak supervision: labelling functions for stance and credibility.

Each labelling function reads one body passage (its text and rule
attribution) against the dispute and returns a label or abstains (None):

- stance labels are a side's name or ``neutral``;
- credibility labels are ``"SIDE:credible"`` or ``"SIDE:not_credible"``.

:func:`apply_weak` runs every function over the passages, combines the votes
per task with a weighted vote (a function's weight is its accuracy on the gold
passages it votes on, else 1), records which functions gave the winning label
(provenance), and lets gold win wherever gold exists. :func:`summarize` gives
the per-function table: coverage, overlaps, conflicts and accuracy against
gold. Everything here is a pure transform: rows in, rows and dicts out.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from pipeline.dispute import Dispute

BLAME_VERBS = (
    r"refused|refuses|walked out|walks out|broke|breaks|broken|failed|fails|lied|lies|misled|misleads|reneged|reneges|"
    r"backtracked|stalled|stalls|blocked|blocks|sabotaged|ignored|ignores|provoked|provokes|escalated|escalates|"
    r"overreached|overreaches|overplayed|wrecked|torpedoed|stonewalled|stonewalls|dragged its feet|has not explained|"
    r"never published|never explained|cut corners|gambled|squandered|threatened|threatens|violated|violates|"
    r"inflated|inflates|exaggerated|exaggerates|overstated|overstates|hid|hides|concealed|conceals|dodged|dodges"
)
BLAME_NOUNS = (
    r"fault|blame|responsib(?:le|ility)|failure|intransigence|bad faith|recklessness|provocation|overreach|stunt|"
    r"brinkmanship"
)
PRAISE_WORDS = (
    r"praised|praises|credited|credits|generous|constructive|reasonable|good faith|kept its word|kept his word|"
    r"kept her word|"
    r"kept their word|compromised|compromises|conceded ground|offered|offers|delivered|delivers|honoured|honored|"
    r"restraint|flexib(?:le|ility)|patient|patience|sensible|fair offer|deserves? credit|to its credit|to their credit|"
    r"acted responsibly|responsibly|in good faith|was right|were right|is right|are right|vindicated"
)
BLAME_OBJECT = re.compile(
    r"\b(blamed|blames|blaming|accused|accuses|accusing|faulted|faults|criticised|criticized|condemned|condemns)\s+$",
    re.IGNORECASE,
)
CREDIBLE = re.compile(
    r"\b(more credible|most credible|credible|believable|holds? up|held up|stands? up|checks? out|checked out|"
    r"borne out|"
    r"bears? out|is accurate|was accurate|are accurate|were accurate|is correct|was correct|is true|was true|"
    r"deserves? trust|the stricter|on (?:their|its|his|her) side|better documented|well documented|documented)\b",
    re.IGNORECASE,
)
NOT_CREDIBLE = re.compile(
    r"\b(not credible|less credible|implausible|unconvincing|does not hold up|doesn't hold up|did not hold up|"
    r"falls apart|"
    r"without evidence|no evidence|not evidence|unfounded|baseless|unsupported|no document|never (?:been )?published|"
    r"cannot be verified|can't be verified|unverified|unverifiable|hard to believe|not quite right|look(?:s|ed)? rash|"
    r"dubious|questionable|misleading|false|untrue|entitled to be sceptical|entitled to be skeptical)\b",
    re.IGNORECASE,
)
DISTANCING = re.compile(
    r"\b(claimed|claims|alleged|alleges|insisted|insists|purported|purports|asserted|asserts)\b", re.IGNORECASE
)
ADMITTING = re.compile(
    r"\b(admitted|admits|conceded|concedes|acknowledged|acknowledges|later admitted|was forced to admit)\b",
    re.IGNORECASE,
)
HEDGES = re.compile(
    r"\b(allegedly|supposedly|so-called|purportedly|ostensibly|what it calls|what they call|what he calls|"
    r"what she calls)\b",
    re.IGNORECASE,
)
WINDOW = 60  # characters around a side mention that a cue must fall in


@dataclass(frozen=True)
class LabellingFunction:
    name: str
    task: str  # "stance" or "credibility"
    fn: Callable[[dict, Dispute], str | None]
    description: str


def _side_mentions(text: str, dispute: Dispute) -> list[tuple[int, int, str]]:
    return [(a, b, side) for a, b, _canon, side, _body in dispute.find(text) if side != "other"]


def _other(side: str, dispute: Dispute) -> str | None:
    rest = [s for s in dispute.side_names if s != side]
    return rest[0] if len(rest) == 1 else None


def _quoted(text: str) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in re.finditer(r"“[^”]*”|\"[^\"]*\"", text)]


def _outside_quotes(text: str) -> str:
    """The text with quoted words blanked (same length), so lexicons read the writer's words."""
    out = list(text)
    for a, b in _quoted(text):
        out[a:b] = " " * (b - a)
    return "".join(out)


def _single(votes: set[str]) -> str | None:
    return next(iter(votes)) if len(votes) == 1 else None


def lf_quoted_source_side(row: dict, dispute: Dispute) -> str | None:
    """A passage carrying a side's quoted or reported claim favors that side."""
    side = row.get("source_side")
    if (
        row.get("source", "author") != "author"
        and side in dispute.side_names
        and row.get("form") in ("direct", "indirect", "account", "continuation")
    ):
        return side
    return None


def lf_blame(row: dict, dispute: Dispute) -> str | None:
    """Blame of one side (a blame verb or noun right after its mention, or the
    side as the object of "blamed"/"accused") favors the other side."""
    text = _outside_quotes(row["text"])
    blamed = set()
    for a, b, side in _side_mentions(text, dispute):
        after = text[b : b + WINDOW]
        if re.match(rf"^(?:’s|'s)?[^.;]{{0,40}}?\b({BLAME_VERBS})\b", after, re.IGNORECASE):
            blamed.add(side)
        elif re.search(
            rf"\b({BLAME_NOUNS})\b[^.;]{{0,25}}$", text[max(0, a - WINDOW) : a], re.IGNORECASE
        ) and re.search(
            r"\b(lies with|rests with|belongs to|of|on)\s+(?:the\s+)?$", text[max(0, a - 12) : a], re.IGNORECASE
        ):
            blamed.add(side)
        elif BLAME_OBJECT.search(text[max(0, a - 20) : a]):
            blamed.add(side)
    side = _single(blamed)
    return _other(side, dispute) if side else None


def lf_praise(row: dict, dispute: Dispute) -> str | None:
    """Praise of one side (a praise word near its mention) favors that side."""
    text = _outside_quotes(row["text"])
    praised = set()
    for a, b, side in _side_mentions(text, dispute):
        window = text[max(0, a - 30) : b + WINDOW]
        if re.search(rf"\b({PRAISE_WORDS})\b", window, re.IGNORECASE) and not re.search(
            r"\b(not|never|no longer|hardly)\b", window, re.IGNORECASE
        ):
            praised.add(side)
    return _single(praised)


def lf_credibility_cue(row: dict, dispute: Dispute) -> str | None:
    """Explicit credibility words near a side's mention: "the union's account is
    more credible", "Meridane's figure appears in no document", "without evidence"."""
    text = _outside_quotes(row["text"])
    votes = set()
    for a, b, side in _side_mentions(text, dispute):
        window = text[a : b + WINDOW + 20]
        if NOT_CREDIBLE.search(window):
            votes.add(f"{side}:not_credible")
        elif CREDIBLE.search(window) and not re.search(r"\b(not|never|hardly|less)\b", window, re.IGNORECASE):
            votes.add(f"{side}:credible")
    return _single(votes)


def lf_claimed_admitted(row: dict, dispute: Dispute) -> str | None:
    """The writer distancing a side ("X claimed", "X alleged") or reporting its
    admission ("as the company later admitted") casts doubt on its account."""
    if row.get("source", "author") != "author" and row.get("form") == "direct":
        return None  # the speaker's own words, not the writer's framing
    text = _outside_quotes(row["text"])
    votes = set()
    for a, b, side in _side_mentions(text, dispute):
        verb = re.match(r"^\s+(?:\w+ly\s+|later\s+|has\s+|had\s+)*(\w+)", text[b : b + 40])
        if verb and (DISTANCING.fullmatch(verb.group(1)) or ADMITTING.fullmatch(verb.group(1))):
            votes.add(f"{side}:not_credible")
    if (
        not votes
        and ADMITTING.search(text)
        and re.search(r"\bas\s+(?:the\s+)?\w+\s+(?:later\s+)?(admitted|conceded|acknowledged)", text, re.IGNORECASE)
    ):
        ments = _side_mentions(text, dispute)
        if ments:
            votes.add(f"{ments[0][2]}:not_credible")
    return _single(votes)


def lf_scare_quotes(row: dict, dispute: Dispute) -> str | None:
    """Scare quotes (one to four quoted words) around a side's words, in the
    writer's voice: "Nordland's “generous offer”" casts the phrase as empty."""
    if row.get("source", "author") != "author":
        return None
    text = row["text"]
    votes = set()
    for a, b in _quoted(text):
        words = re.findall(r"[\w’'-]+", text[a:b])
        if not 1 <= len(words) <= 4:
            continue
        near = [m for m in _side_mentions(text, dispute) if abs(m[1] - a) <= 40 or abs(m[0] - b) <= 40]
        sides = {m[2] for m in near}
        if len(sides) == 1:
            votes.add(f"{sides.pop()}:not_credible")
    return _single(votes)


def lf_hedge(row: dict, dispute: Dispute) -> str | None:
    """Hedges in the writer's voice next to a side's account ("the so-called
    review", "allegedly") cast doubt on that side."""
    if row.get("source", "author") != "author":
        return None
    text = _outside_quotes(row["text"])
    votes = set()
    for m in HEDGES.finditer(text):
        near = {
            side for a, b, side in _side_mentions(text, dispute) if abs(a - m.end()) <= 50 or abs(b - m.start()) <= 50
        }
        if len(near) == 1:
            votes.add(f"{near.pop()}:not_credible")
    return _single(votes)


LABELLING_FUNCTIONS: dict[str, LabellingFunction] = {
    lf.name: lf
    for lf in (
        LabellingFunction(
            "quoted_source_side", "stance", lf_quoted_source_side, "a quoted or reported side favors itself"
        ),
        LabellingFunction("blame", "stance", lf_blame, "blame of a side favors the other side"),
        LabellingFunction("praise", "stance", lf_praise, "praise of a side favors it"),
        LabellingFunction(
            "credibility_cue",
            "credibility",
            lf_credibility_cue,
            "credible / not credible / without evidence near a side",
        ),
        LabellingFunction(
            "claimed_admitted", "credibility", lf_claimed_admitted, "the writer's 'X claimed' / 'as X admitted'"
        ),
        LabellingFunction("scare_quotes", "credibility", lf_scare_quotes, "scare quotes around a side's words"),
        LabellingFunction("hedge", "credibility", lf_hedge, "allegedly / so-called near a side"),
    )
}


def gold_label(row: dict, task: str) -> str | None:
    """A row's gold label in the functions' label space (None without gold)."""
    if not row.get("has_gold") or row.get("gold_role") not in (None, "body"):
        return None
    if task == "stance":
        return row["gold_stance"]
    side, judgment = row.get("gold_credibility_side"), row.get("gold_credibility_judgment")
    return f"{side}:{judgment}" if side else "none"


def vote_matrix(
    rows: list[dict], disputes: dict[str, Dispute], functions: dict[str, LabellingFunction] | None = None
) -> list[dict[str, str]]:
    """``votes[i][name]``: the label function ``name`` gives body row ``i`` (abstentions omitted)."""
    functions = functions or LABELLING_FUNCTIONS
    out = []
    for r in rows:
        votes = {}
        if r["role"] == "body":
            for name, lf in functions.items():
                label = lf.fn(r, disputes[r["dispute"]])
                if label is not None:
                    votes[name] = label
        out.append(votes)
    return out


def summarize(
    rows: list[dict], votes: list[dict[str, str]], functions: dict[str, LabellingFunction] | None = None
) -> list[dict]:
    """Per function: coverage, overlaps and conflicts over body passages, and accuracy on gold.

    - ``votes``: passages it labels; ``coverage``: that over all body passages;
    - ``overlaps``: share of body passages where it and another function of the
      same task both vote; ``conflicts``: share where another such function votes
      a different label;
    - ``gold_votes``: its votes on passages with gold; ``accuracy``: the share of
      those equal to gold (None without gold votes).
    """
    functions = functions or LABELLING_FUNCTIONS
    body = [i for i, r in enumerate(rows) if r["role"] == "body"]
    n = len(body) or 1
    table = []
    for name, lf in functions.items():
        voted = [i for i in body if name in votes[i]]
        others = [[o for o in votes[i] if o != name and functions[o].task == lf.task] for i in voted]
        overl = sum(1 for o in others if o)
        confl = sum(1 for i, o in zip(voted, others) if any(votes[i][x] != votes[i][name] for x in o))
        golds = [
            (votes[i][name], gold_label(rows[i], lf.task)) for i in voted if gold_label(rows[i], lf.task) is not None
        ]
        correct = sum(1 for v, g in golds if v == g)
        table.append(
            {
                "function": name,
                "task": lf.task,
                "votes": len(voted),
                "coverage": round(len(voted) / n, 4),
                "overlaps": round(overl / n, 4),
                "conflicts": round(confl / n, 4),
                "gold_votes": len(golds),
                "correct": correct,
                "accuracy": round(correct / len(golds), 4) if golds else None,
            }
        )
    return table


def combine(
    votes: dict[str, str], weights: dict[str, float], task: str, functions: dict[str, LabellingFunction] | None = None
) -> tuple[str | None, list[str]]:
    """Weighted vote of one passage's labels for one task.

    Returns:
        ``(label, provenance)``: the label with the largest summed weight and the
        functions that gave it; ``(None, [])`` when nothing votes or the top two
        labels tie.
    """
    functions = functions or LABELLING_FUNCTIONS
    totals: dict[str, float] = defaultdict(float)
    for name, label in votes.items():
        if functions[name].task == task:
            totals[label] += weights.get(name, 1.0)
    if not totals:
        return None, []
    ranked = sorted(totals.items(), key=lambda kv: -kv[1])
    if len(ranked) > 1 and ranked[0][1] == ranked[1][1]:
        return None, []
    label = ranked[0][0]
    return label, sorted(n for n, l in votes.items() if l == label and functions[n].task == task)


def apply_weak(rows: list[dict], disputes: dict[str, Dispute], tasks: list[str], use: bool) -> dict:
    """Label passages with the functions; annotate rows in place; return the summary.

    Every row gets ``label_source`` (``gold`` for a gold body passage; ``weak``
    for a body passage without gold that the vote labels, when ``use`` is
    true; else None), the weak labels ``weak_stance``,
    ``weak_credibility_side`` and ``weak_credibility_judgment``, and
    ``weak_provenance`` (JSON: task -> functions that gave the label). Gold
    always wins: a passage with gold is never given weak labels.

    Returns:
        ``{"enabled", "weights", "functions": summary table, "weak_labelled_passages"}``.
    """
    votes = vote_matrix(rows, disputes)
    table = summarize(rows, votes)
    weights = {t["function"]: (t["accuracy"] if t["accuracy"] is not None else 1.0) for t in table}
    labelled = defaultdict(int)
    for r, v in zip(rows, votes):
        r.update(weak_stance=None, weak_credibility_side=None, weak_credibility_judgment=None, weak_provenance=None)
        gold_body = r["has_gold"] and r["gold_role"] in (None, "body")
        r["label_source"] = "gold" if gold_body and r["role"] == "body" else None
        if r["role"] != "body" or r["has_gold"] or not use:
            continue
        provenance = {}
        for task in tasks:
            label, prov = combine(v, weights, task)
            if label is None:
                continue
            provenance[task] = prov
            labelled[task] += 1
            if task == "stance":
                r["weak_stance"] = label
            else:
                side, _, judgment = label.partition(":")
                r["weak_credibility_side"], r["weak_credibility_judgment"] = side, judgment
        if provenance:
            r["label_source"] = "weak"
            r["weak_provenance"] = json.dumps(provenance, sort_keys=True)
    return {"enabled": use, "weights": weights, "functions": table, "weak_labelled_passages": dict(labelled)}
