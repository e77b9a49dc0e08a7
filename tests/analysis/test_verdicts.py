"""article_verdict's decision rule: thresholds, evidence and what it skips
(author-voice selection, the credibility fallback and abstention on stance are in test_metrics.py)."""

import pytest

from pipeline.analysis.verdicts import VerdictRule, article_verdict

SIDES = ["UNION", "OPERATOR"]


def passage(index, stance, prob, source="author", role="body", **extra):
    """A scored author-voice body passage whose ``stance`` has probability ``prob`` (the rest neutral)."""
    probs = {"UNION": 0.0, "OPERATOR": 0.0, "neutral": 0.0}
    probs[stance] = prob
    probs["neutral"] += 1 - prob
    side = None if source == "author" else extra.pop("source_side", "UNION")
    return {
        "doc_id": "ps-1",
        "index": index,
        "role": role,
        "source": source,
        "source_side": side,
        "stance": stance,
        "stance_probs": probs,
        "credibility": None,
        "credibility_prob": None,
        **extra,
    }


def judged(index, side, judgment, prob, by="model", **extra):
    """An author passage that judges ``side``'s account (neutral on stance)."""
    return passage(
        index,
        "neutral",
        0.9,
        credibility={"side": side, "judgment": judgment},
        credibility_prob=prob,
        credibility_by=by,
        **extra,
    )


@pytest.mark.parametrize(
    ("weights", "ratio", "expected"),
    [
        ((0.9, 0.7), 1.5, "neutral"),  # 0.9 < 1.5 x 0.7
        ((0.9, 0.7), 1.2, "UNION"),  # 0.9 >= 1.2 x 0.7
        ((0.9, 0.6), 1.5, "UNION"),  # the ratio itself is enough
        ((0.7, 0.9), 1.2, "OPERATOR"),
    ],
)
def test_the_top_side_needs_ratio_times_the_runner_up(weights, ratio, expected):
    two = [passage(1, "UNION", weights[0]), passage(2, "OPERATOR", weights[1])]
    v = article_verdict(two, SIDES, VerdictRule(ratio=ratio))
    assert v["author_favors"] == expected
    assert v["author_favors_weights"] == {"UNION": weights[0], "OPERATOR": weights[1]}


@pytest.mark.parametrize(
    ("prob", "min_share", "expected"),
    [
        (0.7, 0.8, "neutral"),  # one lukewarm passage is not enough
        (0.8, 0.8, "UNION"),  # exactly the minimum is enough
        (0.7, 0.5, "UNION"),
    ],
)
def test_the_top_side_needs_min_share(prob, min_share, expected):
    v = article_verdict([passage(1, "UNION", prob)], SIDES, VerdictRule(min_share=min_share))
    assert v["author_favors"] == expected
    assert v["author_favors_evidence"] == ([1] if expected == "UNION" else [])


def test_the_share_is_the_weight_per_author_passage():
    lean, flat = passage(1, "UNION", 0.5), [passage(i, "neutral", 0.9) for i in (2, 3)]
    v = article_verdict([lean, *flat], SIDES)
    assert v["author_favors"] == "neutral" and v["author_favors_share"]["UNION"] == round(0.5 / 3, 4)  # under 0.2
    v = article_verdict([lean, *flat, passage(4, "UNION", 0.5)], SIDES)
    assert v["author_favors"] == "UNION" and v["author_favors_weights"] == {"UNION": 1.0, "OPERATOR": 0.0}
    assert v["author_favors_share"] == {"UNION": 0.25, "OPERATOR": 0.0}


@pytest.mark.parametrize("min_prob", [0.0, 0.6])
def test_passages_under_min_prob_count_for_no_side(min_prob):
    passages = [passage(1, "UNION", 0.9), passage(2, "OPERATOR", 0.55), passage(3, "OPERATOR", 0.55)]
    v = article_verdict(passages, SIDES, VerdictRule(min_prob=min_prob))
    assert v["author_favors"] == ("UNION" if min_prob else "neutral")  # 0.9 against 1.1, or against nothing


def test_evidence_is_the_surest_passages_capped_at_max_evidence():
    probs = {1: 0.6, 2: 0.95, 3: 0.7, 4: 0.9, 5: 0.8}
    passages = [passage(i, "UNION", p) for i, p in probs.items()] + [passage(6, "OPERATOR", 0.99)]
    v = article_verdict(passages, SIDES)
    assert v["author_favors"] == "UNION" and v["author_favors_evidence"] == [2, 4, 5]
    assert article_verdict(passages, SIDES, max_evidence=1)["author_favors_evidence"] == [2]
    assert article_verdict(passages, SIDES, max_evidence=10)["author_favors_evidence"] == [2, 4, 5, 3, 1]


def test_more_credible_evidence_is_capped_too():
    passages = [judged(i, "UNION", "credible", p) for i, p in ((1, 0.6), (2, 0.9), (3, 0.7))]
    v = article_verdict(passages, SIDES, max_evidence=2)
    assert v["more_credible"] == "UNION" and v["more_credible_evidence"] == [2, 3]


def test_credibility_needs_its_own_share_of_author_passages():
    flat = lambda n: [passage(i, "neutral", 0.9) for i in range(2, n + 1)]  # noqa: E731
    # one judgment at 0.5 among 8 author passages is a share of 0.0625, above the default 0.05; among 11, below
    assert article_verdict([judged(1, "OPERATOR", "credible", 0.5), *flat(8)], SIDES)["more_credible"] == "OPERATOR"
    assert article_verdict([judged(1, "OPERATOR", "credible", 0.5), *flat(11)], SIDES)["more_credible"] is None


def test_not_credible_of_one_side_supports_the_other():
    v = article_verdict([judged(1, "OPERATOR", "not_credible", 0.6)], SIDES)
    assert v["more_credible"] == "UNION" and v["more_credible_weights"] == {"UNION": 0.6, "OPERATOR": 0.0}


@pytest.mark.parametrize("by", ["cue", "model+cue"])
def test_an_explicit_cue_counts_as_one_sure_passage_when_the_rule_says_so(by):
    p = judged(1, "UNION", "credible", None if by == "cue" else 0.3, by=by)
    v = article_verdict([p], SIDES, VerdictRule(cue_is_certain=True))
    assert v["more_credible"] == "UNION" and v["more_credible_weights"] == {"UNION": 1.0, "OPERATOR": 0.0}
    # otherwise a model judgment counts at its probability; a cue alone has none and counts as one
    v = article_verdict([p], SIDES)
    assert v["more_credible_weights"]["UNION"] == (1.0 if by == "cue" else 0.3)


def test_abstained_passages_do_not_count_toward_credibility():
    v = article_verdict([judged(1, "UNION", "credible", 0.9, abstained=True)], SIDES)
    assert v["more_credible"] is None and v["more_credible_weights"] == {"UNION": 0.0, "OPERATOR": 0.0}
    assert v["author_passages"] == 0 and v["body_passages"] == 1


def test_rows_that_are_not_scored_body_passages_are_skipped():
    passages = [
        passage(1, "UNION", 0.99, role="title", title="Brakes and a strike", byline="Ilse Marrant", date="Sep 9"),
        dict(passage(2, "UNION", 0.99), stance_probs=None),  # a body row the model did not score
        passage(3, "OPERATOR", 0.9),
    ]
    v = article_verdict(passages, SIDES)
    assert v["author_favors"] == "OPERATOR" and v["author_favors_evidence"] == [3]
    assert (v["body_passages"], v["author_passages"]) == (1, 1)
    # the header comes from the first row, whatever its role
    assert (v["doc_id"], v["title"], v["byline"], v["date"]) == ("ps-1", "Brakes and a strike", "Ilse Marrant", "Sep 9")


def test_quoted_sources_are_counted_most_quoted_first():
    passages = [
        passage(1, "UNION", 0.9, source="Priya Hallan"),
        passage(2, "OPERATOR", 0.9, source="Annika Sorel", source_side="OPERATOR"),
        passage(3, "UNION", 0.9, source="Priya Hallan"),
        passage(4, "neutral", 0.9, source="Yusuf Benn", source_side=None),
        passage(5, "UNION", 0.9, source="Priya Hallan", role="title"),  # not body: not counted
    ]
    v = article_verdict(passages, SIDES)
    assert v["quoted_sources"] == [
        {"source": "Priya Hallan", "side": "UNION", "count": 2},
        {"source": "Annika Sorel", "side": "OPERATOR", "count": 1},
        {"source": "Yusuf Benn", "side": "other", "count": 1},
    ]
    assert v["author_favors"] == "neutral" and v["author_passages"] == 0  # quoted sides are reporting, not siding


def test_an_article_without_passages_has_no_verdict():
    v = article_verdict([], SIDES)
    assert (v["doc_id"], v["author_favors"], v["author_favors_by"]) == (None, "neutral", "stance")
    assert v["more_credible"] is None
    assert v["author_favors_evidence"] == [] and v["quoted_sources"] == [] and v["body_passages"] == 0
