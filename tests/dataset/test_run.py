import json

import pytest
import yaml
from conftest import ROOT

from pipeline.config import load_config
from pipeline.dataset.gold import load_gold
from pipeline.dataset.run import build, make_examples, split_articles
from pipeline.dispute import load_dispute
from pipeline.errors import DataError


def write_config(tmp_path, cfg, **build):
    cfg = json.loads(json.dumps(cfg))
    cfg["build"]["output"] = str(tmp_path / "data")
    cfg["build"].update(build)
    p = tmp_path / "config.yaml"
    p.write_text(yaml.safe_dump(cfg))
    return p


def test_build_writes_article_grouped_splits_and_report(tmp_path, corpus_config):
    from datasets import load_from_disk

    p = write_config(tmp_path, corpus_config)
    out = build(load_config(p), str(p))
    passages = load_from_disk(str(out / "passages"))
    examples = load_from_disk(str(out / "examples"))
    docs = {s: set(passages[s]["doc_id"]) for s in passages}
    assert set(docs) == {"train", "validation", "test"}
    assert not (docs["train"] & docs["test"]) and not (docs["train"] & docs["validation"]) and not (docs["validation"] & docs["test"])
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["splits"]["train"] == len(examples["train"]) > 0
    # one example per labelled body passage x task x side
    body = [r for r in passages["train"] if r["role"] == "body" and r["has_gold"]]
    assert len(examples["train"]) == len(body) * 2 * 2
    report = json.loads((out / "data_report.json").read_text())
    assert report["attribution_vs_gold"]["source_accuracy"] > 0.75
    md = (out / "data_report.md").read_text()
    assert "Splits (grouped by article)" in md and "Near-duplicate" in md
    assert (out / "disputes" / "port-strike.yaml").is_file()


def test_build_is_deterministic(tmp_path, corpus_config):
    p = write_config(tmp_path, corpus_config)
    h1 = json.loads((build(load_config(p), str(p)) / "manifest.json").read_text())["data_hash"]
    h2 = json.loads((build(load_config(p), str(p)) / "manifest.json").read_text())["data_hash"]
    assert h1 == h2


def test_split_keeps_articles_whole_and_is_stable():
    docs = {"a": [f"a{i}" for i in range(10)], "b": [f"b{i}" for i in range(3)]}
    s1 = split_articles(docs, 0.2, 0.2, seed=1)
    assert s1 == split_articles(docs, 0.2, 0.2, seed=1)
    assert sum(v == "test" for k, v in s1.items() if k.startswith("a")) == 2
    assert {s1[d] for d in docs["b"]} == {"train", "validation", "test"}


def test_examples_map_stance_to_both_sides():
    rows = [{"role": "body", "has_gold": True, "gold_role": "body", "dispute": "port-strike", "doc_id": "d", "index": 1, "text": "The union is right.", "context": None,
             "source": "author", "source_side": None, "cue": None, "gold_stance": "UNION", "gold_credibility_side": "UNION", "gold_credibility_judgment": "credible", "gold_confidence": "high", "split": "train"}]
    d = load_dispute(ROOT / "configs/disputes/port-strike.yaml")
    ex = {(e["task"], e["target"]): e["label"] for e in make_examples(rows, {"port-strike": d}, ["stance", "credibility"], True, True)}
    assert ex == {("stance", "UNION"): "favor", ("stance", "OPERATOR"): "against", ("credibility", "UNION"): "credible", ("credibility", "OPERATOR"): "none"}


def test_unknown_gold_label_names_file_and_line(tmp_path):
    d = load_dispute(ROOT / "configs/disputes/port-strike.yaml")
    f = tmp_path / "x.gold.jsonl"
    f.write_text(json.dumps({"doc_id": "x", "index": 1, "text": "t", "stance": "neutral"}) + "\n" + json.dumps({"doc_id": "x", "index": 2, "text": "t", "stance": "BOSSES"}) + "\n")
    with pytest.raises(DataError, match=r"x.gold.jsonl: line 2: stance 'BOSSES' is not a side of dispute port-strike \(UNION, OPERATOR\)"):
        load_gold(str(f), d)


def test_gold_csv_missing_column(tmp_path):
    d = load_dispute(ROOT / "configs/disputes/port-strike.yaml")
    f = tmp_path / "x.gold.csv"
    f.write_text("doc_id,index,text\nx,1,hello\n")
    with pytest.raises(DataError, match="x.gold.csv: CSV is missing column 'stance'"):
        load_gold(str(f), d)


def test_build_without_labels_fails_clearly(tmp_path, corpus_config):
    cfg = json.loads(json.dumps(corpus_config))
    for s in cfg["build"]["sources"]:
        s["labels"] = None
    p = write_config(tmp_path, cfg)
    with pytest.raises(DataError, match="no labelled training passages"):
        build(load_config(p), str(p))


def test_optional_source_is_skipped_when_absent(tmp_path, corpus_config):
    cfg = json.loads(json.dumps(corpus_config))
    cfg["build"]["sources"].append({"inputs": [str(tmp_path / "nowhere/*.txt")], "dispute": str(ROOT / "configs/disputes/us-dprk-hanoi-2019.yaml"), "split": "seed", "optional": True})
    p = write_config(tmp_path, cfg)
    out = build(load_config(p), str(p))
    assert "seed" not in json.loads((out / "manifest.json").read_text())["splits"]


def test_near_duplicates_are_found_across_splits_only():
    from pipeline.dataset.dedup import near_duplicates

    base = {"role": "body", "index": 1}
    text = "The union said the harbour offer was an insult to every docker on the quay"
    rows = [dict(base, doc_id="a", split="train", text=text), dict(base, doc_id="b", split="test", text=text + " today"),
            dict(base, doc_id="c", split="train", text=text + " again"), dict(base, doc_id="d", split="test", text="Meridane said nothing about pay or the quota at all")]
    found = near_duplicates(rows)
    assert {(x["a"], x["b"]) for x in found} == {("a:1", "b:1"), ("b:1", "c:1")}
    assert all(x["a_split"] != x["b_split"] and x["jaccard"] >= 0.8 for x in found)
