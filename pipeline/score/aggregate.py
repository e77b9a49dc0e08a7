"""The article-verdict rule of a trained model, fitted on its validation articles.

``stance train`` calls :func:`fit_verdict_rule` once the model folder is
written: the model scores the validation split's passages, and
:func:`pipeline.analysis.verdicts.fit_rule` chooses how they add up to each
article's verdict (thresholds or a learned aggregation, and how sure it is)
against the gold article answers. The
rule goes into the model folder's ``calibration.json`` (``verdict_rule``, with
the fit's report as ``verdict_fit``), where scoring and evaluation read it.
Never fitted on a test split or the seed.
"""

from __future__ import annotations

import logging
from pathlib import Path

from pipeline.analysis.verdicts import LabelledArticle, fit_rule
from pipeline.contracts import dispute_paths, read_article_answers, read_manifest, update_calibration
from pipeline.dispute import load_dispute

log = logging.getLogger(__name__)


def validation_articles(predictor, data_dir: str | Path, split: str = "validation") -> list[LabelledArticle]:
    """The split's articles with gold answers, scored by ``predictor``, dispute by dispute."""
    from datasets import load_from_disk

    from pipeline.score.predictor import score_passages

    manifest = read_manifest(data_dir)
    answers = read_article_answers(data_dir)
    passages = load_from_disk(str(Path(data_dir) / "passages"))
    if split not in passages:
        return []
    rows = passages[split].to_list()
    out = []
    for name, path in dispute_paths(data_dir, manifest).items():
        drows = [r for r in rows if r["dispute"] == name and (answers.get(r["doc_id"]) or {}).get("author_favors")]
        if not drows:
            continue
        dispute = load_dispute(path)
        by_doc: dict[str, list[dict]] = {}
        for r in score_passages(predictor, drows, dispute):
            by_doc.setdefault(r["doc_id"], []).append(r)
        for doc_id, doc in sorted(by_doc.items()):
            gold = answers[doc_id]
            out.append(LabelledArticle(doc, list(dispute.side_names), gold["author_favors"], gold.get("more_credible")))
    return out


def fit_verdict_rule(model_dir: str | Path, data_dir: str | Path) -> dict:
    """Fit the model's verdict rule on the validation articles of ``data_dir`` and store it in the model
    folder; returns the fit's report."""
    from pipeline.score.predictor import Predictor

    predictor = Predictor(model_dir, backend="torch")
    articles = validation_articles(predictor, data_dir)
    log.info("fitting the article-verdict rule on %d validation articles", len(articles))
    rule, report = fit_rule(articles, "validation")
    update_calibration(model_dir, verdict_rule=rule.to_dict(), verdict_fit=report)
    acc = lambda key, answer: report.get(key, {}).get(f"{answer}_accuracy", float("nan"))  # noqa: E731
    for answer in ("author_favors", "more_credible"):
        log.info(
            "verdict rule, %s: %s; validation accuracy %.3f by the default rule, leave-one-out %.3f by the"
            " threshold search and %.3f by the learned aggregation",
            answer,
            report.get(f"kept_{answer}", report["kept"]),
            acc("default", answer),
            acc("search_leave_one_out", answer),
            acc("learned_leave_one_out", answer),
        )
    return report
