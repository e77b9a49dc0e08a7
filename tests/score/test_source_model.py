"""The source-side classifier: its labels, how it combines with the rules, and
a tiny model trained, evaluated and applied where the rules abstain."""

import json

import pytest
import yaml
from conftest import ROOT

from pipeline.labels import gold_target_labels, model_input, passage_source_side
from pipeline.score.source_model import combine_source


def test_gold_source_side_is_relative_to_the_side_asked_about():
    sides = ["UNION", "OPERATOR"]
    assert gold_target_labels("source_side", sides, None, None, "author", None) == {
        "UNION": "author",
        "OPERATOR": "author",
    }
    assert gold_target_labels("source_side", sides, None, None, "Dana Holt", "UNION") == {
        "UNION": "this_side",
        "OPERATOR": "other_side",
    }
    assert gold_target_labels("source_side", sides, None, None, "harbour analysts", "other") == {
        "UNION": "third_party",
        "OPERATOR": "third_party",
    }


def test_source_side_input_hides_the_rule_source():
    from pipeline.dispute import load_dispute

    d = load_dispute(ROOT / "configs/disputes/port-strike.yaml")
    text, pair = model_input(
        "source_side",
        d,
        d.side_names[0],
        "The offer was fair, she said.",
        "Dana Holt",
        d.side_names[0],
        None,
        with_source=True,
    )
    assert not text.startswith("[") and pair.startswith("source_side toward")
    text, _ = model_input(
        "stance",
        d,
        d.side_names[0],
        "The offer was fair, she said.",
        "Dana Holt",
        d.side_names[0],
        None,
        with_source=True,
    )
    assert text.startswith("[this side]")


def test_passage_source_side_reads_the_per_side_probabilities():
    probs = {"A": [0.1, 0.8, 0.05, 0.05], "B": [0.1, 0.05, 0.8, 0.05]}
    side, p = passage_source_side(["A", "B"], probs)
    assert side == "A" and 0.5 < p <= 1
    side, _ = passage_source_side(["A", "B"], {"A": [0.9, 0.05, 0.03, 0.02], "B": [0.85, 0.05, 0.05, 0.05]})
    assert side == "author"


def test_rules_first_classifier_only_where_they_abstain():
    assert combine_source({"source": "Dana Holt", "source_side": "UNION"}, "OPERATOR", 0.99, 0.5) == (
        "Dana Holt",
        "UNION",
    )
    assert combine_source({"source": "author"}, "OPERATOR", 0.9, 0.5) == ("OPERATOR (inferred)", "OPERATOR")
    assert combine_source({"source": "author"}, "OPERATOR", 0.4, 0.5) == ("author", None)
    assert combine_source({"source": "author"}, "other", 0.9, 0.5) == ("third party (inferred)", "other")


def test_config_keeps_source_side_a_run_of_its_own(tmp_path):
    from pipeline.config import ConfigError, load_config

    p = tmp_path / "c.yaml"
    p.write_text(yaml.safe_dump({"build": {"tasks": ["stance", "source_side"]}}))
    with pytest.raises(ConfigError, match="train source_side as its own run"):
        load_config(p)


def test_tiny_source_model_trains_evaluates_and_reattributes(tmp_path, corpus_config, tiny_model, tiny_trained):
    from pipeline.config import Config, from_dict
    from pipeline.dataset.run import build
    from pipeline.dispute import load_dispute
    from pipeline.evaluate.run import evaluate
    from pipeline.score.source_model import SourceSideClassifier
    from pipeline.text.readers import read_inputs
    from pipeline.text.rows import article_rows
    from pipeline.train.run import train

    raw = json.loads(json.dumps(corpus_config))
    raw["build"].update(output=str(tmp_path / "data"), tasks=["source_side"], with_source=False)
    raw["train"].update(model=str(tiny_model), output_dir=str(tmp_path / "model"), epochs=1)
    cfg = from_dict(Config, raw)
    build(cfg)
    labels = json.loads((tmp_path / "data/manifest.json").read_text())["task_labels"]
    assert labels == {"source_side": ["author", "this_side", "other_side", "third_party"]}
    train(cfg)
    assert json.loads((tmp_path / "model/label_map.json").read_text())["num_slots"] == 4
    report = evaluate(tmp_path / "model", tmp_path / "data", tmp_path / "report")
    pm = json.loads((report / "metrics.json").read_text())["splits"]["test"]["passages"]
    assert {
        "source_side",
        "source_side_rules",
        "source_side_rules_then_model",
        "source_side_where_rules_abstain",
    } <= set(pm)
    assert pm["source_side_rules"]["accuracy"] > 0.7  # the rules alone, on the same passages

    dispute = load_dispute(ROOT / "configs/disputes/port-strike.yaml")
    (article, *_), _ = read_inputs([str(ROOT / "data/corpus/port-strike/port-strike_01.txt")])
    rules = article_rows(article, dispute)
    clf = SourceSideClassifier(tmp_path / "model", threshold=0.3)
    eager = article_rows(article, dispute, clf)
    # the oracle: the same model's per-side probabilities, combined by hand
    from pipeline.score.predictor import passage_inputs

    abstained = [r for r in rules if r["role"] == "body" and r["source"] == "author"]
    inputs = passage_inputs(abstained, dispute, ["source_side"], clf.predictor.input_cfg)
    probs = clf.predictor.probs([x[3] for x in inputs], [x[4] for x in inputs])
    expected = {}
    for (j, _t, side, _a, _b), p in zip(inputs, probs):
        expected.setdefault(abstained[j]["index"], {})[side] = list(p)
    for a, b in zip(rules, eager):
        if a["role"] != "body" or a["source"] != "author":
            assert (a["source"], a["source_side"], a["source_by"]) == (
                b["source"],
                b["source_side"],
                b["source_by"],
            )  # rules kept
            continue
        side, p = passage_source_side(dispute.side_names, expected[a["index"]])
        assert b["source_prob"] == pytest.approx(p)
        if side != "author" and p >= 0.3:
            assert (
                b["source_by"] == "classifier"
                and b["source"] == ("third party (inferred)" if side == "other" else f"{side} (inferred)")
                and b["form"] == "account"
            )
        else:
            assert (b["source"], b["source_by"]) == ("author", "rules")
    # stance score --source-model: the scored rows carry the same re-attribution
    from pipeline.config import ScoreConfig
    from pipeline.score.run import score

    out = tmp_path / "scored"
    cfg = ScoreConfig(
        model=str(tiny_trained[0]),
        dispute=str(ROOT / "configs/disputes/port-strike.yaml"),
        output=str(out),
        progress=False,
        source_model=str(tmp_path / "model"),
        source_threshold=0.3,
    )
    score(cfg, [str(ROOT / "data/corpus/port-strike/port-strike_01.txt")])
    scored = [json.loads(line) for line in (out / "passages.jsonl").read_text().splitlines()]
    assert [(r["source"], r["source_by"]) for r in scored] == [(r["source"], r["source_by"]) for r in eager]

    from pipeline.errors import ModelError

    with pytest.raises(ModelError, match="not a source-side model"):
        SourceSideClassifier(tiny_trained[0])
