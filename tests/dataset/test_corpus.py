"""The embedded corpus keeps its promises: size, variety, and labels that agree
with the guidelines and the dispute configs."""

import json
from collections import Counter

from conftest import ROOT

from pipeline.dataset.gold import load_gold
from pipeline.dispute import load_dispute

DISPUTES = [
    "trade-tariffs",
    "port-strike",
    "river-border",
    "rideshare-rules",
    "reservoir-summit",
    "vaccine-contract",
    "airspace-incident",
    "stadium-lease",
]


def test_corpus_size_and_variety():
    rows, docs = [], {}
    for name in DISPUTES:
        d = load_dispute(ROOT / f"configs/disputes/{name}.yaml")
        ids = {p.stem for p in (ROOT / "data/corpus" / name).glob("*.txt")}
        gold, answers = load_gold(str(ROOT / "data/labels"), d, ids)  # validates every label against the dispute
        assert set(gold) == ids, f"{name}: every article has gold labels"
        for doc in gold.values():
            rows += list(doc.values())
        docs.update(answers)
    body = [r for r in rows if r["role"] == "body"]
    assert len(docs) >= 24 and len(body) >= 400
    forms = Counter(r["form"] for r in body if r["source"] != "author")
    assert all(forms[f] >= 10 for f in ("direct", "indirect", "account", "continuation")), forms
    assert {r["role"] for r in rows} == {"body", "title", "byline", "date", "boilerplate"}
    favored = Counter(d["author_favors"] for d in docs.values())
    assert favored["neutral"] >= 4 and len(favored) >= 9  # both sides of every dispute, and neutral authors
    cues = " ".join(r["cue"] or "" for r in body)
    assert ":" in cues and "—" in cues and "according to" in cues


def test_article_answers_agree_with_passage_labels():
    for path in sorted((ROOT / "data/labels").glob("*.doc.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        rows = [
            json.loads(l)
            for l in (path.parent / f"{doc['doc_id']}.gold.jsonl").read_text(encoding="utf-8").splitlines()
        ]
        by_index = {r["index"]: r for r in rows}
        for i in doc["evidence"]:
            assert by_index[i]["source"] == "author", f"{path.name}: evidence {i} is author voice"
        quoted = {r["source"] for r in rows if r["source"] != "author"}
        assert set(doc["quoted_sources"]) <= quoted, f"{path.name}: quoted sources appear as passage sources"
