import json
import shutil

import pytest

from pipeline.errors import DataError, ModelError
from pipeline.evaluate.run import evaluate


def test_model_folder_without_label_map(tiny_trained, tmp_path):
    model, data = tiny_trained
    bad = tmp_path / "model"
    shutil.copytree(model, bad, ignore=shutil.ignore_patterns("checkpoints", "report"))
    (bad / "label_map.json").unlink()
    with pytest.raises(ModelError, match="no label_map.json; this folder was not written by `stance train`"):
        evaluate(bad, data, tmp_path / "r")


def test_data_with_labels_the_model_does_not_know(tiny_trained, tmp_path):
    model, data = tiny_trained
    bad = tmp_path / "data"
    shutil.copytree(data, bad)
    m = json.loads((bad / "manifest.json").read_text())
    m["task_labels"]["credibility"] = ["none", "true", "false"]
    (bad / "manifest.json").write_text(json.dumps(m))
    with pytest.raises(DataError, match="labels for credibility are"):
        evaluate(model, bad, tmp_path / "r")
    with pytest.raises(DataError, match="no 'nosuch' split"):
        evaluate(model, data, tmp_path / "r", split="nosuch")


def test_report_headline_is_over_role_labels(tiny_trained, tmp_path):
    model, data = tiny_trained
    out = evaluate(model, data, tmp_path / "r")
    metrics = json.loads((out / "metrics.json").read_text())
    s = metrics["summary"]
    for key in (
        "side_favored_accuracy",
        "side_favored_macro_f1",
        "stance_examples_accuracy",
        "stance_examples_macro_f1",
        "credibility_examples_accuracy",
        "credibility_examples_macro_f1",
        "credibility_judged_accuracy",
        "credibility_judged_macro_f1",
    ):
        assert isinstance(s[key], float), key
    assert set(s["by_side_name"]) >= {"stance_macro_f1", "credibility_macro_f1"}
    assert "stance_macro_f1" not in s  # the side-name figure moved under by_side_name
    test = metrics["splits"]["test"]
    pm = test["passages"]
    # two two-sided disputes: side 1 / side 2 / neutral, however many side names there are
    assert pm["side_favored"]["confusion"]["labels"] == ["side 1", "side 2", "neutral"]
    assert pm["credibility_judged"]["confusion"]["labels"] == [
        "side 1:credible",
        "side 1:not_credible",
        "side 2:credible",
        "side 2:not_credible",
        "none",
    ]
    assert test["examples"]["stance"]["confusion"]["labels"] == ["none", "favor", "against"]
    assert test["examples"]["stance"]["macro_f1"] == s["stance_examples_macro_f1"]
    names = set(pm["by_side_name"]["stance"]["confusion"]["labels"])
    assert {"UNION", "OPERATOR", "VARNESSIA", "KORDAVIA"} & names
    assert pm["by_dispute"]["port-strike"]["sides"] == {"side 1": "UNION", "side 2": "OPERATOR"}
    assert pm["by_dispute"]["port-strike"]["side_favored"]["confusion"]["labels"] == ["UNION", "OPERATOR", "neutral"]
    for b in test["baselines"].values():
        assert {"side_favored", "credibility_judged", "examples", "by_side_name"} <= set(b)
    preds = [json.loads(line) for line in (out / "predictions.jsonl").read_text().splitlines()]
    p = next(p for p in preds if p["has_gold"])
    assert p["side_favored"] in ("side 1", "side 2", "neutral") and p["gold_side_favored"] is not None
    assert len(p["per_side"]["stance"]["pred"]) == len(p["sides"]) == 2
    page = (out / "report.html").read_text()
    assert "alt='side favored confusion matrix'" in page and "By dispute, with side names" in page


def test_article_verdicts_carry_confidences_and_the_rule_they_follow(tiny_trained, tmp_path):
    import shutil

    from pipeline.score.aggregate import fit_verdict_rule

    model, data = tiny_trained
    copy = tmp_path / "model"
    shutil.copytree(model, copy)
    fit_verdict_rule(copy, data)
    rule = json.loads((copy / "calibration.json").read_text())["verdict_rule"]
    out = evaluate(copy, data, tmp_path / "r")
    arts = json.loads((out / "metrics.json").read_text())["splits"]["test"]["articles"]
    assert arts["verdict_rule"] == rule  # the model's fitted rule, not the default
    n_neutral, n_side = arts["neutral_reports"]["n"], arts["side_taking"]["n"]
    assert n_neutral + n_side == arts["n_with_gold"] > 0
    verdicts = json.loads((out / "verdicts.json").read_text())["test"]
    assert all(0 <= v["author_favors_confidence"] <= 1 and 0 <= v["more_credible_confidence"] <= 1 for v in verdicts)
    assert {v["verdict_rule"] for v in verdicts} == {"validation"}
    right = [v["author_favors"] == v["gold_author_favors"] for v in verdicts if v["gold_author_favors"] == "neutral"]
    assert arts["neutral_reports"]["judged_neutral"] == (sum(right) / len(right) if right else None)
    assert "confidence" in (out / "report.html").read_text()
