"""Inference: a trained model folder to calibrated per-side probabilities.

:class:`Predictor` tokenizes (text, text_pair) inputs, runs them in
length-sorted dynamic-padding batches through a backend (fp32 torch under
``torch.inference_mode()``, int8, or onnxruntime; see
:mod:`pipeline.score.backends`) and returns probabilities in input order;
batched output equals one-at-a-time output. :func:`score_passages` turns per-side probabilities into passage
outputs: the side favored, the credibility judgment, with probabilities.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from pipeline.analysis.metrics import softmax
from pipeline.analysis.verdicts import VerdictRule
from pipeline.contracts import model_identity, read_calibration, read_label_map, task_blocks
from pipeline.dispute import Dispute
from pipeline.labels import JOINT, TASK_LABELS, model_input, passage_credibility, passage_stance, side_favored

log = logging.getLogger(__name__)


class Predictor:
    """A model folder loaded for scoring.

    Args:
        model_dir: folder written by ``stance train``.
        batch_size: at most this many inputs per forward pass.
        batch_tokens: also at most this many padded tokens (inputs times the
            longest) per forward pass, so batches of short inputs hold more of
            them than batches of long ones; None: rows only; ``auto``: the
            backend's default (1,024 for ``int8`` and ``onnx-int8``, None for
            the others).
        calibrated: apply the stored temperature to the logits.
        backend: ``torch`` (fp32), ``bf16`` (bfloat16 autocast), ``int8``
            (dynamic per-channel quantization), ``onnx`` (onnxruntime),
            ``onnx-int8`` (onnxruntime, int8 quantized by onnxruntime),
            ``onnx-int8-static`` (the same with calibrated activation scales)
            or ``auto`` (the fastest batch-invariant one on this machine:
            ``backend_name`` says which, ``backend_reason`` why, and
            ``model_version``, written into every scored row and so into a
            run's resume fingerprint, ends with it); see
            :mod:`pipeline.score.backends`.

    Raises:
        ModelError: not a model folder, or an unknown backend.
    """

    def __init__(
        self,
        model_dir: str | Path,
        batch_size: int = 64,
        calibrated: bool = True,
        backend: str = "torch",
        batch_tokens: int | None | str = "auto",
    ):
        from transformers import AutoTokenizer

        from pipeline.score.backends import AUTO, forward_input_names, get_backend, resolve_backend

        self.model_dir = Path(model_dir)
        self.label_map = read_label_map(self.model_dir)
        self.tasks: dict[str, list[str]] = self.label_map["tasks"]
        # a joint model answers every task from one input, one block of slots per task
        self.blocks: dict[str, tuple[int, int]] | None = task_blocks(self.label_map)
        self.input_cfg: dict = self.label_map["input"]
        calibration = read_calibration(self.model_dir)
        self.temperature = float(calibration.get("temperature", 1.0)) if calibrated else 1.0
        self.abstain_threshold = calibration.get("abstain_threshold") if calibrated else None
        # how passages add up to article verdicts, fitted on validation articles when the model was trained
        self.verdict_rule = VerdictRule.from_dict(calibration.get("verdict_rule") if calibrated else None)
        self.tokenizer = AutoTokenizer.from_pretrained(str(self.model_dir))
        self.input_names = forward_input_names(self.tokenizer)
        self.backend_name, self.backend_reason = resolve_backend(backend, self.model_dir, self.input_names)
        self.backend = get_backend(self.backend_name, self.model_dir, self.input_names)
        self.batch_size = batch_size
        self.batch_tokens = self.backend.batch_tokens if batch_tokens == "auto" else batch_tokens
        self.model_id, self.model_version = model_identity(self.model_dir)
        if backend == AUTO:  # what auto chose depends on the machine: the rows and the fingerprint say it
            self.model_version = f"{self.model_version}:{self.backend_name}"

    @property
    def model(self):
        """The PyTorch model (torch and int8 backends only)."""
        return self.backend.model

    def logits(self, texts: Sequence[str], pairs: Sequence[str]) -> np.ndarray:
        """Raw logits in input order, computed in length-sorted dynamic-padding batches."""
        n = len(texts)
        out = np.zeros((n, self.label_map["num_slots"]), dtype=np.float32)
        if n == 0:
            return out
        max_len = int(self.input_cfg.get("max_length", 256))
        enc = self.tokenizer(list(texts), list(pairs), truncation=True, max_length=max_len)
        lengths = [len(x) for x in enc["input_ids"]]
        order = sorted(range(n), key=lengths.__getitem__)
        for idx in length_batches(order, lengths, self.batch_size, self.batch_tokens):
            batch = self.tokenizer.pad({k: [enc[k][i] for i in idx] for k in self.input_names}, return_tensors="np")
            out[idx] = self.backend({k: np.asarray(batch[k], dtype=np.int64) for k in self.input_names})
        return out

    def probs(self, texts: Sequence[str], pairs: Sequence[str]) -> np.ndarray:
        """Calibrated slot probabilities in input order (a joint model's: each task's block sums to 1)."""
        logits = self.logits(texts, pairs)
        if not self.blocks:
            return softmax(logits, self.temperature)
        out = np.zeros_like(logits)
        for a, b in self.blocks.values():
            out[:, a:b] = softmax(logits[:, a:b], self.temperature)
        return out

    def task_probs(self, probs: np.ndarray, task: str) -> np.ndarray:
        """The columns of :meth:`probs` that hold ``task``'s labels."""
        if not self.blocks:
            return probs
        a, b = self.blocks[task]
        return probs[:, a:b]


def length_batches(order: Sequence[int], lengths: Sequence[int], batch_size: int, batch_tokens: int | None = None):
    """Consecutive slices of ``order`` (indexes sorted by ascending length): at most
    ``batch_size`` each and, with ``batch_tokens``, at most that many padded
    tokens (slice size times its longest length); never empty."""
    start, n = 0, len(order)
    while start < n:
        end = min(start + max(1, batch_size), n)
        if batch_tokens:
            while end - start > 1 and (end - start) * lengths[order[end - 1]] > batch_tokens:
                end -= 1
        yield order[start:end]
        start = end


def passage_inputs(
    rows: list[dict], dispute: Dispute, tasks: Sequence[str], input_cfg: dict
) -> list[tuple[int, str, str, str, str]]:
    """(row position, task, side, text, text_pair) for every body row, task and side (``tasks`` may be
    ``[JOINT]``: one input per body row and side, for a joint model)."""
    out = []
    for i, r in enumerate(rows):
        if r["role"] != "body":
            continue
        ctx = r.get("context") if input_cfg.get("context_sentences", 0) else None
        for task in tasks:
            for side in dispute.side_names:
                text, pair = model_input(
                    task,
                    dispute,
                    side,
                    r["text"],
                    r["source"],
                    r["source_side"],
                    ctx,
                    input_cfg.get("with_source", True),
                )
                out.append((i, task, side, text, pair))
    return out


def score_passages(
    predictor: Predictor, rows: list[dict], dispute: Dispute, credibility_cues: bool = True
) -> list[dict]:
    """Add model outputs to passage rows (a new dict per row, input order kept).

    Body rows get ``stance`` (a side or ``neutral``), ``stance_prob``,
    ``stance_probs`` (per side and neutral), ``credibility`` (``{side,
    judgment}`` or None), ``credibility_prob``, ``credibility_probs`` (per
    side, the model's ``none``/``credible``/``not_credible`` distribution), ``credibility_by``,
    ``side_probs`` (the raw per-task, per-side slot probabilities) and
    ``abstained`` (the side-favored probability is below the model's abstain
    threshold, when it has one; article verdicts skip such passages). Other
    rows get None.

    With ``credibility_cues``, an author-voice passage the model judges
    ``none`` gets the judgment of the explicit credibility-cue labelling
    function when it fires ("X's account is the more credible", "X's figure
    appears in no document"; :func:`pipeline.text.cues.lf_credibility_cue`,
    right on 12 of its 14 author-voice votes in the corpus and seed gold):
    ``credibility_by`` is then ``cue`` and ``credibility_prob`` None. The model
    is under-confident on such explicit verdicts when their wording is new.
    Where the model's judgment and the cue's agree, ``credibility_by`` is
    ``model+cue`` (the model's probability kept): article verdicts count such a
    passage as sure, as they do a cue-only one.
    """
    from pipeline.text.cues import lf_credibility_cue

    asked = [JOINT] if predictor.blocks else list(predictor.tasks)  # a joint model: one input answers every task
    inputs = passage_inputs(rows, dispute, asked, predictor.input_cfg)
    probs = predictor.probs([x[3] for x in inputs], [x[4] for x in inputs]) if inputs else np.zeros((0, 3))
    by_task = {t: predictor.task_probs(probs, t) for t in predictor.tasks}  # each task's columns, sliced once
    per: dict[tuple[int, str], dict[str, list[float]]] = {}
    for k, (i, task, side, _, _) in enumerate(inputs):
        for t in predictor.tasks if task == JOINT else [task]:
            per.setdefault((i, t), {})[side] = [float(x) for x in by_task[t][k]]
    sides = dispute.side_names
    out = []
    for i, r in enumerate(rows):
        row = dict(r)
        row.update(
            stance=None,
            stance_prob=None,
            stance_probs=None,
            credibility=None,
            credibility_prob=None,
            credibility_probs=None,
            credibility_by=None,
            side_probs=None,
            abstained=None,
        )
        if (i, "stance") in per:
            sp = passage_stance(sides, per[(i, "stance")])
            best = side_favored(sp)
            threshold = predictor.abstain_threshold
            row.update(
                stance=best,
                stance_prob=sp[best],
                stance_probs=sp,
                abstained=threshold is not None and sp[best] < threshold,
            )
        if (i, "credibility") in per:
            judgment, p = passage_credibility(sides, per[(i, "credibility")])
            cred_probs = {sd: dict(zip(TASK_LABELS["credibility"], per[(i, "credibility")][sd])) for sd in sides}
            row.update(
                credibility=judgment,
                credibility_prob=p,
                credibility_probs=cred_probs,
                credibility_by="model" if judgment else None,
            )
            vote = lf_credibility_cue(r, dispute) if credibility_cues and r.get("source") in (None, "author") else None
            if vote:
                side, how = vote.split(":")
                if judgment is None:
                    row.update(credibility={"side": side, "judgment": how}, credibility_prob=None, credibility_by="cue")
                elif judgment == {"side": side, "judgment": how}:
                    row["credibility_by"] = "model+cue"  # the model's judgment, with an explicit cue that says the same
        if r["role"] == "body":
            row["side_probs"] = {task: per[(i, task)] for task in predictor.tasks if (i, task) in per}
        out.append(row)
    return out
