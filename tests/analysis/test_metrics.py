import numpy as np
import pytest

from pipeline.analysis.metrics import (
    calibration,
    classification_metrics,
    fit_temperature,
    macro_f1,
    softmax,
)
from pipeline.analysis.verdicts import article_verdict
from pipeline.dispute import parse_dispute
from pipeline.labels import (
    gold_target_labels,
    mark_mentions,
    passage_credibility,
    passage_stance,
)


def test_classification_metrics_against_hand_computation():
    m = classification_metrics(["a", "a", "b", "b", "c"], ["a", "b", "b", "b", "a"])
    assert m["accuracy"] == pytest.approx(0.6)
    assert m["per_class"]["a"]["precision"] == pytest.approx(0.5) and m["per_class"]["a"]["recall"] == pytest.approx(
        0.5
    )
    assert m["per_class"]["b"]["f1"] == pytest.approx(0.8) and m["per_class"]["c"]["f1"] == 0
    assert m["macro_f1"] == pytest.approx((0.5 + 0.8 + 0) / 3)
    assert m["confusion"]["matrix"] == [[1, 1, 0], [0, 2, 0], [1, 0, 0]]
    assert macro_f1(["a", "a", "b", "b", "c"], ["a", "b", "b", "b", "a"]) == pytest.approx(m["macro_f1"])


def test_calibration_and_temperature():
    cal = calibration(np.array([0.9, 0.9, 0.6, 0.6]), np.array([1, 1, 1, 0]))
    assert cal["ece"] == pytest.approx(0.5 * 0.1 + 0.5 * 0.1)
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, 2000)
    logits = rng.normal(size=(2000, 3))
    logits[np.arange(2000), labels] += 1.0
    t = fit_temperature(logits * 4, labels)  # over-confident logits need T > 1
    assert 3 < t < 5
    assert np.allclose(softmax(logits).sum(1), 1)


def test_passage_side_derivation():
    sides = ["A", "B"]
    sp = passage_stance(sides, {"A": [0.1, 0.8, 0.1], "B": [0.1, 0.1, 0.8]})
    assert max(sp, key=sp.get) == "A" and sum(sp.values()) == pytest.approx(1)
    sp = passage_stance(sides, {"A": [0.9, 0.05, 0.05], "B": [0.9, 0.05, 0.05]})
    assert max(sp, key=sp.get) == "neutral"
    c, p = passage_credibility(sides, {"A": [0.2, 0.1, 0.7], "B": [0.9, 0.05, 0.05]})
    assert c == {"side": "A", "judgment": "not_credible"} and p == 0.7
    assert passage_credibility(sides, {"A": [0.6, 0.3, 0.1], "B": [0.9, 0.05, 0.05]})[0] is None
    assert gold_target_labels("stance", sides, "B", None) == {"A": "against", "B": "favor"}


def test_mentions_are_marked_relative_to_the_side():
    d = parse_dispute(
        {"sides": {"A": {"aliases": ["Aland"], "actors": {"Ann Lee": ["Lee"]}}, "B": {"aliases": ["Bland"]}}}, "d.yaml"
    )
    assert mark_mentions("Lee blamed Bland.", d, "A") == "<< Lee >> blamed [[ Bland ]]."
    assert mark_mentions("Lee blamed Bland.", d, "B") == "[[ Lee ]] blamed << Bland >>."


def _p(index, source, stance, probs, cred=None, cp=0.0):
    return {
        "doc_id": "d",
        "index": index,
        "role": "body",
        "source": source,
        "source_side": "A" if source != "author" else None,
        "stance": stance,
        "stance_probs": probs,
        "credibility": cred,
        "credibility_prob": cp,
        "text": "",
    }


def test_article_verdict_uses_author_voice_only():
    passages = [
        _p(1, "Ann Lee", "A", {"A": 0.9, "B": 0.05, "neutral": 0.05}),
        _p(2, "Ann Lee", "A", {"A": 0.9, "B": 0.05, "neutral": 0.05}),
        _p(3, "Ann Lee", "A", {"A": 0.9, "B": 0.05, "neutral": 0.05}),
        _p(4, "author", "B", {"A": 0.1, "B": 0.8, "neutral": 0.1}, {"side": "A", "judgment": "not_credible"}, 0.8),
        _p(5, "author", "neutral", {"A": 0.2, "B": 0.2, "neutral": 0.6}),
    ]
    v = article_verdict(passages, ["A", "B"])
    assert v["author_favors"] == "B" and v["author_favors_evidence"] == [4]
    assert v["more_credible"] == "B" and v["more_credible_evidence"] == [4]
    assert v["quoted_sources"] == [{"source": "Ann Lee", "side": "A", "count": 3}]
    v = article_verdict(passages[:3] + passages[4:], ["A", "B"])
    assert v["author_favors"] == "neutral" and v["more_credible"] is None


def test_credibility_breaks_a_stance_tie_only_when_the_rule_says_so():
    from pipeline.analysis.verdicts import VerdictRule

    tied = [
        _p(1, "author", "A", {"A": 0.6, "B": 0.3, "neutral": 0.1}),
        _p(2, "author", "B", {"A": 0.3, "B": 0.6, "neutral": 0.1}),
        _p(3, "author", "neutral", {"A": 0.2, "B": 0.2, "neutral": 0.6}, {"side": "B", "judgment": "credible"}, 0.7),
    ]
    v = article_verdict(tied, ["A", "B"])  # the default rule: a tied stance is neutral, whatever credibility says
    assert v["author_favors_weights"] == {"A": 0.6, "B": 0.6}
    assert v["author_favors"] == "neutral" and v["more_credible"] == "B"
    rule = VerdictRule(credibility_breaks_ties=True)
    v = article_verdict(tied, ["A", "B"], rule)
    assert (
        v["more_credible"] == "B"
        and v["author_favors"] == "B"
        and v["author_favors_by"] == "credibility"
        and v["author_favors_evidence"] == [3]
    )
    decided = tied + [_p(4, "author", "A", {"A": 0.9, "B": 0.05, "neutral": 0.05})]
    v = article_verdict(decided, ["A", "B"], rule)
    assert v["author_favors"] == "A" and v["author_favors_by"] == "stance" and v["more_credible"] == "B"
    v = article_verdict(tied[:2], ["A", "B"], rule)
    assert v["author_favors"] == "neutral" and v["author_favors_by"] == "stance" and v["more_credible"] is None


def test_a_few_leaning_passages_in_a_long_neutral_report_do_not_make_a_side():
    neutral = {"A": 0.05, "B": 0.05, "neutral": 0.9}
    report = [_p(i, "author", "neutral", neutral) for i in range(1, 15)]
    report += [_p(15, "author", "A", {"A": 0.9, "B": 0.05, "neutral": 0.05})]
    v = article_verdict(report, ["A", "B"])
    # one leaning passage in fifteen: a share of 0.06, under the default's 0.2 (the total weight, 0.9,
    # passed the earlier absolute threshold of 0.8 and gave the report a side)
    assert v["author_favors"] == "neutral" and v["author_favors_share"]["A"] == 0.06
    op_ed = report[:5] + [_p(i, "author", "A", {"A": 0.9, "B": 0.05, "neutral": 0.05}) for i in range(20, 23)]
    assert article_verdict(op_ed, ["A", "B"])["author_favors"] == "A"


def test_verdict_confidence_is_low_when_the_verdict_hangs_on_one_passage():
    lean = {"A": 0.9, "B": 0.05, "neutral": 0.05}
    neutral = {"A": 0.05, "B": 0.05, "neutral": 0.9}
    clear = [_p(i, "author", "A", lean) for i in range(1, 8)] + [_p(8, "author", "neutral", neutral)]
    one = [_p(1, "author", "A", lean)] + [_p(i, "author", "neutral", neutral) for i in range(2, 5)]
    c, o = article_verdict(clear, ["A", "B"]), article_verdict(one, ["A", "B"])
    assert c["author_favors"] == o["author_favors"] == "A"  # one leaning passage in four: a share of 0.225
    assert c["author_favors_confidence"] > 0.95 > 0.8 > o["author_favors_confidence"]
    assert article_verdict(one, ["A", "B"]) == o  # the resampling is seeded: the same article, the same confidence
    quiet = article_verdict([_p(i, "author", "neutral", neutral) for i in range(1, 6)], ["A", "B"])
    assert quiet["author_favors"] == "neutral" and quiet["author_favors_confidence"] == 1.0


def _article(shares: tuple[int, int, int], gold: str):
    """An article of author passages: (leaning A, leaning B, neutral) counts."""
    from pipeline.analysis.verdicts import LabelledArticle

    a, b, n = shares
    ps = [_p(i, "author", "A", {"A": 0.9, "B": 0.05, "neutral": 0.05}) for i in range(a)]
    ps += [_p(100 + i, "author", "B", {"A": 0.05, "B": 0.9, "neutral": 0.05}) for i in range(b)]
    ps += [_p(200 + i, "author", "neutral", {"A": 0.05, "B": 0.05, "neutral": 0.9}) for i in range(n)]
    return LabelledArticle(ps, ["A", "B"], gold, None)


def test_fit_rule_keeps_a_search_that_holds_up_out_of_sample_and_the_default_otherwise():
    from pipeline.analysis.verdicts import DEFAULT_RULE, fit_rule

    # neutral reports lean a quarter of their passages one way; side-taking articles half: the default
    # (min_share 0.2) calls every report for a side, a higher threshold gets all right
    articles = [_article((3, 0, 9), "neutral") for _ in range(4)] + [_article((3, 0, 9 - k), "neutral") for k in (1, 2)]
    articles += [_article((6, 1, 5), "A"), _article((6, 0, 6), "A"), _article((1, 6, 5), "B"), _article((0, 7, 5), "B")]
    rule, report = fit_rule(articles, "validation")
    assert report["kept"] == "search" and report["default"]["author_favors_accuracy"] == 0.4
    assert report["search_leave_one_out"]["author_favors_accuracy"] >= 0.8
    assert 0.25 < rule.min_share <= 0.45 and rule.fitted_on == "validation"
    # gold answers that no setting can learn: the search cannot beat the default out of sample
    noise = [
        _article((3, 0, 3), "neutral"),
        _article((3, 0, 3), "A"),
        _article((0, 3, 3), "neutral"),
        _article((0, 3, 3), "B"),
    ]
    rule, report = fit_rule(noise, "validation")
    assert report["kept"] == "default" and rule.min_share == DEFAULT_RULE.min_share
    assert fit_rule([], "validation")[0] == DEFAULT_RULE


def test_abstained_passages_do_not_count_toward_verdicts():
    passages = [
        _p(1, "author", "B", {"A": 0.1, "B": 0.8, "neutral": 0.1}),
        _p(2, "author", "B", {"A": 0.1, "B": 0.8, "neutral": 0.1}),
    ]
    assert article_verdict(passages, ["A", "B"])["author_favors"] == "B"
    for p in passages:
        p["abstained"] = True
    assert article_verdict(passages, ["A", "B"])["author_favors"] == "neutral"


def test_risk_coverage_table():
    from pipeline.evaluate.scores import risk_coverage

    rows = [
        {"gold_stance": "A", "stance": "A", "stance_prob": 0.9},
        {"gold_stance": "B", "stance": "A", "stance_prob": 0.45},
    ]
    table = {x["threshold"]: x for x in risk_coverage(rows, thresholds=(0.4, 0.5))}
    assert table[0.4]["coverage"] == 1.0 and table[0.4]["accuracy"] == 0.5
    assert table[0.5]["coverage"] == 0.5 and table[0.5]["accuracy"] == 1.0


def test_the_grid_search_shortcut_gives_article_verdicts_answers():
    from pipeline.analysis.verdicts import STANCE_GRID, VerdictRule

    articles = [_article((3, 0, 9), "neutral"), _article((6, 1, 5), "A"), _article((1, 6, 5), "B")]
    articles[1].passages[0].update(credibility={"side": "A", "judgment": "credible"}, credibility_prob=0.6)
    articles[2].passages[-1].update(credibility={"side": "A", "judgment": "not_credible"}, credibility_by="model+cue")
    for min_share in STANCE_GRID["min_share"]:
        for cue in (False, True):
            rule = VerdictRule(min_share=min_share, min_prob=0.6, cue_is_certain=cue, credibility_breaks_ties=True)
            for a in articles:
                v = article_verdict(a.passages, a.sides, rule)
                assert a.verdict(rule) == (v["author_favors"], v["more_credible"])


def _leaning(index: int, side: str | None, lean: float):
    """An author passage that leans ``lean`` to ``side`` (None: to neither) but whose most likely label
    is neutral, so the thresholds, which count passages given a side, see nothing."""
    probs = {"A": 0.05, "B": 0.05, "neutral": 0.9}
    if side:
        probs = {"A": 0.02, "B": 0.02, side: lean, "neutral": 1 - lean - 0.02}
    return _p(index, "author", "neutral", probs)


def _lean_article(side: str | None, lean: float, n: int = 6):
    from pipeline.analysis.verdicts import LabelledArticle

    return LabelledArticle([_leaning(i, side, lean) for i in range(n)], ["A", "B"], side or "neutral", None)


def test_fit_rule_keeps_the_learned_aggregation_where_it_holds_up_out_of_sample():
    from pipeline.analysis.verdicts import fit_rule

    # side-taking articles lean 0.3 to 0.45 to their side in every passage, without a passage given a side
    articles = [_lean_article(s, lean) for s in ("A", "B") for lean in (0.3, 0.35, 0.4, 0.45)]
    articles += [_lean_article(None, 0.0) for _ in range(4)]
    rule, report = fit_rule(articles, "validation")
    assert report["default"]["author_favors_accuracy"] == round(4 / 12, 4)  # all neutral
    assert report["learned_leave_one_out"]["author_favors_accuracy"] == 1.0
    assert report["kept_author_favors"] == "learned" and rule.favors_model is not None
    for a in articles:
        v = article_verdict(a.passages, a.sides, rule)
        assert v["author_favors"] == a.author_favors == a.verdict(rule)[0]
        assert v["author_favors_by"] == "learned" and sum(v["author_favors_probs"].values()) == pytest.approx(1, 1e-3)
        assert 0 < v["author_favors_confidence"] <= 1
    # the stored rule round-trips, and a rule without learned models reports no probabilities
    from pipeline.analysis.verdicts import VerdictRule

    assert VerdictRule.from_dict(rule.to_dict()) == rule
    assert article_verdict(articles[0].passages, ["A", "B"])["author_favors_probs"] is None


def test_a_learned_verdict_that_hangs_on_one_passage_is_less_sure():
    from pipeline.analysis.choice import ChoiceModel
    from pipeline.analysis.verdicts import VerdictRule

    # favors a side by its share of passages given it, against the mean neutral probability
    model = ChoiceModel((6.0, 0.0, 0.0), (3.0,), -1.0).to_dict()
    rule = VerdictRule(favors_model=model)
    lean, neutral = {"A": 0.9, "B": 0.05, "neutral": 0.05}, {"A": 0.05, "B": 0.05, "neutral": 0.9}
    one = [_p(1, "author", "A", lean), _p(2, "author", "neutral", neutral)]
    many = [_p(i, "author", "A", lean) for i in range(5)] + [_p(9, "author", "neutral", neutral) for _ in range(5)]
    o, m = article_verdict(one, ["A", "B"], rule), article_verdict(many, ["A", "B"], rule)
    assert o["author_favors"] == m["author_favors"] == "A"
    assert o["author_favors_probs"] == m["author_favors_probs"]  # the same shares...
    assert o["author_favors_confidence"] < m["author_favors_confidence"]  # ...but one rests on one passage
