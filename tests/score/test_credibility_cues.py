"""The explicit-cue fallback for credibility: it fills in only author-voice
passages the model judges none, with the labelling function's judgment, and
article verdicts count such a passage as one sure judgment."""

from conftest import ROOT

from pipeline.analysis.verdicts import VerdictRule, article_verdict
from pipeline.dispute import load_dispute
from pipeline.text.cues import lf_credibility_cue


def test_cue_fallback_only_where_the_model_says_none(tiny_trained):
    from pipeline.score.predictor import Predictor, score_passages
    from pipeline.text.readers import read_inputs
    from pipeline.text.rows import article_rows

    d = load_dispute(ROOT / "configs/disputes/port-strike.yaml")
    arts, _ = read_inputs([str(ROOT / "data/corpus/port-strike")])
    rows = [r for a in arts for r in article_rows(a, d)]
    rows.append(
        {
            **rows[-1],
            "index": 999,
            "role": "body",
            "source": "author",
            "source_side": None,
            "text": "On the record so far, Meridane's account is the more credible one.",
            "context": None,
        }
    )
    pred = Predictor(tiny_trained[0])
    plain = score_passages(pred, rows, d, credibility_cues=False)
    cued = score_passages(pred, rows, d)
    fired = 0
    for r, a, b in zip(rows, plain, cued):
        vote = lf_credibility_cue(r, d) if r["role"] == "body" and r["source"] == "author" else None
        if a["credibility"] is None and vote:
            side, how = vote.split(":")
            assert (
                b["credibility"] == {"side": side, "judgment": how}
                and b["credibility_by"] == "cue"
                and b["credibility_prob"] is None
            )
            fired += 1
        else:
            assert (b["credibility"], b["credibility_prob"]) == (a["credibility"], a["credibility_prob"])
            agrees = vote is not None and a["credibility"] == dict(zip(("side", "judgment"), vote.split(":")))
            assert b["credibility_by"] == (None if a["credibility"] is None else "model+cue" if agrees else "model")
    assert fired >= 1 or plain[-1]["credibility"] is not None


def neutral_author_rows(n: int = 5) -> list[dict]:
    """``n`` scored author-voice passages of one article, neutral on stance and without a credibility judgment."""
    base = {
        "role": "body",
        "source": "author",
        "stance": "neutral",
        "stance_prob": 0.8,
        "stance_probs": {"A": 0.1, "B": 0.1, "neutral": 0.8},
        "credibility": None,
        "credibility_prob": None,
        "credibility_by": None,
        "source_side": None,
    }
    return [dict(base, index=i, doc_id="x") for i in range(n)]


def test_a_cue_judgment_decides_more_credible_with_its_evidence():
    rows = neutral_author_rows()
    rows[3].update(credibility={"side": "B", "judgment": "credible"}, credibility_by="cue")
    v = article_verdict(rows, ["A", "B"])
    assert v["more_credible"] == "B" and v["more_credible_evidence"] == [3]


def test_a_model_judgment_backed_by_a_cue_counts_as_sure_when_the_rule_says_so():
    rows = neutral_author_rows()
    rows[1].update(credibility={"side": "A", "judgment": "credible"}, credibility_prob=0.66, credibility_by="model")
    rows[3].update(credibility={"side": "B", "judgment": "credible"}, credibility_prob=0.63, credibility_by="model")
    assert article_verdict(rows, ["A", "B"])["more_credible"] is None  # 0.63 against 0.66: no side has 1.5x the other
    rows[3]["credibility_by"] = "model+cue"
    assert article_verdict(rows, ["A", "B"])["more_credible"] is None  # the default rule: a cue is no surer
    v = article_verdict(rows, ["A", "B"], VerdictRule(cue_is_certain=True))  # a rule fitted to count it as sure
    assert (
        v["more_credible"] == "B"
        and v["more_credible_weights"] == {"A": 0.66, "B": 1.0}
        and v["more_credible_evidence"][0] == 3
    )
