"""Inference backends (torch fp32, bf16, int8, onnx, onnx-int8, onnx-int8-static) on the tiny trained model.

Compared on uncalibrated probabilities: the tiny model's fitted temperature
is large (it barely trains in one epoch), which would flatten every
probability to ~1/3 and hide any disagreement. Tolerances:

- onnx runs the same fp32 graph with other kernels (fused attention, other
  GEMM blocking): the differences are float rounding (measured ~1e-10 on
  probabilities); 1e-5 leaves room across CPUs.
- int8 and onnx-int8 round weights per output channel (error <= max|w_row|/254) and
  activations per batch tensor (<= max|x|/255). Measured here: logits move
  by ~1.3% of their range, probabilities by ~1e-4; 1e-3 is several times that.
  Argmax: onnx must agree everywhere. The tiny model barely trains, so its
  top-2 probability margins are only ~2e-4, comparable to int8 noise: a near
  tie may flip, so both must agree on >= 90% (measured 100%). The real
  accuracy gate for int8 is the benchmark on the trained MiniLM (macro-F1
  within 0.01 of fp32).
- bf16 keeps 8 bits of mantissa in the matrix products (relative error
  ~2^-9 per rounding); measured here: probabilities move by ~2e-5 (the tiny
  model's logits are small), so 1e-3 leaves room; it must agree on >= 90%
  (measured 100%). Its accuracy gate is the benchmark too.
- int8 batched vs one at a time: the activation scale is taken over the whole
  padded batch, so results depend on batch composition within that same
  tolerance (measured ~1e-4 on logits); torch and onnx are equal to 1e-5.
- onnx-int8-static: the onnx-int8 graph with each activation scale calibrated
  once (the tiny dataset's training examples) and frozen: as far from fp32 as
  onnx-int8, and batch-invariant (test_auto_backend.py).
"""

import json
import os
import shutil
from collections import Counter

import numpy as np
import pytest
from conftest import ROOT

from pipeline.errors import ModelError
from pipeline.score.backends import _cpu_has_bf16
from pipeline.score.onnx_export import EXPORTER_VERSION

TOL = {"torch": 1e-5, "onnx": 1e-5, "int8": 1e-3, "onnx-int8": 1e-3, "bf16": 1e-3, "onnx-int8-static": 1e-3}
MIN_ARGMAX_AGREEMENT = {"onnx": 1.0, "int8": 0.9, "onnx-int8": 0.9, "bf16": 0.9, "onnx-int8-static": 0.9}


needs_bf16 = pytest.mark.skipif(
    not _cpu_has_bf16(),
    reason="this CPU has no native bfloat16 (AVX512-BF16 or AMX); --backend bf16 refuses to run here",
)


@pytest.fixture(scope="module")
def examples(tiny_trained):
    from datasets import load_from_disk

    ex = load_from_disk(str(tiny_trained[1] / "examples"))["test"]
    ex = ex.select(range(min(96, len(ex))))
    return list(ex["text"]), list(ex["text_pair"])


@pytest.fixture(scope="module")
def model_copy(tiny_trained, tmp_path_factory):
    """A private copy of the tiny model: the onnx backend writes its export into the folder."""
    dst = tmp_path_factory.mktemp("backends") / "model"
    shutil.copytree(tiny_trained[0], dst, ignore=shutil.ignore_patterns("checkpoints", "report"))
    return dst


@pytest.fixture(scope="module")
def predictors(model_copy):
    from pipeline.score.predictor import Predictor

    names = ("torch", "int8", "onnx", "onnx-int8", "onnx-int8-static") + (("bf16",) if _cpu_has_bf16() else ())
    return {name: Predictor(model_copy, batch_size=16, calibrated=False, backend=name) for name in names}


@pytest.mark.parametrize(
    "backend", ["int8", "onnx", "onnx-int8", "onnx-int8-static", pytest.param("bf16", marks=needs_bf16)]
)
def test_backend_agrees_with_fp32(predictors, examples, backend):
    ref = predictors["torch"].probs(*examples)
    got = predictors[backend].probs(*examples)
    assert got.shape == ref.shape and np.allclose(got.sum(1), 1.0)
    err = np.abs(got - ref).max()
    assert err <= TOL[backend], f"{backend}: max |p - p_fp32| = {err:.2e} > {TOL[backend]}"
    agree = (got.argmax(1) == ref.argmax(1)).mean()
    assert agree >= MIN_ARGMAX_AGREEMENT[backend], f"{backend}: argmax agrees with fp32 on {agree:.1%}"


@pytest.mark.parametrize(
    "backend", ["torch", "int8", "onnx", "onnx-int8-static", pytest.param("bf16", marks=needs_bf16)]
)
def test_batched_equals_one_at_a_time(predictors, examples, backend):
    pred = predictors[backend]
    texts, pairs = examples[0][:24], examples[1][:24]
    batched = pred.probs(texts, pairs)
    single = np.vstack([pred.probs([t], [p]) for t, p in zip(texts, pairs)])
    np.testing.assert_allclose(batched, single, atol=TOL[backend], rtol=0)


def test_onnx_export_is_cached_and_refreshed_when_weights_change(predictors, model_copy):
    from pipeline.score.onnx_export import onnx_path

    path = model_copy / "onnx" / "model.onnx"
    assert path.is_file() and not list(path.parent.glob("*.tmp")), "export is written atomically, no temp left"
    before = path.stat().st_mtime_ns
    names = predictors["onnx"].input_names
    assert onnx_path(model_copy, names) == path and path.stat().st_mtime_ns == before  # reused
    weights = model_copy / "model.safetensors"
    os.utime(weights, ns=(before + 10**9, before + 10**9))  # weights newer than the export
    onnx_path(model_copy, names)
    assert path.stat().st_mtime_ns > before
    info = path.with_name("model.onnx.json")
    assert json.loads(info.read_text()) == {"exporter": EXPORTER_VERSION, "fused": True}
    again = path.stat().st_mtime_ns
    info.write_text(json.dumps({"exporter": EXPORTER_VERSION - 1}))  # an export cached by an older version of the code
    onnx_path(model_copy, names)
    assert path.stat().st_mtime_ns > again and json.loads(info.read_text())["exporter"] == EXPORTER_VERSION


def _op_counts(path):
    import onnx

    return Counter(n.op_type for n in onnx.load(str(path)).graph.node)


def test_onnx_export_fuses_bert_attention_and_int8_keeps_the_head_fp32(predictors, model_copy):
    """The tiny BERT (2 layers) takes the fused route: one Attention node for the
    first layer, and the last layer computed for the first token only (one
    unfused Softmax); int8 quantization turns the fused attention into
    QAttention and leaves the head's MatMul fp32."""
    fp32 = _op_counts(model_copy / "onnx" / "model.onnx")
    assert fp32["Attention"] == 1 and fp32["EmbedLayerNormalization"] == 1 and fp32["Softmax"] == 1, fp32
    int8 = _op_counts(model_copy / "onnx" / "model.int8.onnx")
    assert int8["QAttention"] == 1 and int8["MatMulInteger"] > 0, int8
    import onnx

    head = [n for n in onnx.load(str(model_copy / "onnx" / "model.int8.onnx")).graph.node if "classifier" in n.name]
    assert head and {n.op_type for n in head} <= {"MatMul", "Add", "Gemm"}, [(n.op_type, n.name) for n in head]


def test_onnx_export_falls_back_to_torch_export_when_fusion_does_not_apply(
    tiny_trained, tmp_path, examples, predictors, monkeypatch
):
    from pipeline.score import onnx_export
    from pipeline.score.predictor import Predictor

    dst = tmp_path / "model"
    shutil.copytree(tiny_trained[0], dst, ignore=shutil.ignore_patterns("checkpoints", "report", "onnx"))
    monkeypatch.setattr(onnx_export, "FUSABLE", ())
    pred = Predictor(dst, batch_size=16, calibrated=False, backend="onnx")
    ops = _op_counts(dst / "onnx" / "model.onnx")
    assert ops["Attention"] == 0 and ops["MatMul"] > 0, ops
    np.testing.assert_allclose(pred.probs(*examples), predictors["torch"].probs(*examples), atol=TOL["onnx"], rtol=0)


def test_length_batches_cap_rows_and_padded_tokens():
    from pipeline.score.predictor import length_batches

    lengths = [5, 40, 10, 10, 80, 20, 200]
    order = sorted(range(len(lengths)), key=lengths.__getitem__)
    assert list(length_batches(order, lengths, 3)) == [[0, 2, 3], [5, 1, 4], [6]]
    batches = list(length_batches(order, lengths, 64, batch_tokens=80))
    assert [i for b in batches for i in b] == order  # every input once, in length order
    # 4 x 20 fits; 2 x 80 does not; an input longer than the budget goes alone
    assert batches == [[0, 2, 3, 5], [1], [4], [6]]
    # the row cap still holds
    assert list(length_batches(order, lengths, 2, batch_tokens=80)) == [[0, 2], [3, 5], [1], [4], [6]]


def test_int8_backends_default_to_a_token_budget(predictors):
    from pipeline.score.backends import INT8_BATCH_TOKENS

    assert {n: p.batch_tokens for n, p in predictors.items() if n != "bf16"} == {
        "torch": None,
        "int8": INT8_BATCH_TOKENS,
        "onnx": None,
        "onnx-int8": INT8_BATCH_TOKENS,
        "onnx-int8-static": INT8_BATCH_TOKENS,
    }


def test_first_token_last_layer_keeps_the_logits(tiny_trained):
    """The last layer computed for the first token alone gives the full model's logits
    on a padded batch; a model of another layout is left untouched."""
    import torch
    from transformers import (
        AutoTokenizer,
        DistilBertConfig,
        DistilBertForSequenceClassification,
    )

    from pipeline.score.onnx_export import first_token_last_layer, load_hf_model

    tok = AutoTokenizer.from_pretrained(str(tiny_trained[0]))
    enc = tok(
        ["a short one", "a much longer passage about who walked out of the talks first, and why"],
        ["x", "y z"],
        padding=True,
        return_tensors="pt",
    )
    assert enc["attention_mask"].min() == 0  # padded
    for attn in ("eager", "sdpa"):
        full = load_hf_model(tiny_trained[0], attn_implementation=attn)
        trimmed = load_hf_model(tiny_trained[0], attn_implementation=attn)
        assert first_token_last_layer(trimmed)
        with torch.inference_mode():
            np.testing.assert_allclose(trimmed(**enc).logits.numpy(), full(**enc).logits.numpy(), atol=1e-5, rtol=0)
            assert trimmed.base_model(**enc).last_hidden_state.shape[1] == 1
    other = DistilBertForSequenceClassification(
        DistilBertConfig(vocab_size=64, dim=16, n_layers=1, n_heads=2, hidden_dim=32)
    )
    assert not first_token_last_layer(other)
    assert type(other.distilbert.transformer.layer[-1]).__name__ == "TransformerBlock"


def test_unknown_backend_is_a_one_line_model_error(tiny_trained, tmp_path, capsys):
    from pipeline.cli import main
    from pipeline.score.predictor import Predictor

    with pytest.raises(ModelError, match=r"unknown backend 'fp8'; expected one of torch, bf16, int8, onnx, onnx-int8"):
        Predictor(tiny_trained[0], backend="fp8")
    rc = main(
        [
            "-q",
            "score",
            "--model",
            str(tiny_trained[0]),
            "--dispute",
            str(ROOT / "configs/disputes/port-strike.yaml"),
            str(ROOT / "data/corpus/port-strike"),
            "--output",
            str(tmp_path / "out"),
            "--backend",
            "fp8",
        ]
    )
    err = capsys.readouterr().err.strip()
    assert rc == 2
    assert err == (
        "error: unknown backend 'fp8'; expected one of torch, bf16, int8, onnx, onnx-int8, "
        "onnx-int8-static or auto (the default: the fastest batch-invariant one here)"
    )
    assert not (tmp_path / "out").exists(), "fails before writing anything"
    with pytest.raises(ModelError, match=r"unknown backend 'onnx_int8'; did you mean 'onnx-int8'\? expected one of"):
        Predictor(tiny_trained[0], backend="onnx_int8")


def test_bf16_refuses_a_cpu_without_native_bfloat16(tiny_trained, monkeypatch):
    from pipeline.score import backends
    from pipeline.score.predictor import Predictor

    monkeypatch.setattr(backends, "_cpu_has_bf16", lambda: False)
    with pytest.raises(
        ModelError,
        match=r"--backend bf16 needs a GPU or a CPU with native bfloat16 .*"
        r"use --backend int8 or torch",
    ):
        Predictor(tiny_trained[0], backend="bf16")


def test_bf16_pads_batches_to_a_few_shapes():
    """Batches are rounded to multiples of 8 rows and 16 tokens (bounded oneDNN kernel caches);
    the padding is zeros (masked out); test_batched_equals_one_at_a_time[bf16] checks outputs do not change."""
    from pipeline.score.backends import _pad_shape

    a = np.arange(1, 3 * 17 + 1).reshape(3, 17)
    p = _pad_shape(a)
    assert p.shape == (8, 32) and (p[:3, :17] == a).all() and p[3:].sum() == 0 and p[:, 17:].sum() == 0
    b = np.ones((16, 32), dtype=np.int64)
    assert _pad_shape(b) is b
    shapes = {_pad_shape(np.ones((r, c))).shape for r in range(1, 65) for c in range(1, 161)}
    assert len(shapes) == 8 * 10  # 10,240 batch shapes become 80


def test_static_int8_freezes_every_activation_scale_and_keeps_the_kernels(predictors, model_copy):
    """onnx-int8-static is the onnx-int8 graph with each DynamicQuantizeLinear (scale over the whole batch)
    replaced by a QuantizeLinear with a calibrated constant scale: the integer kernels stay, the head stays fp32."""
    import onnx

    dynamic = _op_counts(model_copy / "onnx" / "model.int8.onnx")
    static = _op_counts(model_copy / "onnx" / "model.int8-static.onnx")
    assert static["DynamicQuantizeLinear"] == 0 and static["QuantizeLinear"] == dynamic["DynamicQuantizeLinear"] > 0
    assert (static["QAttention"], static["MatMulInteger"]) == (dynamic["QAttention"], dynamic["MatMulInteger"])
    graph = onnx.load(str(model_copy / "onnx" / "model.int8-static.onnx")).graph
    head = [n for n in graph.node if "classifier" in n.name]
    assert head and {n.op_type for n in head} <= {"MatMul", "Add", "Gemm"}, [(n.op_type, n.name) for n in head]
    scales = {i.name for i in graph.initializer if i.name.endswith("_scale")}
    assert all(n.input[1] in scales for n in graph.node if n.op_type == "QuantizeLinear")  # constants, not computed
