"""Page chrome is dropped by its shape, on pages (written here) whose chrome the embedded corpus never used."""

import pytest

from pipeline.text.readers import Article, read_inputs
from pipeline.text.segment import chrome_shape, line_roles, segment_article

# Two pages of one made-up site: a masthead and a menu on both, another
# language picker, a sign-up line, photo credits, promotion headers.
PAGE_A = """THE QUAY LEDGER
Home | News | Business | Sport | Opinion
Read in: English · Deutsch · Polski
Click here to subscribe to our morning briefing
Dockers vote to return to work at Terminal 4
14 May 2024
By Ansel Grieve
Photo: Pickets leave the gates of Terminal 4 on Monday evening. (Quay Ledger/Ansel Grieve)
The dockers at Terminal 4 voted on Monday to return to work after five weeks, ending the long stoppage.
The union said the vote was close, with 412 members in favour and 389 against. Its leaders did not campaign either way.
Sign up for our free daily newsletter.
Follow the money here, and it leads straight back to the harbour board.
More stories from The Quay Ledger
www.quayledger.example/port
"""

PAGE_B = """THE QUAY LEDGER
Home | News | Business | Sport | Opinion
Idioma: Español English Português
Harbour board names a new chair after the strike
2 June 2024
By Mira Solberg
Image credit: Quay Ledger archive
The harbour board named a new chair on Sunday, a month after the strike that closed Terminal 4 for five weeks ended.
“We start again,” the new chair said at the quay.
Most viewed stories
Continue reading
"""

CHROME_A = [
    "THE QUAY LEDGER",
    "Home | News | Business | Sport | Opinion",
    "Read in: English · Deutsch · Polski",
    "Click here to subscribe to our morning briefing",
    "Photo: Pickets leave the gates of Terminal 4 on Monday evening. (Quay Ledger/Ansel Grieve)",
    "Sign up for our free daily newsletter.",
    "More stories from The Quay Ledger",
    "www.quayledger.example/port",
]
CHROME_B = [
    "THE QUAY LEDGER",
    "Home | News | Business | Sport | Opinion",
    "Idioma: Español English Português",
    "Image credit: Quay Ledger archive",
    "Most viewed stories",
    "Continue reading",
]
TITLES = {"a": "Dockers vote to return to work at Terminal 4", "b": "Harbour board names a new chair after the strike"}


@pytest.fixture
def site(tmp_path):
    (tmp_path / "a.txt").write_text(PAGE_A, encoding="utf-8")
    (tmp_path / "b.txt").write_text(PAGE_B, encoding="utf-8")
    arts, rejects = read_inputs([str(tmp_path)])
    assert not rejects
    return {a.doc_id: a for a in arts}


def test_chrome_the_corpus_never_used_becomes_boilerplate(site):
    for doc_id, chrome in (("a", CHROME_A), ("b", CHROME_B)):
        title = TITLES[doc_id]
        passages = segment_article(site[doc_id])
        assert sorted(p.text for p in passages if p.role == "boilerplate") == sorted(chrome), doc_id
        assert [p.text for p in passages if p.role == "title"] == [title] and site[doc_id].title == title
    a_body = [p.text for p in segment_article(site["a"]) if p.role == "body"]
    assert a_body == [
        "The dockers at Terminal 4 voted on Monday to return to work after five weeks, ending the long stoppage.",
        "The union said the vote was close, with 412 members in favour and 389 against.",
        "Its leaders did not campaign either way.",
        # an imperative sentence is prose, not a call to action
        "Follow the money here, and it leads straight back to the harbour board.",
    ]
    assert (site["a"].byline, site["a"].date, site["b"].byline) == ("Ansel Grieve", "14 May 2024", "Mira Solberg")


def test_repetition_across_the_folder_marks_a_masthead(site):
    assert "the quay ledger" in site["a"].repeated_lines
    alone = Article("a", site["a"].lines)  # the same page read on its own: nothing repeats
    assert [p.text for p in segment_article(alone) if p.role == "title"] == ["THE QUAY LEDGER"]


def test_repeated_byline_detail_stays_byline():
    lines = [
        "Port levy explained",
        "By Ansel Grieve",
        "Labour correspondent",
        "The levy on containers rose again on Monday, the third rise this year, and shippers will pass it on.",
    ]
    assert line_roles(lines, repeated=frozenset({"labour correspondent"})) == ["title", "byline", "byline", "body"]


@pytest.mark.parametrize(
    "line, shape",
    [
        ("Sprache: Deutsch | English | Français", "link"),
        ("English 中文 日本語", "link"),
        ("Tap here to get alerts", "action"),
        ("Log in to comment", "action"),
        ("(Picture: Harbour Board handout)", "credit"),
        ("VIDEO: Cranes idle at the quay", "credit"),
        ("Related articles", "promo"),
        ("Latest news from the harbour", "promo"),
        ("editor@quayledger.example", "link"),
    ],
)
def test_chrome_shapes(line, shape):
    assert chrome_shape(line) == shape


@pytest.mark.parametrize(
    "line",
    [
        "Follow the money: who paid for the harbour survey",  # a headline, not a call to action
        "Why English and French dockers see the strike differently",
        "Read the contract before you blame the union",
        "Sign the deal now, the minister told both sides, or lose the season.",
        "More than 2,000 dockworkers stayed outside the gates on Monday.",
        "The union: the company ignored three written complaints",
        "By Ansel Grieve | Labour correspondent | Quay Ledger",
        "May 14, 2024 | 10:32",
    ],
)
def test_content_is_not_chrome(line):
    assert chrome_shape(line) is None


def test_scoring_reads_a_folder_as_the_build_does(site, tmp_path):
    """stance score streams files one at a time; the repeated chrome of a folder must still be found."""
    from pipeline.score.run import iter_articles

    streamed = {a.doc_id: a for arts, _ in iter_articles([str(tmp_path)]) for a in arts}
    assert streamed.keys() == site.keys()
    for doc_id, a in streamed.items():
        assert a.repeated_lines == site[doc_id].repeated_lines, doc_id
        roles = [(p.role, p.text) for p in segment_article(a)]
        assert roles == [(p.role, p.text) for p in segment_article(site[doc_id])], doc_id
        assert ("title", TITLES[doc_id]) in roles
