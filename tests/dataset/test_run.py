import json

import pytest
import yaml
from conftest import ROOT

from pipeline.config import load_config
from pipeline.dataset.gold import load_gold
from pipeline.dataset.run import build, make_examples, split_articles, stratified_split
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
    assert (
        not (docs["train"] & docs["test"])
        and not (docs["train"] & docs["validation"])
        and not (docs["validation"] & docs["test"])
    )
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


def test_stratified_split_holds_out_each_stratum_in_proportion_across_disputes():
    # 8 disputes, each with 3-4 neutral reports and 6-7 side-taking articles
    docs, stratum = {}, {}
    for g in range(8):
        docs[f"d{g}"] = [f"d{g}-n{i}" for i in range(3 + g % 2)] + [f"d{g}-s{i}" for i in range(6 + g % 2)]
        stratum.update({d: "neutral" if "-n" in d else "side" for d in docs[f"d{g}"]})
    split = stratified_split(docs, stratum, 0.15, 0.15, seed=13)
    assert split == stratified_split(docs, stratum, 0.15, 0.15, seed=13)
    n_neutral = sum(v == "neutral" for v in stratum.values())  # 28
    for held in ("test", "validation"):
        neutral = [d for d, s in split.items() if s == held and stratum[d] == "neutral"]
        side = [d for d, s in split.items() if s == held and stratum[d] == "side"]
        assert len(neutral) == round(0.15 * n_neutral) == 4
        assert len(side) == round(0.15 * (len(split) - n_neutral)) == 8
        assert len({d.split("-")[0] for d in side}) == 8  # one side-taking article from every dispute
        assert len({d.split("-")[0] for d in neutral}) == 4


def test_examples_map_stance_to_both_sides():
    rows = [
        {
            "role": "body",
            "has_gold": True,
            "gold_role": "body",
            "dispute": "port-strike",
            "doc_id": "d",
            "index": 1,
            "text": "The union is right.",
            "context": None,
            "source": "author",
            "source_side": None,
            "cue": None,
            "gold_stance": "UNION",
            "gold_credibility_side": "UNION",
            "gold_credibility_judgment": "credible",
            "gold_confidence": "high",
            "split": "train",
        }
    ]
    d = load_dispute(ROOT / "configs/disputes/port-strike.yaml")
    ex = {
        (e["task"], e["target"]): e["label"]
        for e in make_examples(rows, {"port-strike": d}, ["stance", "credibility"], True, True)
    }
    assert ex == {
        ("stance", "UNION"): "favor",
        ("stance", "OPERATOR"): "against",
        ("credibility", "UNION"): "credible",
        ("credibility", "OPERATOR"): "none",
    }


def test_unknown_gold_label_names_file_and_line(tmp_path):
    d = load_dispute(ROOT / "configs/disputes/port-strike.yaml")
    f = tmp_path / "x.gold.jsonl"
    f.write_text(
        json.dumps({"doc_id": "x", "index": 1, "text": "t", "stance": "neutral"})
        + "\n"
        + json.dumps({"doc_id": "x", "index": 2, "text": "t", "stance": "BOSSES"})
        + "\n"
    )
    with pytest.raises(
        DataError,
        match=r"x.gold.jsonl: line 2: stance 'BOSSES' is not a side of dispute port-strike \(UNION, OPERATOR\)",
    ):
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
    cfg["build"]["sources"].append(
        {
            "inputs": [str(tmp_path / "nowhere/*.txt")],
            "dispute": str(ROOT / "configs/disputes/us-dprk-hanoi-2019.yaml"),
            "split": "seed",
            "optional": True,
        }
    )
    p = write_config(tmp_path, cfg)
    out = build(load_config(p), str(p))
    assert "seed" not in json.loads((out / "manifest.json").read_text())["splits"]


def test_near_duplicates_are_found_across_splits_only():
    from pipeline.dataset.dedup import near_duplicates

    base = {"role": "body", "index": 1}
    text = "The union said the harbour offer was an insult to every docker on the quay"
    rows = [
        dict(base, doc_id="a", split="train", text=text),
        dict(base, doc_id="b", split="test", text=text + " today"),
        dict(base, doc_id="c", split="train", text=text + " again"),
        dict(base, doc_id="d", split="test", text="Meridane said nothing about pay or the quota at all"),
    ]
    found = near_duplicates(rows)
    assert {(x["a"], x["b"]) for x in found} == {("a:1", "b:1"), ("b:1", "c:1")}
    assert all(x["a_split"] != x["b_split"] and x["jaccard"] >= 0.8 for x in found)


def one_article_with_edited_gold(tmp_path, edits: int):
    """port-strike_01 (24 gold rows) in a folder of its own, with the text of ``edits`` body gold rows changed."""
    import shutil

    (tmp_path / "in").mkdir()
    (tmp_path / "labels").mkdir()
    shutil.copy(ROOT / "data/corpus/port-strike/port-strike_01.txt", tmp_path / "in")
    shipped = ROOT / "data/labels/port-strike_01.gold.jsonl"
    rows = [json.loads(line) for line in shipped.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 24
    body = [i for i, r in enumerate(rows) if r["role"] == "body"]
    edited = body[2 : 2 + edits]
    for i in edited:
        rows[i]["text"] = rows[i]["text"].replace(" ", "  ", 1).rstrip(".") + " (edited)."
    gold = tmp_path / "labels" / "port-strike_01.gold.jsonl"
    gold.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    source = {
        "inputs": [str(tmp_path / "in")],
        "dispute": str(ROOT / "configs/disputes/port-strike.yaml"),
        "labels": str(tmp_path / "labels"),
    }
    cfg = {"build": {"output": "", "sources": [source]}}
    return cfg, gold, [(i + 1, rows[i]) for i in edited]


def test_gold_rows_matching_no_passage_fail_the_build_naming_file_line_and_text(tmp_path):
    cfg, gold, edited = one_article_with_edited_gold(tmp_path, 5)
    p = write_config(tmp_path, cfg)
    line, row = edited[0]
    with pytest.raises(DataError) as e:
        build(load_config(p), str(p))
    msg = str(e.value)
    assert msg.startswith(
        f"{p}: 5 gold rows match no passage (build.max_unmatched_gold is 0): {gold}: line {line}: {row['text'][:80]!r}"
    )
    assert msg.endswith("; fix each row's text to the article's, or raise build.max_unmatched_gold")


def test_unmatched_gold_rows_are_warned_and_counted_in_both_reports(tmp_path, caplog):
    cfg, gold, edited = one_article_with_edited_gold(tmp_path, 5)
    p = write_config(tmp_path, cfg, max_unmatched_gold=5)
    with caplog.at_level("WARNING", logger="pipeline.dataset.run"):
        out = build(load_config(p), str(p))
    for line, row in edited:
        assert f"{gold}: line {line}: gold row (doc port-strike_01, index {row['index']}) matches no" in caplog.text
        assert repr(row["text"]) in caplog.text
    report = json.loads((out / "data_report.json").read_text())
    gm = report["gold_matching"]
    assert (gm["gold_rows"], gm["gold_matched"], gm["gold_unmatched"]) == (24, 19, 5)
    listed = [(u["where"], u["index"], u["text"]) for u in gm["unmatched"]]
    assert listed == [(f"{gold}: line {line}", row["index"], row["text"]) for line, row in edited]
    md = (out / "data_report.md").read_text()
    assert "24 gold rows, 19 matched to passages, 5 matching no passage." in md
    for line, row in edited:
        assert f"- {gold}: line {line}: doc port-strike_01 index {row['index']}: “{row['text']}”" in md


def test_shipped_corpus_gold_all_matches(tmp_path, corpus_config):
    p = write_config(tmp_path, corpus_config)
    gm = json.loads((build(load_config(p), str(p)) / "data_report.json").read_text())["gold_matching"]
    assert gm["gold_unmatched"] == 0 and gm["unmatched"] == [] and gm["gold_rows"] == gm["gold_matched"] > 0


def test_max_unmatched_gold_must_not_be_negative(tmp_path, corpus_config):
    from pipeline.errors import ConfigError

    p = write_config(tmp_path, corpus_config, max_unmatched_gold=-1)
    with pytest.raises(ConfigError, match=r"build.max_unmatched_gold: must be 0 or more, found -1"):
        load_config(p)


def test_input_folder_rejects_and_bodiless_articles_are_in_the_report(tmp_path, corpus_config):
    import shutil

    folder = tmp_path / "in"
    shutil.copytree(ROOT / "data/corpus/port-strike", folder)
    (folder / "draft.docx").write_bytes(b"PK\x03\x04")
    (folder / "stub.txt").write_text("Pay talks resume\nMay 3, 2024\nBy Ansel Grieve\n", encoding="utf-8")
    cfg = json.loads(json.dumps(corpus_config))
    cfg["build"]["sources"] = [dict(cfg["build"]["sources"][0], inputs=[str(folder)])]
    p = write_config(tmp_path, cfg)
    out = build(load_config(p), str(p))
    report = json.loads((out / "data_report.json").read_text())
    assert report["articles_without_body"] == [str(folder / "stub.txt")]
    assert any(s.startswith(f"{folder / 'draft.docx'}: .docx files are not read") for s in report["skipped"])
    md = (out / "data_report.md").read_text()
    assert f"## Articles without body passages\n\n- {folder / 'stub.txt'}\n" in md
    assert "draft.docx: .docx files are not read" in md
