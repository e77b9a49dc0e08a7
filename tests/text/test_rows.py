"""article_rows: one segmented, attributed article as passage rows (what dataset building and scoring read)."""

import hashlib

import pytest
from conftest import ROOT

from pipeline.dispute import load_dispute
from pipeline.text.readers import read_inputs, read_txt
from pipeline.text.rows import article_rows
from pipeline.text.segment import segment_article

TEXT = """Brakes, a stamp and a strike

Sep 9, 2024

By Ilse Marrant

The strike entered its second week on Monday. Meridane said the offer was fair.

Share this article

“They stamp the form and send the carrier back out,” Ms. Hallan said. In my view, the union’s account holds up.
"""


@pytest.fixture(scope="module")
def dispute():
    return load_dispute(ROOT / "configs/disputes/port-strike.yaml")


def who(row):
    return row["source"], row["source_side"], row["cue"], row["form"], row["source_by"]


def article():
    a = read_txt(TEXT, "ps-test", "in/ps-test.txt")
    a.file_hash = "ab" * 32  # set here: the readers, not the rows, decide how a file is hashed
    return a


def test_one_row_per_passage_in_order(dispute):
    rows = article_rows(article(), dispute)
    passages = segment_article(article())
    assert [(r["index"], r["paragraph"], r["role"], r["text"]) for r in rows] == [
        (p.index, p.paragraph, p.role, p.text) for p in passages
    ]
    assert [r["role"] for r in rows] == ["title", "date", "byline", "body", "body", "boilerplate", "body", "body"]
    assert {r["doc_id"] for r in rows} == {"ps-test"} and {r["dispute"] for r in rows} == {"port-strike"}


def test_every_row_carries_the_article_header_and_file(dispute):
    a = article()
    rows = article_rows(a, dispute)
    for r in rows:
        assert (r["title"], r["byline"], r["date"]) == ("Brakes, a stamp and a strike", "Ilse Marrant", "Sep 9, 2024")
        assert (r["file"], r["file_hash"]) == ("in/ps-test.txt", "ab" * 32)
    keys = {k for r in rows for k in r}
    assert not any(k.startswith("gold") or k in ("stance", "credibility") for k in keys)  # rows carry no labels


def test_context_is_the_previous_body_passage(dispute):
    rows = article_rows(article(), dispute)
    body = [r for r in rows if r["role"] == "body"]
    assert body[0]["context"] is None  # the first body passage has none: the title is not context
    assert [r["context"] for r in body[1:]] == [r["text"] for r in body[:-1]]
    # across the boilerplate line and the paragraph break, the context is still the last body sentence
    assert body[2]["context"] == "Meridane said the offer was fair."
    assert all(r["context"] is None for r in rows if r["role"] != "body")


def test_body_rows_are_attributed_by_the_rules(dispute):
    rows = article_rows(article(), dispute)
    body = {r["text"]: r for r in rows if r["role"] == "body"}
    assert [who(r) for r in body.values()] == [
        ("author", None, None, None, "rules"),
        ("OPERATOR", "OPERATOR", "said", "indirect", "rules"),
        ("Priya Hallan", "UNION", "said", "direct", "rules"),
        ("author", None, None, None, "rules"),
    ]
    for r in rows:
        if r["role"] != "body":  # header and boilerplate lines are the author's and nobody attributed them
            assert who(r) == ("author", None, None, None, None)


class RecordingClassifier:
    """Stands in for the source-side classifier: records its calls and marks the rows it is given."""

    def __init__(self):
        self.calls = []

    def apply(self, rows, dispute):
        self.calls.append(([dict(r) for r in rows], dispute))
        for r in rows:
            if r["role"] == "body" and r["source"] == "author":
                r.update(source="UNION (inferred)", source_side="UNION", form="account", source_by="classifier")


def test_a_source_classifier_is_applied_once_to_the_rule_rows(dispute):
    rules = article_rows(article(), dispute)
    clf = RecordingClassifier()
    rows = article_rows(article(), dispute, clf)
    assert len(clf.calls) == 1
    seen, passed_dispute = clf.calls[0]
    assert seen == rules and passed_dispute is dispute  # it sees the rules' rows, all of them, after attribution
    by = [(r["source"], r["source_by"]) for r in rows if r["role"] == "body"]  # its changes are returned
    assert by == [
        ("UNION (inferred)", "classifier"),
        ("OPERATOR", "rules"),
        ("Priya Hallan", "rules"),
        ("UNION (inferred)", "classifier"),
    ]


def test_without_a_classifier_rows_are_the_same_on_every_call(dispute):
    assert article_rows(article(), dispute) == article_rows(article(), dispute, None)


def test_rows_carry_the_file_hash_and_encoding(dispute, tmp_path):
    raw = (
        "Pay talks resume at the café\r\nThe union and Meridane met again on Friday, for the first time since "
        "the strike began, and agreed to meet again.\r\n"
    ).encode("cp1252")
    (tmp_path / "a.txt").write_bytes(raw)
    arts, _ = read_inputs([str(tmp_path)])
    rows = article_rows(arts[0], dispute)
    provenance = {(r["file"], r["file_hash"], r["encoding"]) for r in rows}
    assert provenance == {(str(tmp_path / "a.txt"), hashlib.sha256(raw).hexdigest(), "cp1252")}


def test_article_without_body_passages_is_a_warning(dispute, tmp_path, caplog):
    (tmp_path / "stub.txt").write_text("Pay talks resume\nMay 3, 2024\nBy Ansel Grieve\nShare this article\n")
    arts, _ = read_inputs([str(tmp_path)])
    with caplog.at_level("WARNING", logger="pipeline.text.rows"):
        rows = article_rows(arts[0], dispute)
    assert rows and not any(r["role"] == "body" for r in rows)
    warning = f"{tmp_path / 'stub.txt'}: no body passages (4 lines, all read as title, byline, date or page chrome)"
    assert warning in caplog.text
    caplog.clear()
    with caplog.at_level("WARNING", logger="pipeline.text.rows"):
        article_rows(article(), dispute)
    assert "no body passages" not in caplog.text
