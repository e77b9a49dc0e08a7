"""Passage attribution from an attribution model's relations: speakers resolved through the dispute,
pronouns and descriptions to the nearest compatible mention, quotes carried over sentences, the rules
as fallback. The relations are written here (what a model would find); the resolution is under test."""

import pytest
from conftest import ROOT

from pipeline.dispute import load_dispute
from pipeline.text.attribution import attribute_passages, attribute_with_relations, body_document
from pipeline.text.spans import SpanRelation


@pytest.fixture(scope="module")
def dispute():
    return load_dispute(ROOT / "configs/disputes/port-strike.yaml")


def span(doc: str, words: str, after: str = "") -> tuple[int, int]:
    i = doc.index(words, doc.index(after) if after else 0)
    return i, i + len(words)


def run(dispute, passages, paragraphs, rels_of, rules=False, **kw):
    """The mechanism under test with a permissive setting (half the passage, or the cue in it); the default
    setting, chosen on validation, is tested on its own below."""
    doc, offsets = body_document(passages, paragraphs)
    relations = rels_of(doc)
    fallback = attribute_passages(passages, paragraphs, dispute) if rules else None
    kw = {"min_share": 0.5, "cue_counts": True, **kw}
    return attribute_with_relations(passages, paragraphs, dispute, relations, doc, offsets, fallback, **kw)


def test_a_quote_over_three_sentences_with_the_cue_after_it_keeps_its_speaker(dispute):
    passages = [
        "“The crane was never inspected.",
        "Nobody told us.",
        "We will not go back until it is,” Rosa Ketteridge said.",
        "The talks resume on Monday.",
    ]
    atts, by = run(
        dispute,
        passages,
        [0, 0, 0, 1],
        lambda d: [
            SpanRelation(span(d, "said"), span(d, "Rosa Ketteridge"), (0, d.index(",”") + 2)),
        ],
    )
    assert [a.source for a in atts] == ["Rosa Ketteridge"] * 3 + ["author"]
    assert [a.source_side for a in atts[:3]] == ["UNION"] * 3
    assert atts[0].form == "direct" and atts[2].cue == "said" and by == ["model"] * 4


def test_pronoun_and_descriptive_speakers_go_to_the_nearest_compatible_mention(dispute):
    passages = [
        "Meridane published its accounts on Friday.",
        "It said the pay offer was final.",
        "Rosa Ketteridge was unmoved.",
        "She said the figures hid the bonuses.",
        "The spokeswoman said the company had been patient.",
    ]
    atts, _ = run(
        dispute,
        passages,
        [0, 0, 1, 1, 2],
        lambda d: [
            SpanRelation(span(d, "said", "It said"), span(d, "It"), span(d, "the pay offer was final")),
            SpanRelation(span(d, "said", "She"), span(d, "She"), span(d, "the figures hid the bonuses")),
            SpanRelation(
                span(d, "said", "The spokeswoman"),
                span(d, "The spokeswoman"),
                span(d, "the company had been patient"),
            ),
        ],
    )
    assert (atts[1].source, atts[1].source_side) == ("OPERATOR", "OPERATOR")  # "it": a side as a body
    assert (atts[3].source, atts[3].source_side) == ("Rosa Ketteridge", "UNION")  # "she": a person
    assert atts[4].source_side == "OPERATOR"  # "the spokeswoman": the company mentioned last
    assert atts[0].is_author and atts[2].is_author


def test_an_appositive_names_the_actor_and_an_inverted_cue_finds_its_speaker(dispute):
    passages = [
        "The union's safety officer, Priya Hallan, said the crane logs were missing, and the chief executive "
        "said they were in the archive.",
        "“The logs exist,” said Conrad Wyle.",
    ]
    atts, _ = run(
        dispute,
        passages,
        [0, 1],
        lambda d: [
            SpanRelation(
                span(d, "said"),
                span(d, "The union's safety officer, Priya Hallan"),
                span(d, "the crane logs were missing"),
            ),
            SpanRelation(span(d, "said", "chief"), span(d, "the chief executive"), span(d, "they were in the archive")),
            SpanRelation(span(d, "said", "“The logs"), span(d, "Conrad Wyle"), span(d, "“The logs exist,”")),
        ],
    )
    assert (atts[0].source, atts[0].source_side) == ("Priya Hallan", "UNION")  # the first relation in the passage
    assert (atts[1].source, atts[1].source_side) == ("Conrad Wyle", "OPERATOR")


def test_without_a_relation_the_author_speaks_unless_the_rules_found_a_speaker(dispute):
    passages = ["The strike is a failure of nerve on both sides.", "Conrad Wyle said the port would reopen."]
    only_model, by = run(dispute, passages, [0, 1], lambda d: [])
    assert all(a.is_author for a in only_model) and by == ["model", "model"]
    combined, by = run(dispute, passages, [0, 1], lambda d: [], rules=True)
    assert combined[0].is_author and combined[1].source == "Conrad Wyle" and by == ["model", "rules"]


def test_a_relation_without_a_source_leaves_the_passage_to_the_author(dispute):
    passages = ["It is widely expected that the port will reopen."]
    atts, _ = run(dispute, passages, [0], lambda d: [SpanRelation(span(d, "expected"), None, span(d, "that the port"))])
    assert atts[0].is_author


def test_by_default_a_relation_inside_an_authors_sentence_leaves_it_to_the_author(dispute):
    """The default (content covering 70% of the passage; a cue alone does not count) keeps the author's
    verdict on a side's denial with the author, and still gives a reported sentence to its speaker."""
    passages = [
        "Meridane's denial that the crane was faulty does not survive a look at its own maintenance logs.",
        "Conrad Wyle said that the crane had passed every inspection since March.",
    ]
    doc, offsets = body_document(passages, [0, 1])
    relations = [
        SpanRelation(span(doc, "denial"), span(doc, "Meridane"), span(doc, "that the crane was faulty")),
        SpanRelation(
            span(doc, "said"),
            span(doc, "Conrad Wyle"),
            span(doc, "that the crane had passed every inspection since March"),
        ),
    ]
    atts, by = attribute_with_relations(passages, [0, 1], dispute, relations, doc, offsets)
    assert atts[0].is_author and atts[1].source == "Conrad Wyle" and by == ["model", "model"]
    atts, _ = attribute_with_relations(passages, [0, 1], dispute, relations, doc, offsets, min_share=0.2)
    assert atts[0].source_side == "OPERATOR"  # a looser setting hands it to the company
