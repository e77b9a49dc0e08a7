"""Attribution spans as BIO tags, and back.

The attribution model is a token classifier: every sub-word token of a
document gets one of :data:`TAGS` (``B-``/``I-`` for source, cue and content,
or ``O``). This module is the tokenizer-agnostic part shared by training,
scoring and evaluation:

- :func:`windows` cuts documents into overlapping model windows with each
  token's character offsets (a Hugging Face fast tokenizer's overflow);
- :func:`token_tags` gives each token its tag from character spans (training);
- :func:`decode` turns per-token tags back into character spans;
- :func:`group_relations` ties each cue to its source and content, the
  relation a passage row is attributed through.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass

ROLES = ("source", "cue", "content")
TAGS = ["O"] + [f"{p}-{r}" for r in ROLES for p in ("B", "I")]
TAG_ID = {t: i for i, t in enumerate(TAGS)}
IGNORE = -100  # the loss skips special tokens

Span = tuple[int, int]


@dataclass(frozen=True)
class TaggedSpan:
    role: str
    start: int
    end: int


@dataclass
class SpanRelation:
    """One attribution found in a document: its cue, and the source and content spans tied to it
    (character offsets in the document; None where the model found none)."""

    cue: Span
    source: Span | None = None
    content: Span | None = None


def windows(tokenizer, texts: list[str], max_length: int, stride: int) -> dict:
    """Tokenize documents into windows of at most ``max_length`` tokens, consecutive
    windows sharing ``stride`` tokens, with each token's ``(start, end)`` character
    offsets in its document (``(0, 0)`` for special tokens) and ``doc`` (the index
    of the window's document)."""
    enc = tokenizer(
        texts,
        truncation=True,
        max_length=max_length,
        stride=stride,
        return_overflowing_tokens=True,
        return_offsets_mapping=True,
    )
    enc["doc"] = list(enc.pop("overflow_to_sample_mapping"))
    return enc


def char_owner(spans: list[TaggedSpan], text_len: int) -> list[int]:
    """For every character of a document, the index of the span holding it (-1: none)."""
    owner = [-1] * (text_len + 1)
    for k, s in enumerate(spans):
        owner[max(0, s.start) : min(text_len, s.end)] = [k] * (min(text_len, s.end) - max(0, s.start))
    return owner


def token_tags(offsets: list[Span], spans: list[TaggedSpan], owner: list[int]) -> list[int]:
    """Tag ids for one window's tokens from the document's gold spans (``owner``: :func:`char_owner`).

    A token takes the role of the span holding its first character; it is
    ``B-`` when it is the first token of that span in the window, else ``I-``.
    Special tokens get :data:`IGNORE`.
    """
    out, prev = [], -1
    for a, b in offsets:
        if a == b:
            out.append(IGNORE)
            continue
        k = owner[a] if a < len(owner) else -1
        if k < 0:
            out.append(TAG_ID["O"])
        else:
            out.append(TAG_ID[("I-" if k == prev else "B-") + spans[k].role])
        prev = k
    return out


def decode(offsets: list[Span], tag_ids: list[int], text: str) -> list[TaggedSpan]:
    """Character spans from per-token tags.

    ``B-x`` opens a span, ``I-x`` extends an open span of the same role (or opens
    one), ``O`` closes. A ``B-`` on a token that continues a word (no gap after
    the previous token) is read as ``I-``: a span does not start inside a word.
    Spans are trimmed of surrounding whitespace.
    """
    out: list[TaggedSpan] = []
    role, start, end = None, 0, 0
    for (a, b), t in zip(offsets, tag_ids):
        if a == b or t == IGNORE:
            continue
        tag = TAGS[t]
        if tag == "O":
            if role:
                out.append(TaggedSpan(role, start, end))
            role = None
            continue
        prefix, r = tag.split("-", 1)
        inside_word = role == r and a == end
        if role == r and (prefix == "I" or inside_word):
            end = b
            continue
        if role:
            out.append(TaggedSpan(role, start, end))
        role, start, end = r, a, b
    if role:
        out.append(TaggedSpan(role, start, end))
    return [_trim(s, text) for s in out]


def _trim(s: TaggedSpan, text: str) -> TaggedSpan:
    """Whitespace off both ends, and a line break's worth of bare punctuation (the opening quote mark of the
    next paragraph, the closing one of the last) that a span ran into across a paragraph break."""
    start, end = s.start, s.end
    seg = text[start:end]
    if "\n" in seg:
        head, tail = seg.split("\n", 1)[0], seg.rsplit("\n", 1)[1]
        if not any(c.isalnum() for c in tail):
            end -= len(tail) + 1
        if not any(c.isalnum() for c in head) and start + len(head) + 1 < end:
            start += len(head) + 1
        seg = text[start:end]
    return TaggedSpan(s.role, start + len(seg) - len(seg.lstrip()), end - len(seg) + len(seg.rstrip()))


def _paragraph_starts(text: str) -> list[int]:
    return [0] + [m.end() for m in re.finditer(r"\n", text)]


def group_relations(spans: list[TaggedSpan], text: str, reach: int = 300) -> list[SpanRelation]:
    """Tie each cue to the nearest source and the nearest content in its paragraph.

    Distances are in characters between span edges; a source or content more
    than ``reach`` characters from the cue is not tied to it. A source may
    serve several cues ("X said ... and added ..."); a content goes to the
    nearest cue only.
    """
    paras = _paragraph_starts(text)
    para = lambda pos: bisect_right(paras, pos)
    gap = lambda x, y: max(0, max(x[0], y[0]) - min(x[1], y[1]))
    cues = [(s.start, s.end) for s in spans if s.role == "cue"]
    sources = [(s.start, s.end) for s in spans if s.role == "source"]
    contents = [(s.start, s.end) for s in spans if s.role == "content"]
    rels = []
    for c in cues:
        near = [s for s in sources if para(s[0]) == para(c[0]) and gap(s, c) <= reach]
        rels.append(SpanRelation(c, min(near, key=lambda s: gap(s, c)) if near else None))
    for ct in contents:
        # a content may run over several paragraphs: it is near a cue when either end is
        near = [
            r for r in rels if gap(ct, r.cue) <= reach and para(r.cue[0]) in (para(ct[0]), para(max(ct[0], ct[1] - 1)))
        ]
        if near:
            best = min(near, key=lambda r: gap(ct, r.cue))
            if best.content is None or gap(ct, best.cue) < gap(best.content, best.cue):
                best.content = ct
    return rels


def _allowed() -> object:
    """7 x 7 transition mask of valid BIO sequences: ``I-x`` only after ``B-x`` or ``I-x``."""
    import numpy as np

    ok = np.ones((len(TAGS), len(TAGS)), dtype=bool)
    for j, t in enumerate(TAGS):
        if t.startswith("I-"):
            role = t[2:]
            ok[:, j] = False
            ok[TAG_ID[f"B-{role}"], j] = ok[TAG_ID[f"I-{role}"], j] = True
    return ok


def viterbi(probs) -> list[int]:
    """The most probable valid BIO tag sequence under per-token probabilities (tokens x tags): no ``I-x``
    after ``O`` or after another role, so a span is not cut by one doubtful token's ``B-``/``O``."""
    import numpy as np

    n = len(probs)
    if n == 0:
        return []
    logp = np.log(np.clip(np.asarray(probs, dtype=np.float64), 1e-12, None))
    trans = np.where(_allowed(), 0.0, -np.inf)
    start = np.array([0.0 if not t.startswith("I-") else -np.inf for t in TAGS])
    score = start + logp[0]
    back = np.zeros((n, len(TAGS)), dtype=np.int64)
    for i in range(1, n):
        cand = score[:, None] + trans  # previous tag x next tag
        back[i] = cand.argmax(0)
        score = cand.max(0) + logp[i]
    out = [int(score.argmax())]
    for i in range(n - 1, 0, -1):
        out.append(int(back[i, out[-1]]))
    return out[::-1]
