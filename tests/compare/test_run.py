import json

import pytest

from pipeline.compare.run import compare, mcnemar, paired_bootstrap
from pipeline.errors import ReportError, WorseError


def fake_report(path, preds, data_hash="h1", fmt=1):
    path.mkdir(parents=True)
    (path / "metrics.json").write_text(
        json.dumps({"format_version": fmt, "primary_split": "test", "data": {"data_hash": data_hash}})
    )
    rows = [
        {
            "id": f"d{i // 5}:{i}",
            "doc_id": f"d{i // 5}",
            "split": "test",
            "has_gold": True,
            "text": f"passage {i}",
            "gold_stance": g,
            "stance": p,
            "gold_credibility": "none",
            "credibility": "none",
        }
        for i, (g, p) in enumerate(preds)
    ]
    (path / "predictions.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return path


GOLD = ["A", "B", "neutral"] * 40


def test_significantly_worse_model_fails_the_gate(tmp_path):
    a = fake_report(tmp_path / "a", [(g, g) for g in GOLD])
    b = fake_report(tmp_path / "b", [(g, "A") for g in GOLD])
    with pytest.raises(WorseError, match="B is significantly worse on stance_macro_f1"):
        compare(str(a), str(b), str(tmp_path / "out"), fail_if_worse="stance_macro_f1")
    result = json.loads((tmp_path / "out" / "comparison.json").read_text())
    assert result["gate"]["significantly_worse"] and len(result["flipped"]) == 80
    assert result["mcnemar"]["stance"]["a_right_b_wrong"] == 80 and result["mcnemar"]["stance"]["p_value"] < 1e-6
    assert "Flipped passages (80)" in (tmp_path / "out" / "comparison.html").read_text()


def test_equal_models_pass_the_gate(tmp_path):
    a = fake_report(tmp_path / "a", [(g, g) for g in GOLD])
    b = fake_report(tmp_path / "b", [(g, g) for g in GOLD])
    result, _ = compare(str(a), str(b), str(tmp_path / "out"), fail_if_worse="stance_accuracy")
    assert result["metrics"]["stance_accuracy"]["delta"] == 0 and not result["gate"]["significantly_worse"]


def test_refuses_reports_on_different_data_or_old_format(tmp_path):
    a = fake_report(tmp_path / "a", [(g, g) for g in GOLD])
    b = fake_report(tmp_path / "b", [(g, g) for g in GOLD], data_hash="other")
    with pytest.raises(ReportError, match="evaluated on different data"):
        compare(str(a), str(b), str(tmp_path / "out"))
    c = fake_report(tmp_path / "c", [(g, g) for g in GOLD], fmt=0)
    with pytest.raises(ReportError, match="report format 0 is not 1"):
        compare(str(a), str(c), str(tmp_path / "out"))
    with pytest.raises(ReportError, match="no metrics.json"):
        compare(str(a), str(tmp_path / "nothing"), str(tmp_path / "out"))


def test_bootstrap_interval_and_mcnemar():
    y = ["A"] * 50 + ["B"] * 50
    a = y[:]
    b = ["A"] * 50 + ["A"] * 10 + ["B"] * 40
    r = paired_bootstrap(y, a, b, "accuracy", n=500)
    assert r["delta"] == pytest.approx(-0.1) and r["ci95"][0] < -0.1 < r["ci95"][1] < 0
    assert mcnemar([True] * 10, [True] * 10)["p_value"] == 1.0
