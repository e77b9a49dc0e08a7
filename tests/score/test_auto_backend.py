"""``--backend auto`` (the default of ``stance score``) and batch invariance.

auto picks the fastest batch-invariant backend for the machine: bf16 on a CPU
with AMX, else onnx-int8-static when its one-off check against fp32 passes,
else bf16 on a CPU with AVX512-BF16, else onnx, else torch (a GPU: torch). The
choice is logged with its reason and ends the rows' model version, so a run's
resume fingerprint names it. Only the flag checks are monkeypatched.

Batch-invariant: a passage gets the same label, and probabilities equal to
1e-4, whichever passages share its batch. fp32, bf16 and static int8 are; the
dynamic int8 backends (one activation scale per batch) are documented as not.
The tiny model's logits are small, so the tests compare logits, to 1e-6:
measured here, a passage's logits move by 5e-5 to 1e-4 between batches under
int8 and onnx-int8, and by at most 3e-9 under the invariant backends.
"""

import json
import logging
import os
import shutil

import numpy as np
import pytest

from pipeline.score import backends
from pipeline.score.backends import BACKENDS, _cpu_has_bf16

INVARIANCE_TOL = 1e-4  # probabilities of one passage in different batches (what a user may see move)
LOGIT_TOL = 1e-6  # logits of one passage in different batches, on the tiny model
needs_bf16 = pytest.mark.skipif(not _cpu_has_bf16(), reason="this CPU has no native bfloat16 (AVX512-BF16 or AMX)")


@pytest.fixture(scope="module")
def model_copy(tiny_trained, tmp_path_factory):
    """A private copy of the tiny model (the onnx backends write into it), trained on tiny_trained's dataset."""
    dst = tmp_path_factory.mktemp("auto") / "model"
    shutil.copytree(tiny_trained[0], dst, ignore=shutil.ignore_patterns("checkpoints", "report", "onnx"))
    return dst


@pytest.fixture(scope="module")
def passages(tiny_trained):
    """(targets, others): a few test passages to follow, and short and long ones to batch them with."""
    from datasets import load_from_disk

    ex = load_from_disk(str(tiny_trained[1] / "examples"))["test"]
    pairs = list(zip(ex["text"], ex["text_pair"]))
    by_len = sorted(pairs, key=lambda p: len(p[0]) + len(p[1]))
    targets = by_len[len(by_len) // 2 : len(by_len) // 2 + 6]
    others = by_len[:20] + by_len[-20:] + [(t * 3, p) for t, p in by_len[-4:]]  # short, long, and longer still
    return targets, others


def _no_gpu(monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)


def _flags(monkeypatch, amx: bool, bf16: bool):
    monkeypatch.setattr(backends, "_cpu_has_amx", lambda: amx)
    monkeypatch.setattr(backends, "_cpu_has_bf16", lambda: bf16)


def _logits_in_batches(pred, targets, others):
    """Each target's logits scored alone, among all others, among the short others only, and with the
    others in reverse order and smaller batches."""
    texts = lambda items: ([t for t, _ in items], [p for _, p in items])  # noqa: E731
    alone = np.vstack([pred.logits(*texts([x])) for x in targets])
    mixed = pred.logits(*texts(targets + others))[: len(targets)]
    short = pred.logits(*texts(others[:20] + targets))[20:]
    size, pred.batch_size = pred.batch_size, 5
    try:
        rev = pred.logits(*texts(others[::-1] + targets))[len(others) :]
    finally:
        pred.batch_size = size
    return alone, [mixed, short, rev]


@pytest.mark.parametrize(
    "backend", ["auto", "torch", "onnx", "onnx-int8-static", pytest.param("bf16", marks=needs_bf16)]
)
def test_batch_invariant_backends_give_a_passage_the_same_output_in_any_batch(model_copy, passages, backend):
    from pipeline.analysis.metrics import softmax
    from pipeline.score.predictor import Predictor

    targets, others = passages
    pred = Predictor(model_copy, batch_size=16, calibrated=False, backend=backend)
    assert BACKENDS[pred.backend_name].batch_invariant
    alone, batched = _logits_in_batches(pred, targets, others)
    for got in batched:
        assert (got.argmax(1) == alone.argmax(1)).all(), f"{backend} ({pred.backend_name}): a label changed"
        np.testing.assert_allclose(softmax(got), softmax(alone), atol=INVARIANCE_TOL, rtol=0)
        np.testing.assert_allclose(got, alone, atol=LOGIT_TOL, rtol=0, err_msg=f"{backend} ({pred.backend_name})")


@pytest.mark.parametrize("backend", ["int8", "onnx-int8"])
def test_dynamic_int8_backends_do_depend_on_the_batch(model_copy, passages, backend):
    """What batch_invariant = False and --help warn of: the same passage, other logits in another batch."""
    from pipeline.score.predictor import Predictor

    pred = Predictor(model_copy, batch_size=16, calibrated=False, backend=backend)
    alone, batched = _logits_in_batches(pred, *passages)
    assert max(np.abs(got - alone).max() for got in batched) > LOGIT_TOL


def test_dynamic_int8_backends_are_documented_as_not_batch_invariant(capsys):
    """int8 and onnx-int8 quantize activations with one scale over the whole batch; --help says so, and says
    which backends are batch-invariant."""
    from pipeline.cli import main

    assert {n for n, b in BACKENDS.items() if not b.batch_invariant} == {"int8", "onnx-int8"}
    with pytest.raises(SystemExit):
        main(["score", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    help_ = text[text.index("--backend BACKEND default auto;") : text.index("--engine ENGINE default")]
    invariant, not_invariant = help_.split("NOT batch-invariant")
    assert "Batch-invariant" in invariant
    for name, cls in BACKENDS.items():
        side = invariant if cls.batch_invariant else not_invariant
        assert f" {name} (" in side, f"{name} is not listed as {'' if cls.batch_invariant else 'not '}invariant"
    assert " auto (" in invariant


def test_auto_is_the_default_of_stance_score():
    from pipeline.config import ScoreConfig

    assert ScoreConfig().backend == "auto"


def test_auto_picks_bf16_on_a_cpu_with_amx_and_logs_why(model_copy, monkeypatch, caplog):
    _no_gpu(monkeypatch)
    _flags(monkeypatch, amx=True, bf16=True)
    with caplog.at_level(logging.INFO, logger="pipeline.score.backends"):
        name, why = backends.resolve_backend("auto", model_copy, ["input_ids", "attention_mask", "token_type_ids"])
    assert name == "bf16" and "AMX" in why
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("backend auto:")]
    assert lines == [f"backend auto: bf16 ({why})"]


@needs_bf16
def test_auto_on_a_bf16_cpu_scores_with_bf16_and_says_so_in_the_rows(model_copy, monkeypatch):
    from pipeline.contracts import model_identity
    from pipeline.score.predictor import Predictor

    _no_gpu(monkeypatch)
    monkeypatch.setattr(backends, "_cpu_has_amx", lambda: True)
    pred = Predictor(model_copy, backend="auto")
    assert pred.backend_name == "bf16" and isinstance(pred.backend, backends.Bf16Backend)
    assert pred.model_version == f"{model_identity(model_copy)[1]}:bf16"


def test_auto_without_bfloat16_picks_a_batch_invariant_backend_and_logs_why(model_copy, monkeypatch, caplog):
    from pipeline.score.onnx_export import export_info

    _no_gpu(monkeypatch)
    _flags(monkeypatch, amx=False, bf16=False)
    with caplog.at_level(logging.INFO, logger="pipeline.score.backends"):
        name, why = backends.resolve_backend("auto", model_copy, ["input_ids", "attention_mask", "token_type_ids"])
    assert name in ("onnx-int8-static", "onnx") and BACKENDS[name].batch_invariant
    check = export_info(model_copy / "onnx" / "model.int8-static.onnx")["check"]
    assert (name == "onnx-int8-static") == check["passed"]  # the cached check decides between the two
    assert f"{check['agreement']:.1%}" in why
    assert [r.getMessage() for r in caplog.records if r.getMessage().startswith("backend auto:")] == [
        f"backend auto: {name} ({why})"
    ]


@pytest.mark.parametrize(
    "gpu, amx, bf16, static_ok, onnx, expected",
    [
        (True, True, True, True, True, "torch"),
        (False, True, True, True, True, "bf16"),
        (False, False, True, True, True, "onnx-int8-static"),
        (False, False, False, True, True, "onnx-int8-static"),
        (False, False, True, False, True, "bf16"),
        (False, False, False, False, True, "onnx"),
        (False, False, False, False, False, "torch"),
    ],
)
def test_auto_order_of_preference(tmp_path, monkeypatch, gpu, amx, bf16, static_ok, onnx, expected):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: gpu)
    _flags(monkeypatch, amx=amx, bf16=bf16)
    monkeypatch.setattr(backends, "_static_int8_check", lambda *a: (static_ok, "why"))
    monkeypatch.setattr(backends, "_has_onnx_extra", lambda: onnx)
    monkeypatch.setattr(backends, "_onnx_export_ok", lambda *a: (onnx, "why"))
    assert backends._choose(tmp_path, ["input_ids"])[0] == expected
    assert BACKENDS[expected].batch_invariant


def test_auto_falls_back_when_the_static_graph_cannot_be_made(model_copy, monkeypatch, caplog):
    from pipeline.errors import ModelError
    from pipeline.score import onnx_export

    def refuse(*a):
        raise ModelError(f"{model_copy}/onnx: cannot write the ONNX export (Read-only file system)")

    _no_gpu(monkeypatch)
    _flags(monkeypatch, amx=False, bf16=True)
    monkeypatch.setattr(onnx_export, "onnx_int8_static_path", refuse)
    with caplog.at_level(logging.INFO, logger="pipeline.score.backends"):
        name, why = backends.resolve_backend("auto", model_copy, ["input_ids", "attention_mask", "token_type_ids"])
    assert name == "bf16" and "could not be made (ModelError)" in why
    assert any("Read-only file system" in r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)


def test_static_int8_is_calibrated_once_on_the_training_data_and_cached(tiny_trained, model_copy):
    from pipeline.score.onnx_export import STATIC_VERSION, export_info, onnx_int8_static_path

    names = ["input_ids", "attention_mask", "token_type_ids"]
    path = onnx_int8_static_path(model_copy, names)
    info = export_info(path)
    dataset = json.loads((model_copy / "provenance.json").read_text())["dataset"]
    assert info["static"] == STATIC_VERSION and "frozen" in info["method"]
    assert info["calibration"]["source"] == f"training examples of {dataset}" and info["calibration"]["inputs"] > 0
    check = info["check"]
    assert check["source"] == f"validation examples of {dataset}" and check["inputs"] > 0
    assert check["rebatch_agreement"] == 1.0 and check["rebatch_max_abs_prob_diff"] <= INVARIANCE_TOL
    assert {"agreement", "macro_f1", "macro_f1_fp32", "dynamic", "passed", "why"} <= set(check)
    before = path.stat().st_mtime_ns
    assert onnx_int8_static_path(model_copy, names) == path and path.stat().st_mtime_ns == before  # reused
    dynamic = model_copy / "onnx" / "model.int8.onnx"
    os.utime(dynamic, ns=(before + 10**9, before + 10**9))  # the graph it was made from is newer
    onnx_int8_static_path(model_copy, names)
    assert path.stat().st_mtime_ns > before and not list(path.parent.glob("*.tmp"))


@pytest.mark.parametrize(
    "agreement, dynamic, moved, why",
    [
        (0.982, 0.979, 0.0, ""),  # the default model on its validation examples
        (0.949, 0.945, 0.0, ""),  # the same on generated inputs: more near-ties, both agree less
        (0.925, 0.930, 0.0, "agrees with fp32 on 92.5%, under 93%"),
        (0.950, 0.975, 0.0, "calibration cost accuracy"),
        (0.980, 0.975, 2e-3, "probabilities moved by 0.002 when rebatched"),
    ],
)
def test_static_int8_check_verdict(agreement, dynamic, moved, why):
    from pipeline.score.onnx_export import static_verdict

    passed, got = static_verdict(
        {"agreement": agreement, "dynamic": {"agreement": dynamic}, "rebatch_max_abs_prob_diff": moved}
    )
    assert passed == (why == "") and why in got and (got == "") == passed


def test_static_int8_calibrates_on_generated_sentences_without_the_dataset(model_copy, tmp_path):
    from pipeline.score.onnx_export import calibration_inputs, export_info, onnx_int8_static_path

    dst = tmp_path / "moved"
    shutil.copytree(model_copy, dst, ignore=shutil.ignore_patterns("model.int8-static.onnx*"))
    prov = json.loads((dst / "provenance.json").read_text())
    prov["dataset"] = str(tmp_path / "gone")
    (dst / "provenance.json").write_text(json.dumps(prov))
    data = calibration_inputs(dst, calibrate=8, check=4)
    assert data["source"] == "generated sentences" and data["gold"] is None
    assert all(t.startswith("[") and "<<" in t and ">>" in p for t, p in data["calibrate"] + data["check"])
    assert data["calibrate"] != data["check"]
    info = export_info(onnx_int8_static_path(dst, ["input_ids", "attention_mask", "token_type_ids"]))
    assert info["calibration"]["source"] == "generated sentences" and "macro_f1" not in info["check"]


def test_resume_fingerprint_names_what_auto_chose(model_copy, monkeypatch):
    """A rerun on the same machine resumes (same choice, same fingerprint); on a machine where auto picks
    another backend, the rows' model version and the fingerprint differ."""
    from pipeline.config import ScoreConfig
    from pipeline.score.run import load_models

    _no_gpu(monkeypatch)
    _flags(monkeypatch, amx=False, bf16=False)
    first = load_models(ScoreConfig(model=str(model_copy), backend="auto"))
    again = load_models(ScoreConfig(model=str(model_copy), backend="auto"))
    chosen = first.predictor.backend_name
    assert first.version == again.version and f":{chosen}" in first.version
    assert first.predictor.model_version.endswith(f":{chosen}")
    monkeypatch.setattr(backends, "_cpu_has_amx", lambda: True)
    monkeypatch.setattr(backends, "_cpu_has_bf16", lambda: True)
    monkeypatch.setattr(backends.Bf16Backend, "__init__", backends.TorchBackend.__init__)  # any CPU can run this
    other = load_models(ScoreConfig(model=str(model_copy), backend="auto"))
    assert other.predictor.backend_name == "bf16" and other.version != first.version
