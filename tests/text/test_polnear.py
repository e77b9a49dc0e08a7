"""PolNeAR reader and span scorer. The reader test needs ../shared/data/polnear
and skips without it; the scorer is checked on a hand-made example."""

import pytest
from conftest import SHARED, need_shared

from pipeline.text.polnear import (
    PolnearDoc,
    Relation,
    match_count,
    parse_ann,
    predict_spans,
    prf,
    read_polnear,
    score,
    sentences_with_offsets,
)

POLNEAR = SHARED / "data" / "polnear"


def test_reader_on_a_real_test_document():
    need_shared(POLNEAR / "test" / "text", POLNEAR / "test" / "attributions")
    docs = read_polnear(POLNEAR, "test", limit=2)
    assert len(docs) == 2
    doc = docs[0]
    assert doc.relations and doc.annotator
    for r in doc.relations:
        # offsets index the text: spans are non-empty and hold words, cues are short
        assert 0 <= r.cue[0] < r.cue[1] <= len(doc.text) and doc.text[r.cue[0] : r.cue[1]].strip()
        if r.source:
            assert doc.text[r.source[0] : r.source[1]].strip()
    # the sentence offsets the benchmark relies on point back into the text
    for start, sentence, _ in sentences_with_offsets(doc.text):
        assert doc.text[start : start + len(sentence)] == sentence
    src, cue = predict_spans(doc)
    assert all(doc.text[a:b].strip() for a, b in src | cue)


def test_parse_ann_skips_bad_lines_and_joins_fragments():
    ann = "\n".join(
        [
            "T1\tSource 0 4\tAnna",
            "T2\tCue 5 9\tsaid",
            "T3\tContent 10 20;25 30\tsomething",
            "T4\tAttribution 5 9\tsaid",
            "#1\tAnnotatorNotes T1\tnote",
            "T",
            "E1\tAttribution:T4 Content:T3 Cue:T2 Source:T1",
            "T5\tCue 40 46\tadding",
            "E2\tAttribution-no-source:T5 Cue:T5",
        ]
    )
    rels = parse_ann(ann)
    assert rels[0] == Relation(cue=(5, 9), source=(0, 4), content=(10, 30))
    assert rels[1].source is None and rels[1].cue == (40, 46)


def test_scorer_arithmetic_on_a_hand_made_example():
    text = "The mayor said on Monday that the council, she added, had voted."
    #       0123456789012345678901234567890123456789012345678901234567890123
    doc = PolnearDoc(
        "x",
        text,
        "a",
        [
            Relation(cue=(10, 14), source=(0, 9)),  # "The mayor" / "said"
            Relation(cue=(47, 52), source=(43, 46)),  # "she" / "added"
        ],
    )
    # predictions: the source "mayor" (overlaps "The mayor", not exact), the
    # source "council" (wrong), the cue "said" (exact) and "added" (exact)
    pred_src = {(4, 9), (34, 41)}
    pred_cue = {(10, 14), (47, 52)}
    assert match_count(pred_src, doc.source_spans, text, "exact") == 0
    assert match_count(pred_src, doc.source_spans, text, "overlap") == 1
    result = score([doc], [(pred_src, pred_cue)])
    assert (
        result["source_exact"]
        == prf(0, 2, 2)
        == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "tp": 0, "predicted": 2, "gold": 2}
    )
    assert (
        result["source_overlap"]["precision"] == 0.5
        and result["source_overlap"]["recall"] == 0.5
        and result["source_overlap"]["f1"] == 0.5
    )
    assert result["cue_exact"]["f1"] == 1.0
    # one long prediction covering both gold sources matches only one of them
    assert match_count({(0, 46)}, doc.source_spans, text, "overlap") == 1
    # surrounding whitespace does not break an exact match
    assert match_count({(10, 15)}, {(10, 14)}, text, "exact") == 1
    assert prf(3, 4, 6) == {"precision": 0.75, "recall": 0.5, "f1": 0.6, "tp": 3, "predicted": 4, "gold": 6}
    with pytest.raises(ValueError):
        match_count(pred_src, doc.source_spans, text, "fuzzy")
