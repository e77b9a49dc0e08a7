import json

from pipeline.text.readers import read_bytes, read_inputs
from pipeline.text.segment import line_roles, segment_article, split_sentences

PAGE = """Language : English Français
Harbour talks stall again
Mar 3, 2024
By Jana Orlik
Senior fellow, Lakeside Institute
The talks at the port broke down on Friday after nine hours, and neither side has set a date to return.
Mr. Wyle said the offer was final. Dr. Benn, a U.S. economist, disagreed.
Share this article
Back to Top
"""


def test_txt_page_roles_and_metadata():
    arts, rejects = read_bytes(PAGE.encode(), "page.txt")
    assert not rejects
    passages = segment_article(arts[0])
    roles = [p.role for p in passages]
    assert roles[:5] == ["boilerplate", "title", "date", "byline", "byline"]
    assert roles[-2:] == ["boilerplate", "boilerplate"]
    body = [p.text for p in passages if p.role == "body"]
    assert body[1:] == ["Mr. Wyle said the offer was final.", "Dr. Benn, a U.S. economist, disagreed."]
    assert arts[0].title == "Harbour talks stall again" and arts[0].date == "Mar 3, 2024" and arts[0].byline == "Jana Orlik"


def test_encodings_and_line_endings():
    text = "Title line\r\nThe minister’s “offer” was rejected by the union on Tuesday, as everyone expected it would be.\rCafé owners agreed with them entirely on this point, for once.\n"
    for raw in (text.encode("utf-8"), b"\xef\xbb\xbf" + text.encode("utf-8"), text.encode("cp1252")):
        arts, rejects = read_bytes(raw, "x.txt")
        assert not rejects
        assert arts[0].lines[1].startswith("The minister’s “offer”"), arts[0].lines
        assert arts[0].lines[2].startswith("Café owners")


def test_bad_files_are_rejected_with_reason(tmp_path):
    (tmp_path / "empty.txt").write_text("")
    (tmp_path / "bin.txt").write_bytes(bytes(range(256)) * 4)
    (tmp_path / "good.jsonl").write_text(json.dumps({"text": "One sentence here. Another one.", "doc_id": "g1", "title": "T"}) + "\n{not json\n" + json.dumps({"title": "no text"}) + "\n")
    arts, rejects = read_inputs([str(tmp_path), str(tmp_path / "missing*.txt")])
    assert [a.doc_id for a in arts] == ["g1"] and arts[0].title == "T"
    reasons = sorted(str(r) for r in rejects)
    assert any("empty.txt: file is empty" in r for r in reasons)
    assert any("bin.txt: looks binary" in r for r in reasons)
    assert any("good.jsonl: line 2: malformed JSON" in r for r in reasons)
    assert any("good.jsonl: line 3: expected an object with a non-empty 'text'" in r for r in reasons)
    assert any("missing*.txt: no such file" in r for r in reasons)


def test_html_extracts_body_and_metadata():
    html = """<html><head><title>Port strike enters week two</title><meta name="author" content="Ilse Marrant">
    <meta property="article:published_time" content="2024-09-09"></head><body>
    <nav><a href="/">Home</a> <a href="/world">World</a></nav>
    <article><h1>Port strike enters week two</h1>
    <p>The strike at the port entered its second week on Monday, with more than two thousand workers outside the gates.</p>
    <p>The union said the company had ignored three written safety complaints about the same machine this spring.</p>
    </article><footer>Back to Top · You might also like</footer></body></html>"""
    arts, rejects = read_bytes(html.encode(), "page.html")
    assert not rejects
    a = arts[0]
    assert a.title == "Port strike enters week two" and a.byline == "Ilse Marrant" and a.date == "2024-09-09"
    assert len(a.lines) == 2 and a.lines[1].startswith("The union said")
    assert all(p.role == "body" for p in segment_article(a))


def test_sentences_keep_abbreviations_and_quotes():
    s = split_sentences("Gen. Rask met Mr. Lind in the U.S. capital. “We are done,” Lind said. He left.")
    assert s == ["Gen. Rask met Mr. Lind in the U.S. capital.", "“We are done,” Lind said.", "He left."]


def test_line_roles_without_header():
    assert line_roles(["A body line that is long enough to count as a real sentence in an article."], has_header=False) == ["body"]
