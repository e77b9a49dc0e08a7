"""Passage rows: one article segmented and attributed, one row per passage.

The rows are what both dataset building and scoring read; they carry no labels.
"""

from __future__ import annotations

import logging

from pipeline.dispute import Dispute
from pipeline.text.attribution import attribute_passages, attribute_with_relations, body_document
from pipeline.text.readers import Article
from pipeline.text.segment import segment_article

log = logging.getLogger(__name__)


def articles_rows(
    articles: list[Article], dispute: Dispute, source_classifier=None, tagger=None, attribution: str = "combined"
) -> list[list[dict]]:
    """:func:`article_rows` of several articles, with the attribution model reading all of them in one pass
    (full batches of windows, rather than one article's one to three windows at a time)."""
    segmented = [segment_article(a) for a in articles]
    if tagger is not None and attribution != "rules":
        docs = []
        for passages in segmented:
            body = [p for p in passages if p.role == "body"]
            if body:
                docs.append(body_document([p.text for p in body], [p.paragraph for p in body])[0])
        tagger.relations(docs)  # article_rows finds them in the tagger's cache
    return [
        article_rows(a, dispute, source_classifier, tagger, attribution, passages=ps)
        for a, ps in zip(articles, segmented)
    ]


def article_rows(
    article: Article,
    dispute: Dispute,
    source_classifier=None,
    tagger=None,
    attribution: str = "combined",
    passages: list | None = None,
) -> list[dict]:
    """Segment and attribute one article: one row per passage, with the body
    sentence before it as context (the rows scoring reads; no labels).

    With a source classifier (an object with ``apply(rows, dispute)``, such as
    :class:`pipeline.score.source_model.SourceSideClassifier`), body
    passages the rules leave to the author are re-attributed where the
    classifier is sure (``source_by`` says which did it).

    With an attribution model (``tagger``, a :class:`pipeline.text.tagger.SpanTagger`),
    ``attribution`` says who decides: ``model`` (the model's relations alone),
    ``combined`` (the model, and the rules where the model finds no speaker)
    or ``rules``. Each row's ``source_by`` names the one that decided.

    An article without body passages (all title, byline, date or chrome, as a
    page of markup read as text would be) is logged as a warning: it yields
    nothing to label or score.
    Rows carry the file's provenance: path, ``file_hash`` (sha256 of the
    file's bytes) and the ``encoding`` it was decoded with. ``passages``: the article already
    segmented."""
    passages = segment_article(article) if passages is None else passages
    body = [p for p in passages if p.role == "body"]
    if not body:
        log.warning(
            "%s: no body passages (%d lines, all read as title, byline, date or page chrome); "
            "check it is an article, in .txt, .html or .jsonl",
            article.path or article.doc_id,
            len(article.lines),
        )
    texts, paras = [p.text for p in body], [p.paragraph for p in body]
    atts = attribute_passages(texts, paras, dispute)
    by = ["rules"] * len(body)
    if tagger is not None and attribution != "rules" and body:
        doc, offsets = body_document(texts, paras)
        relations = tagger.relations([doc])[0]
        rules = atts if attribution == "combined" else None
        atts, by = attribute_with_relations(texts, paras, dispute, relations, doc, offsets, rules)
    att_of = {p.index: a for p, a in zip(body, atts)}
    by_of = {p.index: b for p, b in zip(body, by)}
    rows, prev = [], None
    for p in passages:
        a = att_of.get(p.index)
        rows.append(
            {
                "doc_id": article.doc_id,
                "dispute": dispute.name,
                "index": p.index,
                "paragraph": p.paragraph,
                "text": p.text,
                "role": p.role,
                "context": prev if p.role == "body" else None,
                "source": a.source if a else "author",
                "source_side": a.source_side if a else None,
                "cue": a.cue if a else None,
                "form": a.form if a else None,
                "file": article.path,
                "file_hash": article.file_hash,
                "encoding": article.encoding,
                "title": article.title,
                "byline": article.byline,
                "date": article.date,
                "source_by": by_of.get(p.index),
            }
        )
        if p.role == "body":
            prev = p.text
    if source_classifier is not None:
        source_classifier.apply(rows, dispute)
    return rows
