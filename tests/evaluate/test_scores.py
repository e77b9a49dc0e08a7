"""Role-label scores of scored passage rows, on a two-side and a three-side dispute worked by hand."""

import pytest

from pipeline.dispute import Dispute, Side
from pipeline.evaluate.scores import (
    example_metrics,
    judgment_label,
    judgment_labels,
    passage_metrics,
    side_label,
    side_labels,
)

TWO = Dispute("two", {s: Side(s, ()) for s in ("A", "B")})
THREE = Dispute("three", {s: Side(s, ()) for s in ("X", "Y", "Z")})
DISPUTES = {"two": TWO, "three": THREE}
SLOT = {"none": [0.8, 0.1, 0.1], "favor": [0.1, 0.8, 0.1], "against": [0.1, 0.1, 0.8]}
CRED = {"none": [0.8, 0.1, 0.1], "credible": [0.1, 0.8, 0.1], "not_credible": [0.1, 0.1, 0.8]}


def row(i, dispute, gold, pred, stance_per_side, gold_cred=None, cred=None, cred_per_side=None):
    """A scored gold body passage: gold and predicted side favored (names), per-side predicted
    stance and credibility labels (the argmax of ``side_probs``), gold and predicted credibility."""
    sides = dispute.side_names
    cred_per_side = cred_per_side or ["none"] * len(sides)
    return {
        "doc_id": f"{dispute.name}-{i}",
        "index": i,
        "dispute": dispute.name,
        "role": "body",
        "has_gold": True,
        "gold_role": None,
        "gold_source": "author",
        "gold_confidence": "high",
        "gold_stance": gold,
        "stance": pred,
        "stance_prob": 0.8,
        "gold_credibility_side": gold_cred[0] if gold_cred else None,
        "gold_credibility_judgment": gold_cred[1] if gold_cred else None,
        "credibility": {"side": cred[0], "judgment": cred[1]} if cred else None,
        "credibility_by": "model" if cred else None,
        "side_probs": {
            "stance": {s: SLOT[lab] for s, lab in zip(sides, stance_per_side)},
            "credibility": {s: CRED[lab] for s, lab in zip(sides, cred_per_side)},
        },
    }


ROWS = [
    row(1, TWO, "A", "A", ["favor", "against"], ("A", "not_credible"), ("A", "not_credible"), ["not_credible", "none"]),
    row(2, TWO, "B", "A", ["favor", "none"]),
    row(3, TWO, "neutral", "neutral", ["none", "none"]),
    row(4, THREE, "Y", "Y", ["none", "favor", "none"], gold_cred=("Z", "credible")),
    row(5, THREE, "Z", "neutral", ["none", "none", "none"]),
    row(6, THREE, "X", "X", ["favor", "against", "none"], None, ("Y", "credible"), ["none", "credible", "none"]),
]
TASKS = ["stance", "credibility"]


def test_role_labels_of_sides_and_judgments():
    assert [side_label(s, ["X", "Y", "Z"]) for s in ("X", "Y", "Z", "neutral", "Q", None)] == [
        "side 1",
        "side 2",
        "side 3",
        "neutral",
        "other",
        None,
    ]
    assert judgment_label({"side": "B", "judgment": "credible"}, ["A", "B"]) == "side 2:credible"
    assert judgment_label(None, ["A", "B"]) == "none"
    assert judgment_labels(2) == [
        "side 1:credible",
        "side 1:not_credible",
        "side 2:credible",
        "side 2:not_credible",
        "none",
    ]
    labels = side_labels(ROWS[1], TWO)
    assert labels["side_favored"] == "side 1" and labels["gold_side_favored"] == "side 2"
    assert labels["per_side"]["stance"] == {"gold": ["against", "favor"], "pred": ["favor", "none"]}
    assert labels["credibility_judged"] == labels["gold_credibility_judged"] == "none"
    assert labels["sides"] == ["A", "B"]


def test_side_favored_over_roles_pools_disputes_into_a_few_labels():
    pm = passage_metrics(ROWS, TASKS, DISPUTES)
    sf = pm["side_favored"]
    assert sf["confusion"] == {
        "labels": ["side 1", "side 2", "side 3", "neutral"],
        "matrix": [[2, 0, 0, 0], [1, 1, 0, 0], [0, 0, 0, 1], [0, 0, 0, 1]],
    }
    assert sf["accuracy"] == pytest.approx(4 / 6)
    # F1: side 1 0.8, side 2 2/3, side 3 0, neutral 2/3
    assert sf["macro_f1"] == pytest.approx((0.8 + 2 / 3 + 0 + 2 / 3) / 4)
    # the same passages over side names: one class per side of each dispute, and neutral
    by_name = pm["by_side_name"]["stance"]
    assert by_name["confusion"]["labels"] == ["A", "B", "X", "Y", "Z", "neutral"]
    assert by_name["accuracy"] == pytest.approx(4 / 6)


def test_credibility_judged_over_roles():
    cj = passage_metrics(ROWS, TASKS, DISPUTES)["credibility_judged"]
    assert cj["confusion"]["labels"] == [
        "side 1:credible",
        "side 1:not_credible",
        "side 2:credible",
        "side 2:not_credible",
        "side 3:credible",
        "side 3:not_credible",
        "none",
    ]
    assert cj["accuracy"] == pytest.approx(4 / 6)
    # present: side 1:not_credible (F1 1), side 2:credible (0, predicted only), side 3:credible (0), none (0.75)
    assert cj["macro_f1"] == pytest.approx((1 + 0 + 0 + 0.75) / 4)


def test_examples_per_passage_and_side_asked_about():
    ex = example_metrics(ROWS, DISPUTES, TASKS)
    st = ex["stance"]
    assert st["n"] == 15 and st["confusion"]["labels"] == ["none", "favor", "against"]
    assert st["confusion"]["matrix"] == [[7, 0, 1], [2, 3, 0], [0, 1, 1]]
    assert st["accuracy"] == pytest.approx(11 / 15)
    assert st["macro_f1"] == pytest.approx((14 / 17 + 2 / 3 + 0.5) / 3)
    cr = ex["credibility"]
    assert cr["confusion"]["matrix"] == [[12, 1, 0], [1, 0, 0], [0, 0, 1]]
    assert cr["accuracy"] == pytest.approx(13 / 15)
    assert cr["macro_f1"] == pytest.approx((12 / 13 + 0 + 1) / 3)


def test_per_dispute_tables_keep_the_side_names():
    by_dispute = passage_metrics(ROWS, TASKS, DISPUTES)["by_dispute"]
    assert list(by_dispute) == ["two", "three"]
    two = by_dispute["two"]
    assert two["sides"] == {"side 1": "A", "side 2": "B"} and two["n"] == 3
    assert two["side_favored"]["confusion"] == {
        "labels": ["A", "B", "neutral"],
        "matrix": [[1, 0, 0], [1, 0, 0], [0, 0, 1]],
    }
    assert two["credibility"]["confusion"]["labels"] == [
        "A:credible",
        "A:not_credible",
        "B:credible",
        "B:not_credible",
        "none",
    ]
    three = by_dispute["three"]
    assert three["sides"] == {"side 1": "X", "side 2": "Y", "side 3": "Z"}
    assert three["side_favored"]["confusion"]["labels"] == ["X", "Y", "Z", "neutral"]
    assert three["side_favored"]["accuracy"] == pytest.approx(2 / 3)


def test_rows_without_gold_are_left_out():
    unlabelled = dict(ROWS[0], has_gold=False)
    pm = passage_metrics([unlabelled, *ROWS[1:]], TASKS, DISPUTES)
    assert pm["n"] == 5 and pm["side_favored"]["n"] == 5
    assert side_labels(unlabelled, TWO)["gold_side_favored"] is None
    assert side_labels(unlabelled, TWO)["per_side"]["stance"]["gold"] is None
