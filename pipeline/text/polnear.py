"""PolNeAR (Newell et al., LREC 2018): attribution relations in US political news.

Read here for two uses: the training data of the attribution model (source,
cue and content spans as BIO tags, :mod:`pipeline.text.spans`) and the
benchmark of both the model and the rules.

PolNeAR annotates attribution relations in US political news as brat standoff
files: ``T`` lines give typed character spans (``Source``, ``Cue``,
``Content``, ...), ``E`` lines tie one cue to its source and content. This
module reads one compartment (``train``, ``dev`` or ``test``) into documents
with their gold source and cue spans, runs the rules in the no-dispute mode
(speakers come from the text itself) over the same text, and scores predicted
spans against gold: exact (same start and end) and overlap (at least one
shared word token), each with a one-to-one matching, as precision, recall
and F1.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.errors import DataError
from pipeline.io import read_text
from pipeline.text.spans import ROLES

log = logging.getLogger(__name__)

Span = tuple[int, int]


@dataclass
class Relation:
    """One gold attribution: its cue span, and its source span (None for ``Attribution-no-source``)."""

    cue: Span
    source: Span | None
    content: Span | None = None


@dataclass
class PolnearDoc:
    doc_id: str
    text: str
    annotator: str
    relations: list[Relation] = field(default_factory=list)
    publisher: str = ""

    @property
    def source_spans(self) -> set[Span]:
        """Distinct gold source spans (several relations may share one source)."""
        return {r.source for r in self.relations if r.source}

    @property
    def cue_spans(self) -> set[Span]:
        return {r.cue for r in self.relations}

    @property
    def content_spans(self) -> set[Span]:
        return {r.content for r in self.relations if r.content}


def _span(offsets: str) -> Span:
    """``"10 20"`` or a discontinuous ``"10 20;25 30"`` -> (first start, last end)."""
    parts = [tuple(int(x) for x in frag.split()) for frag in offsets.split(";")]
    return min(p[0] for p in parts), max(p[1] for p in parts)


def parse_ann(text: str) -> list[Relation]:
    """Relations from one brat ``.ann`` file; lines that do not parse are skipped
    (the corpus has a handful of stray note lines)."""
    spans: dict[str, tuple[str, Span]] = {}
    events: list[dict[str, str]] = []
    for line in text.splitlines():
        cols = line.split("\t")
        if len(cols) >= 2 and re.fullmatch(r"T\d+", cols[0]):
            m = re.fullmatch(r"(\S+) (\d+ \d+(?:;\d+ \d+)*)", cols[1])
            if m:
                spans[cols[0]] = (m.group(1), _span(m.group(2)))
        elif len(cols) >= 2 and re.fullmatch(r"E\d+", cols[0]):
            args = dict(a.split(":", 1) for a in cols[1].split() if ":" in a)
            events.append(args)
    out = []
    for args in events:
        cue = spans.get(args.get("Cue", ""))
        if cue is None:
            continue
        src = spans.get(args.get("Source", ""))
        content = spans.get(args.get("Content", ""))
        out.append(Relation(cue[1], src[1] if src else None, content[1] if content else None))
    return out


def read_polnear(root: str | Path, split: str = "test", limit: int | None = None) -> list[PolnearDoc]:
    """Read one compartment of PolNeAR.

    Articles annotated by several annotators (the agreement sets) are read
    once, with the alphabetically first annotator's file, so every article
    counts once and the choice is reproducible.

    Args:
        root: the PolNeAR ``data`` folder (holding ``train/``, ``dev/``, ``test/``).
        split: the compartment to read.
        limit: read at most this many articles (sorted by name).

    Raises:
        DataError: the folder or its ``text``/``attributions`` subfolders are missing.
    """
    base = Path(root) / split
    text_dir, ann_dir = base / "text", base / "attributions"
    if not text_dir.is_dir() or not ann_dir.is_dir():
        raise DataError(
            f"{base}: expected PolNeAR's '{split}/text' and '{split}/attributions' folders; "
            "point the path at PolNeAR's data folder"
        )
    docs, skipped = [], 0
    for txt in sorted(text_dir.glob("*.txt"))[:limit]:
        # an empty .ann file is an annotation never done (a few in train): the next annotator's, or skip the article
        anns = [a for a in sorted(ann_dir.glob(f"{txt.stem}_*.ann")) if a.stat().st_size > 0]
        if not anns:
            skipped += 1
            continue
        ann = anns[0]
        text = read_text(txt)
        publisher = txt.stem.split("_", 1)[0]  # file names start with the outlet: breitbart_2016-10-12_...
        docs.append(PolnearDoc(txt.stem, text, ann.stem.rsplit("_", 1)[1], parse_ann(read_text(ann)), publisher))
    if not docs:
        raise DataError(f"{base}: no article has both a text and an attributions file")
    if skipped:
        log.info("%s: %d articles without a non-empty attributions file skipped", base, skipped)
    return docs


def sentences_with_offsets(text: str) -> list[tuple[int, str, int]]:
    """``(start offset, sentence, paragraph)`` for every sentence, with the
    pipeline's own sentence splitter run per paragraph (blank-line separated)."""
    from pipeline.text.segment import split_sentences

    out = []
    for p, m in enumerate(re.finditer(r"[^\n]+", text)):
        para, base, cursor = m.group(0), m.start(), 0
        if not para.strip():
            continue
        for s in split_sentences(para):
            pattern = r"\s+".join(re.escape(w) for w in s.split())
            hit = re.compile(pattern).search(para, cursor)
            if hit is None:
                continue
            out.append((base + hit.start(), para[hit.start() : hit.end()], p))
            cursor = hit.end()
    return out


def predict_spans(doc: PolnearDoc, direct_only: bool = False) -> tuple[set[Span], set[Span]]:
    """Source and cue spans the rules find in one document (no dispute config).

    Args:
        direct_only: keep only direct-quote attributions (the baseline).
    """
    from pipeline.text.attribution import (
        attribute_passages,
        more_attributions,
        widen_cue,
    )

    sents = sentences_with_offsets(doc.text)
    atts = attribute_passages([s for _, s, _ in sents], [p for _, _, p in sents], None)
    sources, cues = set(), set()
    for (start, text, _), a in zip(sents, atts):
        if direct_only:
            if a.form == "direct" and a.source_span and a.cue_span:
                sources.add((start + a.source_span[0], start + a.source_span[1]))
                cues.add((start + a.cue_span[0], start + a.cue_span[1]))
            continue
        pairs = [] if a.is_author else [(a.source_span, widen_cue(text, a.cue_span) if a.cue_span else None)]
        pairs += more_attributions(text, a)
        for src, cue in pairs:
            if src:
                sources.add((start + src[0], start + src[1]))
            if cue:
                cues.add((start + cue[0], start + cue[1]))
    return sources, cues


def _tokens(text: str, span: Span) -> set[int]:
    """Start offsets of the word tokens inside ``span``."""
    return {span[0] + m.start() for m in re.finditer(r"\w+", text[span[0] : span[1]])}


def match_count(pred: set[Span], gold: set[Span], text: str, mode: str) -> int:
    """One-to-one matches between predicted and gold spans.

    ``exact``: same start and end (surrounding whitespace ignored).
    ``overlap``: the spans share at least one word token; matched greedily,
    largest overlap first, so one long prediction cannot match two gold spans.
    """

    def trim(s: Span) -> Span:
        seg = text[s[0] : s[1]]
        return s[0] + len(seg) - len(seg.lstrip()), s[1] - len(seg) + len(seg.rstrip())

    if mode == "exact":
        return len({trim(s) for s in pred} & {trim(s) for s in gold})
    if mode != "overlap":
        raise ValueError(mode)
    ptok = {p: _tokens(text, p) for p in pred}
    gtok = {g: _tokens(text, g) for g in gold}
    pairs = sorted(((len(ptok[p] & gtok[g]), p, g) for p in pred for g in gold if ptok[p] & gtok[g]), reverse=True)
    used_p, used_g, n = set(), set(), 0
    for _, p, g in pairs:
        if p in used_p or g in used_g:
            continue
        used_p.add(p)
        used_g.add(g)
        n += 1
    return n


def prf(tp: int, n_pred: int, n_gold: int) -> dict:
    p = tp / n_pred if n_pred else 0.0
    r = tp / n_gold if n_gold else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {
        "precision": round(p, 4),
        "recall": round(r, 4),
        "f1": round(f, 4),
        "tp": tp,
        "predicted": n_pred,
        "gold": n_gold,
    }


GOLD = {
    "source": lambda d: d.source_spans,
    "cue": lambda d: d.cue_spans,
    "content": lambda d: d.content_spans,
}


def score(docs: list[PolnearDoc], predictions: list[tuple[set[Span], ...]]) -> dict:
    """Micro-averaged exact and overlap P/R/F1 over documents, for sources and cues
    and, where the predictions carry a third set, for contents.

    Args:
        docs: gold documents.
        predictions: ``(source spans, cue spans[, content spans])`` per document, in document offsets.
    """
    out = {}
    kinds = ("source", "cue", "content")[: min(len(p) for p in predictions)] if predictions else ()
    for idx, what in enumerate(kinds):
        gold_of = GOLD[what]
        for mode in ("exact", "overlap"):
            tp = sum(match_count(pred[idx], gold_of(d), d.text, mode) for d, pred in zip(docs, predictions))
            out[f"{what}_{mode}"] = prf(
                tp, sum(len(pred[idx]) for pred in predictions), sum(len(gold_of(d)) for d in docs)
            )
    return out


def score_by_publisher(docs: list[PolnearDoc], predictions: list[tuple[set[Span], ...]]) -> dict:
    """:func:`score` per outlet (PolNeAR's publishers), sorted by name."""
    groups: dict[str, list[int]] = {}
    for i, d in enumerate(docs):
        groups.setdefault(d.publisher or "unknown", []).append(i)
    return {
        pub: {"articles": len(ix), **score([docs[i] for i in ix], [predictions[i] for i in ix])}
        for pub, ix in sorted(groups.items())
    }


def load_documents(dataset_dir: str | Path):
    """The attribution dataset folder's articles (``documents``: a ``DatasetDict`` by split)."""
    from datasets import load_from_disk

    return load_from_disk(str(Path(dataset_dir) / "documents"))


def documents_from_rows(rows: list[dict]) -> list[PolnearDoc]:
    """Dataset rows (``pipeline.dataset.attribution.doc_row``) back into documents with their relations."""
    span = lambda x: tuple(x) if x else None
    return [
        PolnearDoc(
            r["doc_id"],
            r["text"],
            r.get("annotator", ""),
            [Relation(tuple(x["cue"]), span(x["source"]), span(x["content"])) for x in r["relations"]],
            r.get("publisher", ""),
        )
        for r in rows
    ]


def score_tagger(tagger, rows: list[dict]) -> tuple[dict, list[PolnearDoc], list[tuple[set[Span], ...]]]:
    """An attribution model (:class:`pipeline.text.tagger.SpanTagger`) on whole articles: exact and overlap
    P/R/F1 of its source, cue and content spans; the documents and its spans per document."""
    docs = documents_from_rows(rows)
    found = tagger.spans([d.text for d in docs])
    preds = [tuple({(s.start, s.end) for s in spans if s.role == role} for role in ROLES) for spans in found]
    return {"documents": len(docs), **score(docs, preds)}, docs, preds
