import json

import pytest
from conftest import ROOT, SEED_GOLD, SEED_TXT, need_shared

from pipeline.dispute import load_dispute, parse_dispute
from pipeline.text.attribution import attribute_passages
from pipeline.text.readers import read_inputs
from pipeline.text.segment import segment_article

D = parse_dispute(
    {
        "sides": {
            "NORTH": {
                "aliases": ["Nordland", "Harfell", "the northern delegation"],
                "actors": {"Anna Lind": ["Lind", "Ms. Lind", "the foreign minister"], "Per Dahl": ["Dahl", "Mr. Dahl"]},
            },
            "SOUTH": {
                "aliases": ["Sudmark", "Calvar"],
                "actors": {"Tomas Reyes": ["Reyes", "Mr. Reyes", "the prime minister"]},
            },
        },
        "third_parties": {"Harbour Institute": ["the institute"]},
    },
    "test.yaml",
)


def attr(*sentences, paragraphs=None):
    return [
        (a.source, a.source_side, a.cue, a.form)
        for a in attribute_passages(list(sentences), paragraphs or [0] * len(sentences), D)
    ]


@pytest.mark.parametrize(
    "sentence, expected",
    [
        ("Lind said, “We will not sign a text we have not read.”", ("Anna Lind", "NORTH", "said", "direct")),
        ("“We will not sign a text we have not read,” Ms. Lind said.", ("Anna Lind", "NORTH", "said", "direct")),
        ('"The offer stands until Friday," said Mr. Reyes.', ("Tomas Reyes", "SOUTH", "said", "direct")),
        (
            "The prime minister was blunt: “There will be no second offer this year.”",
            ("Tomas Reyes", "SOUTH", ":", "direct"),
        ),
        (
            "Mr. Dahl pointed out that the quota had been agreed in March.",
            ("Per Dahl", "NORTH", "pointed out", "indirect"),
        ),
        (
            "According to Calvar, the talks collapsed over a single clause.",
            ("SOUTH", "SOUTH", "according to", "indirect"),
        ),
        (
            "According to shipping analysts, exports fell by a third.",
            ("shipping analysts", "other", "according to", "indirect"),
        ),
        (
            "Nordland's version suggests that the south walked out first.",
            ("NORTH", "NORTH", "version ... suggests", "account"),
        ),
        (
            "The institute found that both sides had overstated their losses.",
            ("Harbour Institute", "other", "found", "indirect"),
        ),
    ],
)
def test_attribution_forms(sentence, expected):
    assert attr(sentence)[0] == expected


def test_author_voice_and_scare_quotes_stay_with_the_author():
    assert attr("Nordland's “generous offer” was nothing of the kind.")[0][0] == "author"
    assert attr("Reyes has not explained why the deadline moved.")[0][0] == "author"
    assert attr("In my view, Sudmark's account is the more credible one.")[0][0] == "author"
    assert attr("Talks with the United States resumed in May.")[0][0] == "author"


def test_pronoun_and_continuation_follow_the_last_speaker():
    out = attr(
        "Lind told reporters that the northern delegation had offered a quota.",
        "She added that the offer would lapse on Friday.",
        "Any delay would be the south's responsibility.",
    )
    assert [o[0] for o in out] == ["Anna Lind", "Anna Lind", "Anna Lind"]
    assert [o[3] for o in out] == ["indirect", "indirect", "continuation"]


def test_multi_sentence_quote_is_attributed_as_one():
    out = attr(
        "Reyes said, “We came to sign.", "We leave with nothing.”", "The talks ended at midnight.", paragraphs=[0, 0, 1]
    )
    assert out[0][:2] == out[1][:2] == ("Tomas Reyes", "SOUTH")
    assert out[1][3] == "direct" and out[2][0] == "author"


def test_seed_gold_attribution():
    """The rules on the seed: at most one author-voice passage wrongly attributed, and of the
    high-confidence attributed passages only the hedged account (a side's version "seems to"
    suggest ...) is missed: the rule branch that read it fired on the seed and on no corpus passage,
    so it was removed (issue 16); the attribution model is to find it instead."""
    need_shared(SEED_TXT, SEED_GOLD)
    d = load_dispute(ROOT / "configs/disputes/us-dprk-hanoi-2019.yaml")
    arts, _ = read_inputs([str(SEED_TXT)])
    body = [p for p in segment_article(arts[0]) if p.role == "body"]
    gold = {json.loads(l)["index"]: json.loads(l) for l in SEED_GOLD.read_text(encoding="utf-8").splitlines()}
    atts = attribute_passages([p.text for p in body], [p.paragraph for p in body], d)
    wrong_attributed = [
        p.index
        for p, a in zip(body, atts)
        if gold[p.index]["source"] != "author"
        and gold[p.index]["confidence"] == "high"
        and (a.source, a.source_side) != (gold[p.index]["source"], gold[p.index]["source_side"])
    ]
    wrong_author = [p.index for p, a in zip(body, atts) if gold[p.index]["source"] == "author" and a.source != "author"]
    assert len(wrong_attributed) == 1 and "seems to" in gold[wrong_attributed[0]]["text"], wrong_attributed
    assert len(wrong_author) <= 1, wrong_author


def test_seed_segmentation_matches_gold():
    need_shared(SEED_TXT, SEED_GOLD)
    arts, _ = read_inputs([str(SEED_TXT)])
    got = [(p.paragraph, p.text, p.role) for p in segment_article(arts[0])]
    gold = [
        (g["paragraph"], g["text"], g["role"])
        for g in map(json.loads, SEED_GOLD.read_text(encoding="utf-8").splitlines())
    ]
    assert got == gold


def test_embedded_corpus_segmentation_matches_its_labels():
    for txt in sorted((ROOT / "data/corpus").glob("*/*.txt")):
        arts, _ = read_inputs([str(txt)])
        got = [(p.paragraph, p.text, p.role) for p in segment_article(arts[0])]
        gold = [
            (g["paragraph"], g["text"], g["role"])
            for g in map(
                json.loads, (ROOT / "data/labels" / f"{txt.stem}.gold.jsonl").read_text(encoding="utf-8").splitlines()
            )
        ]
        assert got == gold, txt.name


def spans(sentence, dispute=D):
    a = attribute_passages([sentence], [0], dispute)[0]
    cut = lambda s: sentence[s[0] : s[1]] if s else None  # noqa: E731
    return cut(a.source_span), cut(a.cue_span), a


@pytest.mark.parametrize(
    "sentence, source, cue",
    [
        ("Lind said, “We will not sign a text we have not read.”", "Lind", "said"),
        ("“We will not sign a text we have not read,” Ms. Lind said.", "Ms. Lind", "said"),
        ('"The offer stands until Friday," said Mr. Reyes.', "Mr. Reyes", "said"),
        ("The prime minister was blunt: “There will be no second offer this year.”", "The prime minister", ":"),
        ("Mr. Dahl pointed out that the quota had been agreed in March.", "Mr. Dahl", "pointed out"),
        ("According to shipping analysts, exports fell by a third.", "shipping analysts", "According to"),
        ("Nordland's version suggests that the south walked out first.", "Nordland", "version suggests"),
    ],
)
def test_spans_mark_the_source_and_cue_words(sentence, source, cue):
    got_source, got_cue, _ = spans(sentence)
    assert got_source == source
    assert (
        got_cue == cue if cue != "version suggests" else got_cue.startswith("version") and got_cue.endswith("suggests")
    )


def test_author_voice_and_continuations_have_no_spans():
    _, _, a = spans("Reyes has not explained why the deadline moved.")
    assert a.is_author and a.source_span is None and a.cue_span is None
    out = attribute_passages(
        ["Lind told reporters that the quota was agreed.", "Any delay would be the south's responsibility."], [0, 0], D
    )
    assert out[1].form == "continuation" and out[1].source_span is None and out[1].cue_span is None


@pytest.mark.parametrize(
    "sentence, source, cue",
    [
        ("The regional governor said the bridge would reopen in May.", "The regional governor", "said"),
        ("Officials at the ministry insisted that nothing had changed.", "Officials at the ministry", "insisted"),
        ("“Nothing has changed since the spring,” said Governor Alma Ruiz.", "Governor Alma Ruiz", "said"),
        ("According to the harbour authority, traffic fell by a fifth.", "the harbour authority", "According to"),
        ("She warned that the deadline would not move.", "She", "warned"),
    ],
)
def test_no_dispute_mode_takes_speakers_from_the_text(sentence, source, cue):
    got_source, got_cue, a = spans(sentence, None)
    assert (got_source, got_cue) == (source, cue)
    assert a.source_side is None and not a.is_author


def test_no_dispute_mode_resolves_a_pronoun_to_the_last_speaker_and_keeps_author_voice():
    out = attribute_passages(
        ["The mayor said the budget was balanced.", "She added that taxes would not rise.", "The vote is on Monday."],
        [0, 0, 1],
        None,
    )
    assert out[1].source == "The mayor" and out[1].source_span == (0, 3)
    assert out[2].is_author
    assert attribute_passages(["The talks with the United States resumed in May."], [0], None)[0].is_author
