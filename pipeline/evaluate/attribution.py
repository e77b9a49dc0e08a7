"""``stance evaluate`` on an attribution model: spans on PolNeAR, speakers on commentary.

Two measures, each beside the rules':

- **PolNeAR** (the model's held-out split, whole articles): exact and overlap
  precision, recall and F1 of source, cue and content spans, overall and per
  publisher, with the rules and a direct-quotes-only baseline in the same run.
- **Passages** of a built commentary dataset (``evaluate.passages_from``, e.g.
  ``data/built/default``: the embedded corpus and the seed, whose gold names
  each passage's source): source and source-side accuracy, author passages
  handed to a source, attributed passages missed, for the rules, the model and
  the two combined, per split of that dataset. The model never saw this text.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from pathlib import Path

from pipeline.analysis.attribution import attribution_agreement, with_shares
from pipeline.config import ATTRIBUTION_BY as MODES
from pipeline.contracts import dispute_paths, model_summary, read_manifest, report_dir_of, write_report
from pipeline.dispute import load_dispute
from pipeline.errors import DataError
from pipeline.text.polnear import load_documents, predict_spans, score, score_by_publisher, score_tagger
from pipeline.text.readers import read_inputs
from pipeline.text.rows import article_rows
from pipeline.text.spans import ROLES
from pipeline.text.tagger import SpanTagger

log = logging.getLogger(__name__)

# published results on PolNeAR test, exact span F1 (source / cue / content), from the issue that asked for the model
ANCHORS = {
    "BERT+CofeNet (COLING 2022)": {"source": 0.832, "cue": 0.753, "content": 0.729},
    "BERT-CRF": {"source": 0.822, "cue": 0.749, "content": 0.710},
    "BiLSTM-CRF": {"source": 0.696, "cue": 0.667, "content": 0.590},
}


def polnear_scores(tagger: SpanTagger, data_dir: str | Path, split: str) -> tuple[dict, list[dict]]:
    """Model, rules and direct-quotes-only spans on one split of the attribution dataset; the model's spans
    per article as prediction rows."""
    docs_ds = load_documents(data_dir)
    if split not in docs_ds:
        raise DataError(f"{data_dir}: no '{split}' split (it has {', '.join(docs_ds)}); pass --split with one of those")
    rows = docs_ds[split].to_list()
    t0 = time.perf_counter()
    model, docs, preds = score_tagger(tagger, rows)
    t1 = time.perf_counter()
    rules = [predict_spans(d) for d in docs]
    t2 = time.perf_counter()
    direct = [predict_spans(d, direct_only=True) for d in docs]
    result = {
        "split": split,
        "articles": len(docs),
        "relations": sum(len(d.relations) for d in docs),
        "model": model,
        "rules": {"documents": len(docs), **score(docs, rules)},
        "direct_quotes_only": {"documents": len(docs), **score(docs, direct)},
        "by_publisher": {"model": score_by_publisher(docs, preds), "rules": score_by_publisher(docs, rules)},
        "anchors_exact_f1": ANCHORS,
        "seconds": {"model": round(t1 - t0, 1), "rules": round(t2 - t1, 1)},
    }
    predictions = [
        {"doc_id": d.doc_id, "publisher": d.publisher, "role": role, "start": s, "end": e, "text": d.text[s:e]}
        for d, p in zip(docs, preds)
        for role, spans in zip(ROLES, p)
        for s, e in sorted(spans)
    ]
    return result, predictions


GOLD_FIELDS = ("dispute", "has_gold", "gold_source", "gold_source_side", "gold_form", "split")


def passage_scores(tagger: SpanTagger, dataset_dir: str | Path) -> dict:
    """Passage-level attribution against gold on a built commentary dataset, per split and way of attributing.

    The dataset's manifest names its sources (inputs and dispute); each source's articles are read
    again and attributed three ways (:func:`pipeline.text.rows.article_rows`, which the build ran
    too, so passages keep their indices), and joined with the dataset's gold by (article, passage).
    """
    from datasets import load_from_disk

    manifest = read_manifest(dataset_dir, "build it first (stance build configs/default.yaml) or fix passages_from")
    if manifest.get("kind", "commentary") != "commentary":
        raise DataError(f"{dataset_dir}: evaluate.passages_from must be a commentary dataset (passages with gold)")
    passages = load_from_disk(str(Path(dataset_dir) / "passages"))
    gold = {
        (r["doc_id"], r["index"]): {k: r[k] for k in GOLD_FIELDS}
        for s in passages
        for r in passages[s].select_columns(["doc_id", "index", *GOLD_FIELDS]).to_list()
    }
    disputes = {name: load_dispute(path) for name, path in dispute_paths(dataset_dir, manifest).items()}
    rows_by: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for i, spec in enumerate(manifest["config"]["build"]["sources"]):
        articles, _ = read_inputs(spec["inputs"])
        articles = [a for a in articles if (a.doc_id, 1) in gold]  # the articles this dataset holds
        if not articles:
            log.warning("passages: source %s (%s) has no article of %s; skipped", i, spec["inputs"], dataset_dir)
            continue
        dispute = disputes[gold[(articles[0].doc_id, 1)]["dispute"]]  # the dataset's copy of the source's dispute
        for by in MODES:
            for a in articles:
                for r in article_rows(a, dispute, tagger=None if by == "rules" else tagger, attribution=by):
                    g = gold.get((r["doc_id"], r["index"]))
                    if g is not None:
                        r.update(g)
                        rows_by[g["split"]][by].append(r)
        log.info("passages: %s attributed three ways (%d articles)", dispute.name, len(articles))
    order = ("train", "validation", "test", "seed")
    return {
        split: {by: with_shares(attribution_agreement(rows_by[split][by])) for by in MODES}
        for split in sorted(rows_by, key=lambda s: order.index(s) if s in order else len(order))
    }


def evaluate_attribution(
    model_dir: str | Path,
    data_dir: str | Path,
    output: str | Path | None = None,
    split: str = "test",
    batch_size: int = 32,
    command: str = "",
    passages_from: str | None = None,
) -> Path:
    """Evaluate an attribution model and write its report folder (``metrics.json``, ``report.html``,
    ``report.md``, and the model's spans on the split as ``predictions.jsonl``)."""
    from pipeline.evaluate.html import attribution_report

    t0 = time.time()
    tagger = SpanTagger.from_folder(model_dir, batch_size=min(batch_size, 32))
    polnear, predictions = polnear_scores(tagger, data_dir, split)
    log.info(
        "PolNeAR %s exact F1: source %.3f, cue %.3f, content %.3f (rules: source %.3f, cue %.3f)",
        split,
        *(polnear["model"][f"{r}_exact"]["f1"] for r in ROLES),
        polnear["rules"]["source_exact"]["f1"],
        polnear["rules"]["cue_exact"]["f1"],
    )
    passages = passage_scores(tagger, passages_from) if passages_from else {}
    from pipeline.contracts import model_identity

    model_id, model_version = model_identity(model_dir)
    result = {
        "kind": "attribution",
        "primary_split": split,
        "polnear": polnear,
        "passages": passages,
        "passages_from": str(passages_from) if passages_from else None,
        "model": model_summary(model_dir, model_id, model_version, 1.0),
        "data": {"path": str(Path(data_dir).resolve()), "data_hash": read_manifest(data_dir)["data_hash"]},
        "command": command,
        "seconds": round(time.time() - t0, 1),
    }
    out = Path(output) if output else report_dir_of(model_dir)
    html, markdown = attribution_report(result)
    write_report(out, metrics=result, predictions=predictions, verdicts={}, html=html, markdown=markdown)
    log.info("report written to %s (%.0f s)", out, result["seconds"])
    return out
