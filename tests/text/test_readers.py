import hashlib
import json
from pathlib import Path

from pipeline.text.readers import expand_inputs, read_bytes, read_inputs
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
    assert (
        arts[0].title == "Harbour talks stall again"
        and arts[0].date == "Mar 3, 2024"
        and arts[0].byline == "Jana Orlik"
    )


def test_encodings_and_line_endings():
    text = (
        "Title line\r\n"
        "The minister’s “offer” was rejected by the union on Tuesday, as everyone expected it would be.\r"
        "Café owners agreed with them entirely on this point, for once.\n"
    )
    for raw in (text.encode("utf-8"), b"\xef\xbb\xbf" + text.encode("utf-8"), text.encode("cp1252")):
        arts, rejects = read_bytes(raw, "x.txt")
        assert not rejects
        assert arts[0].lines[1].startswith("The minister’s “offer”"), arts[0].lines
        assert arts[0].lines[2].startswith("Café owners")


def test_bad_files_are_rejected_with_reason(tmp_path):
    (tmp_path / "empty.txt").write_text("")
    (tmp_path / "bin.txt").write_bytes(bytes(range(256)) * 4)
    (tmp_path / "good.jsonl").write_text(
        json.dumps({"text": "One sentence here. Another one.", "doc_id": "g1", "title": "T"})
        + "\n{not json\n"
        + json.dumps({"title": "no text"})
        + "\n"
    )
    arts, rejects = read_inputs([str(tmp_path), str(tmp_path / "missing*.txt")])
    assert [a.doc_id for a in arts] == ["g1"] and arts[0].title == "T"
    reasons = sorted(str(r) for r in rejects)
    assert any("empty.txt: file is empty" in r for r in reasons)
    assert any("bin.txt: looks binary" in r for r in reasons)
    assert any("good.jsonl: line 2: malformed JSON" in r for r in reasons)
    assert any("good.jsonl: line 3: expected an object with a non-empty 'text'" in r for r in reasons)
    assert any("missing*.txt: no such file" in r for r in reasons)


def test_html_extracts_body_and_metadata():
    html = (
        """<html><head><title>Port strike enters week two</title><meta name="author" content="Ilse Marrant">
    <meta property="article:published_time" content="2024-09-09"></head><body>
    <nav><a href="/">Home</a> <a href="/world">World</a></nav>
    <article><h1>Port strike enters week two</h1>
    <p>The strike at the port entered its second week on Monday, """
        """with more than two thousand workers outside the gates.</p>
    <p>The union said the company had ignored three written safety complaints about the same machine this spring.</p>
    </article><footer>Back to Top · You might also like</footer></body></html>"""
    )
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
    assert line_roles(
        ["A body line that is long enough to count as a real sentence in an article."], has_header=False
    ) == ["body"]


HTML_IN_TXT = """<head><title>Crane drivers return to Terminal 4</title>
<meta name="author" content="Ansel Grieve"></head>
<body><nav><a href="/">Home</a> <a href="/port">Port</a></nav>
<article><h1>Crane drivers return to Terminal 4</h1>
<p>The crane drivers at Terminal 4 went back to work on Tuesday morning,
a day after the union's members voted to end the stoppage.</p>
<p>The operator said the first ships would be worked by the evening shift,
and that no driver would lose pay for the five weeks.</p>
</article></body>"""


def test_txt_file_holding_html_is_read_as_html(tmp_path, caplog):
    f = tmp_path / "saved-page.txt"
    f.write_text(HTML_IN_TXT, encoding="utf-8")
    with caplog.at_level("INFO", logger="pipeline.text.readers"):
        arts, rejects = read_inputs([str(f)])
    assert not rejects
    a = arts[0]
    assert a.title == "Crane drivers return to Terminal 4" and a.byline == "Ansel Grieve"
    body = [p.text for p in segment_article(a) if p.role == "body"]
    assert len(body) == 2 and body[0].startswith("The crane drivers at Terminal 4")
    assert not any("<" in line for line in a.lines)
    assert f"{f} holds HTML; reading it as an HTML page" in caplog.text


def test_plain_text_about_markup_stays_text():
    text = (
        "A note on tags\nThe page used <b> for bold and a < b in one formula, "
        "which is plain text with angle brackets and nothing more.\n"
    )
    arts, _ = read_bytes(text.encode(), "note.txt")
    assert arts[0].lines == [line for line in text.splitlines() if line]


def test_files_no_reader_takes_are_rejects_with_the_fix(tmp_path):
    (tmp_path / "good.txt").write_text("Title\nA body line long enough to count as a real sentence in an article.\n")
    (tmp_path / "draft.docx").write_bytes(b"PK\x03\x04 not really a docx")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "scan.PDF").write_bytes(b"%PDF-1.7 binary")
    (tmp_path / "notes").write_text("no extension")
    (tmp_path / ".DS_Store").write_bytes(b"\x00\x01")  # hidden files are not inputs
    arts, rejects = read_inputs([str(tmp_path)])
    assert [a.doc_id for a in arts] == ["good"]
    reasons = {Path(r.path).name: r.reason for r in rejects}
    assert set(reasons) == {"draft.docx", "scan.PDF", "notes"}
    assert reasons["draft.docx"] == (
        ".docx files are not read (only .htm, .html, .json, .jsonl, .md, .text, .txt); "
        "export it to .txt or .html and add that file"
    )
    assert reasons["scan.PDF"].startswith(".pdf files are not read")
    assert "export it to .txt or .html" in reasons["scan.PDF"]
    assert reasons["notes"].startswith("no extension is not one read")
    assert "rename it to .txt if it is plain text" in reasons["notes"]
    # named on the command line, a document to export is a reject too
    files, rejects = expand_inputs([str(tmp_path / "draft.docx"), str(tmp_path / "good.txt")])
    assert files == [tmp_path / "good.txt"] and [Path(r.path).name for r in rejects] == ["draft.docx"]


def test_encoding_is_recorded_per_file(tmp_path, caplog):
    text = "Café talks\nThe minister’s “offer” was rejected by the union on Tuesday, as everyone expected.\n"
    (tmp_path / "a.txt").write_bytes(text.encode("cp1252"))
    (tmp_path / "b.txt").write_bytes(text.encode("utf-8"))
    with caplog.at_level("DEBUG", logger="pipeline.text.readers"):
        arts, _ = read_inputs([str(tmp_path)])
    assert {a.doc_id: a.encoding for a in arts} == {"a": "cp1252", "b": "utf-8"}
    assert f"{tmp_path / 'a.txt'}: decoded as cp1252" in caplog.text
    assert f"{tmp_path / 'b.txt'}: decoded as utf-8" in caplog.text


def test_file_hash_is_the_sha256_of_the_file(tmp_path):
    txt = "Title\r\nA body line that is long enough to count as a real sentence in an article.\r\n".encode("cp1252")
    jsonl = "".join(
        json.dumps(x) + "\n"
        for x in (
            {"text": "One sentence here. Another one.", "doc_id": "j1"},
            {"text": "A second article.", "doc_id": "j2"},
        )
    ).encode()
    (tmp_path / "t.txt").write_bytes(txt)
    (tmp_path / "j.jsonl").write_bytes(jsonl)
    arts, _ = read_inputs([str(tmp_path)])
    hashes = {a.doc_id: a.file_hash for a in arts}
    t, j = hashlib.sha256(txt).hexdigest(), hashlib.sha256(jsonl).hexdigest()
    of_file = {"t": t, "j1": j, "j2": j}
    assert hashes == of_file  # the bytes, not the decoded text (CRLF, cp1252) nor one JSONL line
