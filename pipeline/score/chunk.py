"""One chunk of articles -> passage and article lines: the unit both scoring engines run.

Pure: it writes nothing, so the local engine and the Ray actors share it and
produce the same bytes.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import json
import time

from pipeline.analysis.verdicts import article_verdict
from pipeline.dispute import Dispute
from pipeline.text.readers import Article
from pipeline.text.rows import articles_rows

PASSAGE_FIELDS = (
    "doc_id",
    "index",
    "paragraph",
    "text",
    "role",
    "source",
    "source_side",
    "cue",
    "form",
    "source_by",
    "stance",
    "stance_prob",
    "stance_probs",
    "abstained",
    "credibility",
    "credibility_prob",
    "credibility_probs",
    "credibility_by",
    "model_id",
    "model_version",
    "file",
    "file_hash",
    "encoding",
)


def _load_malloc_trim():
    """glibc's ``malloc_trim``, or None (musl, macOS, Windows)."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        trim = libc.malloc_trim
    except (OSError, AttributeError):
        return None
    trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    return trim


_MALLOC_TRIM = _load_malloc_trim()


def release_freed_memory() -> None:
    """Hand memory freed by the last chunk back to the OS (glibc ``malloc_trim(0)``; a no-op elsewhere).

    Every chunk runs the model on batches of new shapes, and the tensors of
    one chunk (tens of MB, freed when it ends) land in glibc's heap once its
    dynamic mmap threshold has risen; glibc keeps those freed pages, scattered
    between live allocations, so RSS grew by about 90 MB/min over a long run
    although nothing leaked (the Python heap stayed flat). Trimming after each
    chunk costs a few milliseconds and keeps RSS flat.
    """
    if _MALLOC_TRIM is not None:
        _MALLOC_TRIM(0)


def score_chunk(
    predictor, articles: list[Article], dispute: Dispute, source_classifier=None, tagger=None, attribution_by="combined"
) -> dict:
    """Segment, attribute (with the attribution model ``tagger`` when given) and score one chunk of articles;
    the output lines of both files.

    Pure: it writes nothing, so the local engine and the Ray actors share it
    and produce the same bytes.

    Returns:
        ``{"passages": bytes, "articles": bytes, "n_passages": int,
        "segment_s": float, "model_s": float}`` (JSONL lines; seconds spent
        in segmentation + attribution and in the model + verdicts).
    """
    from pipeline.score.predictor import score_passages

    t0 = time.perf_counter()
    rows_per = articles_rows(articles, dispute, source_classifier, tagger, attribution_by)
    t1 = time.perf_counter()
    flat = [r for rows in rows_per for r in rows]
    scored = score_passages(predictor, flat, dispute)
    passages, verdicts, pos = [], [], 0
    for rows in rows_per:
        doc = scored[pos : pos + len(rows)]
        pos += len(rows)
        for r in doc:
            rec = {k: r.get(k) for k in PASSAGE_FIELDS}
            rec["model_id"], rec["model_version"] = predictor.model_id, predictor.model_version
            passages.append(json.dumps(rec, ensure_ascii=False) + "\n")
        v = article_verdict(doc, dispute.side_names, predictor.verdict_rule)
        v.update(
            file=doc[0]["file"] if doc else None,
            file_hash=doc[0]["file_hash"] if doc else None,
            model_id=predictor.model_id,
            model_version=predictor.model_version,
        )
        verdicts.append(json.dumps(v, ensure_ascii=False) + "\n")
    release_freed_memory()
    t2 = time.perf_counter()
    return {
        "passages": "".join(passages).encode(),
        "articles": "".join(verdicts).encode(),
        "n_passages": len(flat),
        "segment_s": t1 - t0,
        "model_s": t2 - t1,
    }
