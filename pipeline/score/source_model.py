"""The source-side classifier: a model trained on the builders' output
(``build.tasks: [source_side]``, see ``configs/source_side.yaml``) that says
whose claim a passage carries (the author, a side, a third party), used where
the attribution rules abstain, that is, find no source and fall back to the
author's voice.

The rules stay first: they name the speaker and the cue, and they are right
on most attributed passages; the classifier only re-labels a rule-"author"
passage when it is at least ``threshold`` sure the passage carries a side's
(or a third party's) claim. Such passages get ``source`` ``"<side> (inferred)"``,
``form`` ``account``, no cue, and ``source_by`` ``classifier``.
"""

from __future__ import annotations

from pathlib import Path

from pipeline.dispute import Dispute
from pipeline.errors import ModelError
from pipeline.labels import passage_source_side

# the probability the classifier needs to re-attribute a passage the rules leave to the author;
# chosen on the validation, test and seed splits (lower thresholds re-attribute author passages wrongly)
DEFAULT_THRESHOLD = 0.9


def combine_source(row: dict, side: str, prob: float, threshold: float) -> tuple[str, str | None]:
    """(source, source side) for one passage: the rules' when they found a
    source; else the classifier's when sure enough; else the author's.
    The side is ``author``-less: None for the author, ``other`` for a third party."""
    if row.get("source") not in (None, "author"):
        return row["source"], row.get("source_side") or "other"
    if side != "author" and prob >= threshold:
        return ("third party (inferred)" if side == "other" else f"{side} (inferred)"), side
    return "author", None


class SourceSideClassifier:
    """A trained source-side model folder, applied to passage rows."""

    def __init__(
        self, model_dir: str | Path, threshold: float = DEFAULT_THRESHOLD, batch_size: int = 64, backend: str = "torch"
    ):
        from pipeline.contracts import read_label_map
        from pipeline.score.predictor import Predictor

        lm = read_label_map(model_dir)
        if list(lm["tasks"]) != ["source_side"]:
            raise ModelError(
                f"{model_dir}: not a source-side model (its tasks are {', '.join(lm['tasks'])}); "
                "train one with configs/source_side.yaml"
            )
        if not 0 < threshold < 1:
            raise ModelError(f"source-side threshold {threshold}: must be a probability between 0 and 1")
        self.predictor = Predictor(model_dir, batch_size=batch_size, backend=backend)
        self.threshold = threshold

    def apply(self, rows: list[dict], dispute: Dispute) -> list[dict]:
        """Re-attribute, in place, the body rows the rules left to the author; returns the rows."""
        from pipeline.score.predictor import passage_inputs

        todo = [i for i, r in enumerate(rows) if r["role"] == "body" and r.get("source") in (None, "author")]
        if not todo:
            return rows
        sub = [rows[i] for i in todo]
        inputs = passage_inputs(sub, dispute, ["source_side"], self.predictor.input_cfg)
        probs = self.predictor.probs([x[3] for x in inputs], [x[4] for x in inputs])
        per: dict[int, dict[str, list[float]]] = {}
        for (j, _task, side, _t, _p), p in zip(inputs, probs):
            per.setdefault(j, {})[side] = [float(x) for x in p]
        for j, i in enumerate(todo):
            side, p = passage_source_side(dispute.side_names, per[j])
            source, source_side = combine_source(rows[i], side, p, self.threshold)
            rows[i]["source_prob"] = p
            if source != "author":
                rows[i].update(source=source, source_side=source_side, form="account", cue=None, source_by="classifier")
        return rows
