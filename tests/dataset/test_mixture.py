"""The commentary input for public benchmarks, and the mixture of them with the corpus."""

from __future__ import annotations

import json

import pytest
import yaml
from conftest import ROOT, SHARED, need_shared, write_generic, write_mixture_config

from pipeline.config import load_config
from pipeline.dataset.mixture import (
    ROLE_MAPS,
    cross_source_leaks,
    mix,
    role_map,
    sample_units,
    to_commentary,
)
from pipeline.errors import ConfigError, DataError
from pipeline.labels import TASK_LABELS, joint_pair, mark_target, target_input


def ex(split, doc, label, text="a passage", target="the target", index=0, task="stance"):
    return {
        "split": split,
        "doc_id": doc,
        "index": index,
        "target": target,
        "text": text,
        "text_pair": "",
        "label": label,
        "task": task,
        "id": f"{doc}:{index}",
    }


def test_target_input_has_the_commentary_shape():
    text, pair = target_input("stance", "Voters cheered Hillary Clinton; Clinton smiled.", "Hillary Clinton")
    assert text == "[author] Voters cheered << Hillary Clinton >>; << Clinton >> smiled."
    assert pair == "stance toward the side marked << >> | side: Hillary Clinton"
    # the joint model's question, as for commentary
    assert joint_pair(pair, "stance").startswith("stance and credibility toward the side marked << >>")
    # a topic is marked where it occurs whole, case aside; text marked already stays as it is
    assert mark_target("Atheism is rising; atheism wins", "Atheism") == "<< Atheism >> is rising; << atheism >> wins"
    assert mark_target("<< Akin >> backed off", "Akin") == "<< Akin >> backed off"


def test_every_role_map_lands_on_the_commentary_labels():
    for name, rm in ROLE_MAPS.items():
        assert set(rm.labels.values()) <= set(TASK_LABELS[rm.task]), name
    out = to_commentary([ex("train", "d", "positive", "Smith won", "Jane Smith")], ROLE_MAPS["persent"])
    assert out[0]["label"] == "favor" and out[0]["native_label"] == "positive" and out[0]["task"] == "stance"
    assert "<< Smith >>" in out[0]["text"]
    out = to_commentary([ex("train", "d", "observing", "Rumour: x", "x is true")], ROLE_MAPS["emergent"])
    assert (out[0]["task"], out[0]["label"]) == ("credibility", "none")
    with pytest.raises(DataError, match="liar has no commentary mapping"):
        role_map("liar")
    with pytest.raises(DataError, match="shape: native"):
        role_map("generic", "stance", ["pro", "con"])
    assert role_map("generic", "credibility", ["credible", "none"]).labels == {"credible": "credible", "none": "none"}


def test_sample_units_samples_or_repeats_whole_units_seeded():
    # two tasks' examples of one (passage, side) are one unit: drawn together
    exs = [ex("train", f"d{i}", "none", index=0, task=t) for i in range(10) for t in ("stance", "credibility")]
    few = sample_units(exs, 4, seed=1, key="k")
    assert len(few) == 8 and len({e["doc_id"] for e in few}) == 4
    assert few == sample_units(exs, 4, seed=1, key="k") and few != sample_units(exs, 4, seed=2, key="k")
    many = sample_units(exs, 25, seed=1, key="k")
    assert len(many) == 50 and len({(e["doc_id"], e["task"]) for e in many}) == 50  # repeats get their own doc id
    assert sum(e["doc_id"].endswith("#r2") for e in many) == 10  # 25 = 10 + 10 + 5 units


def test_cross_source_leaks_drop_train_that_is_another_sources_test():
    headline = "Apple will sell a gold watch for ten thousand dollars"
    by_source = {
        "emergent": [ex("test", "e1", "credible", f"[author] {headline}", "claim")],
        "fnc1": [
            ex("train", "f1", "none", "[author] some body text", headline),  # its target is emergent's test text
            ex("train", "f2", "none", "[author] other body text", "another headline entirely here"),
        ],
        "semeval2016": [ex("train", "s1", "favor", "x", "Atheism"), ex("test", "s2", "favor", "y", "Atheism")],
    }
    dropped = cross_source_leaks(by_source)
    assert dropped == {"emergent": 0, "fnc1": 1, "semeval2016": 0}  # short targets (topics) are not leaks
    assert [e["doc_id"] for e in by_source["fnc1"]] == ["f2"]


def test_mix_shares_train_units_by_weight_and_caps_evaluation():
    corpus = [ex("train", f"c{i}", "favor") for i in range(30)] + [ex("validation", "cv", "none")]
    bench = {
        "a": [ex("train", f"a{i}", "none") for i in range(100)]
        + [ex("validation", f"av{i}", "none") for i in range(50)]
        + [ex("test", f"at{i}", "favor") for i in range(40)],
    }
    out, report = mix(corpus, bench, {"corpus": 1.0, "a": 3.0}, 80, 10, {"a": 25}, seed=13)
    src = report["sources"]
    assert src["corpus"]["train_drawn"] == 20 and src["a"]["train_drawn"] == 60
    assert src["a"]["validation"] == 10 and src["a"]["test"] == 25 and src["corpus"]["validation"] == 1
    assert {e["source"] for e in out} == {"corpus", "a"}
    with pytest.raises(DataError, match="every weight is 0"):
        mix(corpus, bench, {"corpus": 0, "a": 0}, 80, 10, {}, seed=13)


def test_mixture_build_train_without_a_source_and_evaluate_per_source(tmp_path, corpus_config, tiny_model):
    from datasets import load_from_disk

    from pipeline.cli import main

    config = write_mixture_config(tmp_path, corpus_config, tiny_model)
    assert main(["-q", "build", str(config)]) == 0
    manifest = json.loads((tmp_path / "data" / "manifest.json").read_text())
    assert set(manifest["mixture"]) == {"corpus", "generic"}
    assert manifest["mixture"]["generic"]["labels"] == ["against", "favor", "none"]
    train = load_from_disk(str(tmp_path / "data" / "examples"))["train"]
    assert {e["source"] for e in train} == {"corpus", "generic"}
    report = json.loads((tmp_path / "data" / "data_report.json").read_text())
    assert report["mixture"]["sources"]["generic"]["train_drawn"] == 150  # weights 1:1 of 300 units
    assert "## Mixture (300 train units" in (tmp_path / "data" / "data_report.md").read_text()

    # leave the benchmark out of training, then test on it: the report says it was not trained on
    assert main(["-q", "train", str(config), "--train.exclude_sources", "[generic]"]) == 0
    assert json.loads((tmp_path / "model" / "provenance.json").read_text())["exclude_sources"] == ["generic"]
    assert main(["-q", "evaluate", str(config)]) == 0
    metrics = json.loads((tmp_path / "model" / "report" / "metrics.json").read_text())
    generic = metrics["sources"]["test"]["generic"]
    assert generic["n"] == 40 and generic["trained_on"] is False and 0 <= generic["macro_f1"] <= 1
    page = (tmp_path / "model" / "report" / "report.html").read_text()
    assert "Per source" in page and "generic" in page
    rows = [json.loads(line) for line in (tmp_path / "model" / "report" / "sources.jsonl").read_text().splitlines()]
    assert len(rows) == 40 and {r["source"] for r in rows} == {"generic"}

    # a second version trained on every source, compared on the same data: per-source deltas with intervals
    b = tmp_path / "model_b"
    assert main(["-q", "train", str(config), "--train.output_dir", str(b), "--train.seed", "7"]) == 0
    assert main(["-q", "evaluate", str(config), "--train.output_dir", str(b)]) == 0
    b_generic = json.loads((b / "report" / "metrics.json").read_text())["sources"]["test"]["generic"]
    assert b_generic["trained_on"] is True
    assert (
        main(
            ["-q", "compare", str(tmp_path / "model" / "report"), str(b / "report"), "--output", str(tmp_path / "cmp")]
        )
        == 0
    )
    cmp = json.loads((tmp_path / "cmp" / "comparison.json").read_text())
    d = cmp["sources"]["generic"]["macro_f1"]
    assert cmp["sources"]["generic"]["n"] == 40
    assert d["a"] == pytest.approx(generic["macro_f1"]) and d["b"] == pytest.approx(b_generic["macro_f1"])
    assert d["ci95"][0] <= d["delta"] <= d["ci95"][1]
    assert "Per source" in (tmp_path / "cmp" / "comparison.html").read_text()

    # an unknown source to leave out is one line naming the sources there are
    with pytest.raises(ConfigError, match="'semeval2016' is not a source of this dataset's mixture"):
        from pipeline.train.run import check_exclusions

        check_exclusions(manifest, ["semeval2016"], str(config))


def test_mixture_config_mistakes_are_named(tmp_path, corpus_config, tiny_model):
    ok = write_mixture_config(tmp_path, corpus_config, tiny_model)
    load_config(ok)
    for overrides, match in (
        ({"build.sources": []}, "joins public benchmarks to build.sources"),
        ({"build.mixture.benchmarks": [{"name": "corpus"}]}, "set corpus_weight instead"),
        ({"build.mixture.benchmarks": [{"name": "pstance"}, {"name": "pstance"}]}, "listed twice"),
        ({"build.mixture.train_size": 0}, "train_size positive"),
    ):
        with pytest.raises(ConfigError, match=match):
            load_config(ok, overrides)


def test_a_commentary_model_evaluates_on_a_users_csv(tmp_path, tiny_trained):
    """One input shape: the default-style model reads a user's CSV as it reads commentary."""
    from pipeline.cli import main

    model, _ = tiny_trained
    write_generic(tmp_path / "csv")
    files = {s: str(tmp_path / "csv" / f"{s}.csv") for s in ("train", "validation", "test")}
    cfg = {"build": {"output": str(tmp_path / "data"), "benchmark": {"name": "generic", "files": files}}}
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(cfg))
    assert main(["-q", "build", str(tmp_path / "c.yaml")]) == 0
    out = tmp_path / "report"
    assert main(["-q", "evaluate", "--model", str(model), "--data", str(tmp_path / "data"), "--output", str(out)]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["splits"]["test"]["task"]["n"] == 40 and metrics["task"] == "stance"


def test_shipped_mixture_config_maps_every_benchmark():
    need_shared(SHARED / "data")
    cfg = load_config(ROOT / "configs/mixture.yaml")
    names = [b.name for b in cfg.build.mixture.benchmarks]
    assert set(names) <= set(ROLE_MAPS) and "liar" not in names
