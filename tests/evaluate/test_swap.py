"""The side-swap audit measures the model, not the swap: every swapped input is
the mirror image of the original, so any function of the input is consistent."""

import hashlib
import json

import numpy as np

from pipeline.evaluate.run import evaluate, load_dataset_folder, load_passages, score_split
from pipeline.evaluate.swap import side_swap_audit
from pipeline.labels import TASK_LABELS


class FunctionOfInput:
    """A stand-in model whose slot probabilities are a fixed function of its input text."""

    tasks = {"stance": TASK_LABELS["stance"], "credibility": TASK_LABELS["credibility"]}
    input_cfg = {"context_sentences": 1, "with_source": True}
    abstain_threshold = None
    blocks = None  # one task per input, as a shared-slot model

    def __init__(self, constant: bool = False):
        self.constant = constant

    def probs(self, texts, pairs):
        out = []
        for t, p in zip(texts, pairs):
            seed = 0 if self.constant else int.from_bytes(hashlib.sha256(f"{t}\n{p}".encode()).digest()[:4], "little")
            z = np.random.default_rng(seed).normal(size=3)
            out.append(np.exp(z) / np.exp(z).sum())
        return np.array(out)

    def task_probs(self, probs, task):
        return probs


def audit(data, predictor) -> dict:
    _, disputes, _ = load_dataset_folder(data)
    rows = load_passages(data, "test")["test"].to_list()
    return side_swap_audit(predictor, score_split(predictor, rows, disputes), disputes)


def test_a_function_of_the_input_swaps_wherever_the_input_tells_the_sides_apart(tiny_trained):
    _, data = tiny_trained
    a = audit(data, FunctionOfInput())
    assert a["n"] > 20 and a["mirrored_inputs"] == 1.0 and a["perfect_model"] == 1.0
    # a passage whose input is the same for both sides ties them, and a tie is neutral, not the first side listed
    assert 0 < a["indistinct"] < 0.5
    assert a["consistency"] == 1.0


def test_a_constant_model_favors_no_side(tiny_trained):
    """Every passage ties the sides: the first side listed must not win them all."""
    _, data = tiny_trained
    _, disputes, _ = load_dataset_folder(data)
    rows = load_passages(data, "test")["test"].to_list()
    scored = score_split(FunctionOfInput(constant=True), rows, disputes)
    assert {r["stance"] for r in scored if r["role"] == "body"} == {"neutral"}
    a = audit(data, FunctionOfInput(constant=True))
    assert a["mirrored_inputs"] == 1.0 and a["consistency"] == 1.0


def test_report_states_what_a_perfect_model_scores(tiny_trained, tmp_path):
    model, data = tiny_trained
    out = evaluate(model, data, tmp_path / "report")
    sw = json.loads((out / "metrics.json").read_text())["splits"]["test"]["side_swap"]
    assert sw["perfect_model"] == 1.0 and sw["mirrored_inputs"] == 1.0
    assert "word for word" in sw["perfect_model_why"]
    for page in ("report.md", "report.html"):
        text = (out / page).read_text(encoding="utf-8")
        assert "a perfect model scores 1.000" in text.lower() and "word for word" in text, page
