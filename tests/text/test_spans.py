"""BIO tags for source / cue / content spans: from character spans to token tags and back, and relations."""

from pipeline.text.spans import (
    IGNORE,
    TAG_ID,
    TAGS,
    TaggedSpan,
    char_owner,
    decode,
    group_relations,
    token_tags,
    windows,
)

TEXT = (
    "The union said the offer was an insult to every docker.\n"
    "Meridane, the operator, insisted that the pay rise was fair. The board has not said a word."
)


def spans_of(text: str, *parts: tuple[str, str]) -> list[TaggedSpan]:
    out = []
    for role, words in parts:
        i = text.index(words)
        out.append(TaggedSpan(role, i, i + len(words)))
    return out


GOLD = spans_of(
    TEXT,
    ("source", "The union"),
    ("cue", "said"),
    ("content", "the offer was an insult to every docker"),
    ("source", "Meridane, the operator,"),
    ("cue", "insisted"),
    ("content", "that the pay rise was fair"),
)


def test_gold_spans_survive_tagging_and_decoding_in_every_window(tiny_model):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(tiny_model))
    enc = windows(tok, [TEXT], max_length=20, stride=8)
    assert len(enc["input_ids"]) > 1  # the document needs several windows
    owner = char_owner(GOLD, len(TEXT))
    recovered = set()
    for offs in enc["offset_mapping"]:
        tags = token_tags(offs, GOLD, owner)
        assert tags[0] == IGNORE and tags[-1] == IGNORE  # [CLS] and [SEP]
        first, last = offs[1][0], offs[-2][1]
        for s in decode(offs, tags, TEXT):
            recovered.add(s)
        inside = {g for g in GOLD if first <= g.start and g.end <= last}
        assert inside <= set(decode(offs, tags, TEXT)), "a span wholly inside a window comes back exactly"
    assert set(GOLD) <= recovered


def test_decode_rules():
    text = "Ann Lee said it"
    offs = [(0, 0), (0, 3), (4, 6), (6, 7), (8, 12), (13, 15), (0, 0)]  # "Lee" is split in two word pieces
    t = lambda *names: [IGNORE] + [TAG_ID[n] for n in names] + [IGNORE]
    assert decode(offs, t("B-source", "I-source", "B-source", "B-cue", "O"), text) == [
        TaggedSpan("source", 0, 7),  # a B- inside a word continues the span
        TaggedSpan("cue", 8, 12),
    ]
    assert decode(offs, t("I-source", "O", "O", "B-cue", "I-content"), text) == [
        TaggedSpan("source", 0, 3),  # an I- with nothing open opens a span
        TaggedSpan("cue", 8, 12),
        TaggedSpan("content", 13, 15),
    ]
    assert TAGS[0] == "O" and len(TAGS) == 7


def test_relations_tie_each_cue_to_the_nearest_source_and_content_in_its_paragraph():
    rels = group_relations(GOLD + spans_of(TEXT, ("cue", "has not said")), TEXT)
    by_cue = {TEXT[r.cue[0] : r.cue[1]]: r for r in rels}
    said, insisted = by_cue["said"], by_cue["insisted"]
    assert TEXT[slice(*said.source)] == "The union" and TEXT[slice(*said.content)].startswith("the offer")
    assert TEXT[slice(*insisted.source)].startswith("Meridane") and TEXT[slice(*insisted.content)].startswith("that")
    # the third cue shares a paragraph with Meridane's source only; the contents stay with their nearest cues
    assert by_cue["has not said"].content is None
