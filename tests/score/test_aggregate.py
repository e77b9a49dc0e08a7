import json
import shutil

from pipeline.analysis.verdicts import VerdictRule
from pipeline.contracts import read_article_answers
from pipeline.score.aggregate import fit_verdict_rule, validation_articles
from pipeline.score.predictor import Predictor


def test_the_verdict_rule_is_fitted_on_validation_articles_and_travels_with_the_model(tiny_trained, tmp_path):
    model, data = tiny_trained
    copy = tmp_path / "model"
    shutil.copytree(model, copy)
    report = fit_verdict_rule(copy, data)

    answers = read_article_answers(data)
    arts = validation_articles(Predictor(copy), data)
    assert arts and all(a.author_favors == answers[a.passages[0]["doc_id"]]["author_favors"] for a in arts)
    assert all(p["split"] == "validation" for a in arts for p in a.passages)
    assert report["articles"] == len(arts) and report["kept"] in ("search", "default")

    stored = json.loads((copy / "calibration.json").read_text())
    assert stored["verdict_rule"]["fitted_on"] == "validation" and stored["verdict_fit"] == report
    assert stored["temperature"] == json.loads((model / "calibration.json").read_text())["temperature"]
    assert Predictor(copy).verdict_rule == VerdictRule.from_dict(stored["verdict_rule"])
    assert Predictor(copy, calibrated=False).verdict_rule == VerdictRule()
