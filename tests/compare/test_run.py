import json

import pytest

from pipeline.compare.run import compare, mcnemar, paired_bootstrap
from pipeline.errors import ReportError, WorseError
from pipeline.labels import gold_target_labels

ROLE = {"A": "side 1", "B": "side 2", "neutral": "neutral"}


def per_side(stance):
    return [gold_target_labels("stance", ["A", "B"], stance, None)[s] for s in ("A", "B")]


def fake_report(path, preds, data_hash="h1", fmt=1, roles=True):
    """A report folder over a two-side dispute (A, B); ``roles=False``: predictions as written
    before role labels (side names only)."""
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
    if roles:
        for r in rows:
            r.update(
                sides=["A", "B"],
                gold_side_favored=ROLE[r["gold_stance"]],
                side_favored=ROLE[r["stance"]],
                gold_credibility_judged="none",
                credibility_judged="none",
                per_side={
                    "stance": {"gold": per_side(r["gold_stance"]), "pred": per_side(r["stance"])},
                    "credibility": {"gold": ["none", "none"], "pred": ["none", "none"]},
                },
            )
    (path / "predictions.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return path


GOLD = ["A", "B", "neutral"] * 40


def test_significantly_worse_model_fails_the_gate(tmp_path):
    a = fake_report(tmp_path / "a", [(g, g) for g in GOLD])
    b = fake_report(tmp_path / "b", [(g, "A") for g in GOLD])
    with pytest.raises(WorseError, match="B is significantly worse on side_favored_macro_f1"):
        compare(str(a), str(b), str(tmp_path / "out"), fail_if_worse="side_favored_macro_f1")
    result = json.loads((tmp_path / "out" / "comparison.json").read_text())
    assert result["gate"]["significantly_worse"] and len(result["flipped"]) == 80
    mc = result["mcnemar"]["side_favored"]
    assert mc["a_right_b_wrong"] == 80 and mc["p_value"] < 1e-6
    assert "Flipped passages (80)" in (tmp_path / "out" / "comparison.html").read_text()


def test_compares_role_labels_with_side_names_beside(tmp_path):
    a = fake_report(tmp_path / "a", [(g, g) for g in GOLD])
    b = fake_report(tmp_path / "b", [(g, "A") for g in GOLD])
    result, _ = compare(str(a), str(b), str(tmp_path / "out"))
    assert set(result["metrics"]) == {
        f"{m}_{k}"
        for m in ("side_favored", "stance_examples", "credibility_examples", "credibility_judged")
        for k in ("accuracy", "macro_f1")
    }
    sf = result["metrics"]["side_favored_accuracy"]
    assert sf["a"] == 1.0 and sf["b"] == pytest.approx(1 / 3)
    # per (passage, side): B always favors A, so A's examples are favor and B's against
    ex = result["metrics"]["stance_examples_accuracy"]
    assert ex["b"] == pytest.approx((40 * 2 + 0 + 0) / 240)
    assert set(result["per_class"]["side_favored"]) == {"side 1", "side 2", "neutral"}
    assert set(result["per_side"]) == {"side 1", "side 2", "neutral"}
    assert result["per_side"]["side 2"]["b_accuracy"] == 0.0
    by_name = result["by_side_name"]
    assert set(by_name["metrics"]) == {f"{t}_{k}" for t in ("stance", "credibility") for k in ("accuracy", "macro_f1")}
    assert by_name["metrics"]["stance_accuracy"]["b"] == pytest.approx(1 / 3)
    with pytest.raises(WorseError, match="stance_macro_f1"):
        compare(str(a), str(b), str(tmp_path / "out2"), fail_if_worse="stance_macro_f1")
    with pytest.raises(ReportError, match="unknown metric; use one of side_favored_accuracy"):
        compare(str(a), str(b), str(tmp_path / "out3"), fail_if_worse="nosuch")


def test_reports_from_before_role_labels_compare_over_side_names(tmp_path):
    a = fake_report(tmp_path / "a", [(g, g) for g in GOLD], roles=False)
    b = fake_report(tmp_path / "b", [(g, "A") for g in GOLD])
    result, _ = compare(str(a), str(b), str(tmp_path / "out"))
    assert result["metrics"] == {} and result["by_side_name"]["metrics"]["stance_macro_f1"]["delta"] < 0
    assert set(result["per_side"]) == {"A", "B", "neutral"}
    with pytest.raises(ReportError, match=f"{a}: predictions.jsonl has no 'gold_side_favored'"):
        compare(str(a), str(b), str(tmp_path / "out"), fail_if_worse="side_favored_macro_f1")
    with pytest.raises(WorseError, match="stance_accuracy"):
        compare(str(a), str(b), str(tmp_path / "out"), fail_if_worse="stance_accuracy")


def test_equal_models_pass_the_gate(tmp_path):
    a = fake_report(tmp_path / "a", [(g, g) for g in GOLD])
    b = fake_report(tmp_path / "b", [(g, g) for g in GOLD])
    result, _ = compare(str(a), str(b), str(tmp_path / "out"), fail_if_worse="side_favored_accuracy")
    assert result["metrics"]["side_favored_accuracy"]["delta"] == 0 and not result["gate"]["significantly_worse"]


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


def test_changed_article_verdicts_are_listed_with_both_confidences(tmp_path):
    a = fake_report(tmp_path / "a", [(g, g) for g in GOLD])
    b = fake_report(tmp_path / "b", [(g, g) for g in GOLD])

    def verdicts(folder, favors, conf):
        rows = [
            {"doc_id": "d0", "author_favors": "A", "author_favors_confidence": 0.9, "more_credible": None,
             "more_credible_confidence": 0.8, "gold_author_favors": "A", "gold_more_credible": None},
            {"doc_id": "d1", "author_favors": favors, "author_favors_confidence": conf, "more_credible": None,
             "more_credible_confidence": 0.7, "gold_author_favors": "neutral", "gold_more_credible": None},
        ]  # fmt: skip
        (folder / "verdicts.json").write_text(json.dumps({"test": rows}))

    verdicts(a, "B", 0.55)
    verdicts(b, "neutral", 0.85)
    compare(str(a), str(b), str(tmp_path / "out"))
    result = json.loads((tmp_path / "out" / "comparison.json").read_text())
    assert result["articles"] == [
        {
            "doc_id": "d1",
            "gold_author_favors": "neutral",
            "a_author_favors": "B",
            "a_author_favors_confidence": 0.55,
            "b_author_favors": "neutral",
            "b_author_favors_confidence": 0.85,
            "gold_more_credible": None,
            "a_more_credible": None,
            "a_more_credible_confidence": 0.7,
            "b_more_credible": None,
            "b_more_credible_confidence": 0.7,
        }
    ]
    page = (tmp_path / "out" / "comparison.html").read_text()
    assert "Changed article verdicts (1)" in page and "neutral (0.85)" in page and "B (0.55)" in page
