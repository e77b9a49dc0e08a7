"""The ONNX export behind the onnx backends: export, fusion, graph surgery, int8 quantization (dynamic, static).

The export is made once per model folder and cached beside the weights:

- ``MODEL/onnx/model.onnx``: the model's logits with dynamic batch and
  sequence axes, and a sidecar ``model.onnx.json`` naming the exporter version
  that wrote it (a cached export from another version is redone). BERT-family
  encoders are exported with eager attention by the TorchScript exporter and
  passed through onnxruntime's transformer optimizer, which fuses each layer's
  attention into one ``Attention`` node (and the embeddings, skip-LayerNorms
  and bias-GELUs into theirs). The classification head reads only the first
  token's final state, so the last layer is exported for that token alone
  (keys and values over every token; the query, attention output and
  feed-forward for the first: about a sixth of the last layer's work). That
  graph is kept only when every other layer fused and its logits match the
  unmodified torch model's; any other model, or a failed check, falls back to
  the torch.export-based exporter of the whole model.
- ``MODEL/onnx/model.int8.onnx``: that export quantized by onnxruntime's own
  dynamic int8 quantization (per-channel int8 weights, full range; the
  classification head left in fp32). On a fused export the attention becomes
  ``QAttention``.
- ``MODEL/onnx/model.int8-static.onnx``: that graph with each activation's
  scale calibrated once and frozen (:func:`quantize_static_onnx`), so that a
  passage's output no longer depends on its batch; its sidecar records the
  calibration and a check against fp32, which ``--backend auto`` reads.

Every file is written atomically. Needs the ``[onnx]`` extra (onnx,
onnxscript, onnxruntime); :mod:`pipeline.score.backends` runs the result.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import warnings
from pathlib import Path

import numpy as np
import torch

from pipeline.errors import ModelError, first_line
from pipeline.io import share_as_umask_allows, write_json
from pipeline.score.extras import require_extra

log = logging.getLogger(__name__)

ONNX_FILE = Path("onnx") / "model.onnx"
ONNX_INT8_FILE = Path("onnx") / "model.int8.onnx"
# bump when the export changes; older cached exports are then redone
# (1: torch.export only; 2: fused BERT attention; 3: + first-token-only last layer)
EXPORTER_VERSION = 3
WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin", "config.json")
FUSABLE = ("bert", "roberta", "xlm-roberta", "distilbert", "electra", "camembert")
FORWARD_INPUTS = ("input_ids", "attention_mask", "token_type_ids")  # LogitsOnly's positional order
HEAD_MODULES = ("classifier", "score", "pre_classifier")


def is_token_classifier(model_dir: Path) -> bool:
    """Whether the folder holds a token classifier (the attribution model) rather than a sequence classifier."""
    try:
        arch = json.loads((Path(model_dir) / "config.json").read_text(encoding="utf-8")).get("architectures") or []
    except (OSError, ValueError):
        return False
    return any(a.endswith("ForTokenClassification") for a in arch)


def load_hf_model(model_dir: Path, **kwargs):
    """The saved classifier in eval mode (the torch backends run it; the exporter exports it): a sequence
    classifier, or the attribution model's token classifier."""
    from transformers import AutoModelForSequenceClassification, AutoModelForTokenClassification

    auto = AutoModelForTokenClassification if is_token_classifier(model_dir) else AutoModelForSequenceClassification
    model = auto.from_pretrained(str(model_dir), **kwargs)
    model.eval()
    return model


def onnx_path(model_dir: Path, input_names: list[str]) -> Path:
    """The cached ONNX export of ``model_dir``, exported first when missing, older
    than the weights, or written by another version of the exporter (``model.onnx.json``)."""
    path = Path(model_dir) / ONNX_FILE
    weights = [Path(model_dir) / f for f in WEIGHT_FILES if (Path(model_dir) / f).is_file()]
    newest = max((w.stat().st_mtime_ns for w in weights), default=0)
    if path.is_file() and path.stat().st_mtime_ns >= newest and export_info(path).get("exporter") == EXPORTER_VERSION:
        log.debug("onnx: reusing %s", path)
        return path
    export_onnx(Path(model_dir), path, input_names)
    return path


def onnx_int8_path(model_dir: Path, input_names: list[str]) -> Path:
    """The cached int8 quantization of the ONNX export, made first when missing or older than the export."""
    src = onnx_path(model_dir, input_names)
    path = Path(model_dir) / ONNX_INT8_FILE
    if path.is_file() and path.stat().st_mtime_ns >= src.stat().st_mtime_ns:
        return path
    quantize_onnx(src, path)
    return path


def export_info(path: Path) -> dict:
    """The sidecar of an export (``model.onnx.json``: exporter version, fused or not); {} when absent or unreadable."""
    try:
        return json.loads(path.with_name(path.name + ".json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def export_onnx(model_dir: Path, path: Path, input_names: list[str]) -> None:
    """Export the model's logits with dynamic batch and sequence axes; written atomically.

    The fused export (:func:`export_fused`) is tried first; when it does not
    apply or fails its checks, the torch.export-based exporter writes an
    unfused graph.

    Raises:
        ModelError: the ``[onnx]`` extra is missing, or ``path``'s folder is not writable.
    """
    require_extra("onnx", "--backend onnx (to export the model)", error=ModelError, modules=("onnx", "onnxscript"))
    log.info("onnx: exporting %s -> %s (once; reused while newer than the weights)", model_dir, path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".model.", suffix=".onnx.tmp", dir=path.parent)
        os.close(fd)
    except OSError as exc:
        raise ModelError(
            f"{path.parent}: cannot write the ONNX export ({exc.strerror}); "
            "copy the model folder somewhere writable or use --backend torch"
        ) from None
    try:
        fused = export_fused(model_dir, Path(tmp), input_names)
        if not fused:
            _export_unfused(model_dir, Path(tmp), input_names)
        share_as_umask_allows(tmp)  # mkstemp's file is private; the export is shared like the model beside it
        os.replace(tmp, path)
        # the sidecar is written after the graph: a crash between the two only costs a re-export
        info = path.with_name(path.name + ".json")
        info.write_text(json.dumps({"exporter": EXPORTER_VERSION, "fused": fused}) + "\n", encoding="utf-8")
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _export_unfused(model_dir: Path, out: Path, input_names: list[str]) -> None:
    """The whole model through the torch.export-based exporter (any architecture; no fusion)."""
    model = load_hf_model(model_dir)
    example = {
        k: torch.ones(2, 8, dtype=torch.long) if k != "token_type_ids" else torch.zeros(2, 8, dtype=torch.long)
        for k in input_names
    }
    batch = torch.export.Dim("batch", min=1, max=65536)
    seq = torch.export.Dim("sequence", min=1, max=_max_positions(model))
    shapes = {k: {0: batch, 1: seq} for k in input_names}
    program = torch.onnx.export(
        LogitsOnly(model),
        (),
        kwargs=example,
        input_names=input_names,
        output_names=["logits"],
        dynamic_shapes=shapes,
        dynamo=True,
        external_data=False,
        verbose=False,
    )
    program.save(str(out), external_data=False)


def export_fused(model_dir: Path, out: Path, input_names: list[str]) -> bool:
    """Write a fused export of a BERT-family model to ``out``; False (nothing kept) when it does not apply.

    The TorchScript exporter traces the eager attention as plain MatMul/Softmax
    ops, which onnxruntime's transformer optimizer recognises and fuses; the
    torch.export graph's attention does not fuse. Kept only when every layer's
    attention fused and the graph's logits match torch's on a padded batch.
    """
    try:
        from onnxruntime.transformers.optimizer import optimize_model

        model = load_hf_model(model_dir, attn_implementation="eager")
    except (ImportError, ValueError, OSError) as exc:
        log.info("onnx: no fused export (%s); using the torch.export exporter", first_line(exc, 120))
        return False
    cfg = model.config
    if cfg.model_type not in FUSABLE or set(input_names) - set(FORWARD_INPUTS):
        log.info("onnx: no fused export for model type %s; using the torch.export exporter", cfg.model_type)
        return False
    names = [k for k in FORWARD_INPUTS if k in input_names]
    feed = _check_batch(cfg.vocab_size)
    with torch.inference_mode():
        # the unmodified model's, to check the graph against
        torch_logits = model(**{k: feed[k] for k in names}).logits.numpy()
    per_token = is_token_classifier(model_dir)
    trimmed = False if per_token else first_token_last_layer(model)  # a token classifier reads every token
    raw = out.with_name(out.name + ".raw")
    try:
        # the TorchScript exporter warns about indexing it handles and about its own deprecation
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out_axes = {0: "batch", 1: "sequence"} if per_token else {0: "batch"}
            axes = {**{k: {0: "batch", 1: "sequence"} for k in names}, "logits": out_axes}
            torch.onnx.export(
                LogitsOnly(model),
                tuple(feed[k][:2, :8] for k in names),
                str(raw),
                input_names=names,
                output_names=["logits"],
                dynamic_axes=axes,
                opset_version=17,
                dynamo=False,
            )
        # every FUSABLE config answers to these names (DistilBERT's n_heads, dim, n_layers through its attribute_map)
        fused = optimize_model(
            str(raw), model_type="bert", num_heads=cfg.num_attention_heads, hidden_size=cfg.hidden_size, opt_level=0
        )
        got = fused.get_fused_operator_statistics().get("Attention", 0)
        if got != cfg.num_hidden_layers - trimmed:
            log.info(
                "onnx: %d of %d attention layers fused; using the torch.export exporter",
                got,
                cfg.num_hidden_layers - trimmed,
            )
            return False
        fused.save_model_to_file(str(out))
        diff = _max_logit_diff(out, {k: feed[k].numpy() for k in names}, torch_logits)
        if not diff < 1e-3:
            log.warning(
                "onnx: the fused graph's logits differ from torch's by %.2g; using the torch.export exporter", diff
            )
            return False
        log.info(
            "onnx: fused export (%d Attention nodes%s; max |logit - torch| %.1g)",
            got,
            ", last layer for the first token only" if trimmed else "",
            diff,
        )
        return True
    except Exception as exc:  # noqa: BLE001 - any exporter or optimizer failure means: use the other exporter
        first = first_line(exc)
        log.info("onnx: fused export failed (%s: %s); using the torch.export exporter", type(exc).__name__, first)
        return False
    finally:
        if raw.exists():
            raw.unlink()


def _check_batch(vocab_size: int) -> dict[str, torch.Tensor]:
    """Three random inputs of 12 tokens, two of them padded: the batch a fused graph must match torch on."""
    rng = torch.Generator().manual_seed(0)
    ids = torch.randint(0, min(vocab_size, 1000), (3, 12), generator=rng)
    mask = torch.ones(3, 12, dtype=torch.long)
    mask[1, 7:] = 0
    mask[2, 3:] = 0
    return {"input_ids": ids, "attention_mask": mask, "token_type_ids": torch.zeros(3, 12, dtype=torch.long)}


def _max_logit_diff(path: Path, feed: dict[str, np.ndarray], reference: np.ndarray) -> float:
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return float(np.abs(session.run(["logits"], feed)[0] - reference).max())


class FirstTokenLayer(torch.nn.Module):
    """A BERT-layout encoder layer computing only the first token's output (see :func:`first_token_last_layer`)."""

    def __init__(self, layer):
        super().__init__()
        self.layer = layer

    def forward(self, hidden_states, attention_mask=None, *args, **kwargs):
        sa = self.layer.attention.self
        b, n, _ = hidden_states.shape
        d = sa.attention_head_size
        q = sa.query(hidden_states[:, :1]).view(b, 1, -1, d).transpose(1, 2)
        k = sa.key(hidden_states).view(b, n, -1, d).transpose(1, 2)
        v = sa.value(hidden_states).view(b, n, -1, d).transpose(1, 2)
        w = torch.matmul(q, k.transpose(2, 3)) * sa.scaling
        if attention_mask is not None:
            m = attention_mask[:, :, :1, :] if attention_mask.dim() == 4 else attention_mask
            if m.dtype == torch.bool:
                m = torch.zeros(m.shape, dtype=w.dtype).masked_fill(~m, torch.finfo(w.dtype).min)
            w = w + m
        ctx = torch.matmul(torch.softmax(w, dim=-1), v).transpose(1, 2).reshape(b, 1, -1)
        return self.layer.feed_forward_chunk(self.layer.attention.output(ctx, hidden_states[:, :1]))


def first_token_last_layer(model) -> bool:
    """Replace a BERT-layout encoder's last layer by one computing only the first token's output;
    False (model untouched) for other layouts.

    Sequence classifiers of the BERT family (BERT's pooler, the RoBERTa and
    ELECTRA heads) read only the first token of the last hidden state, so the
    last layer's other outputs are never used. In the replacement
    (:class:`FirstTokenLayer`), keys and values come from every token, as in
    the full layer; the query, attention output and feed-forward only from the
    first, so its ``(batch, 1, hidden)`` output equals the full layer's first
    row. Eager attention arithmetic, which every ONNX exporter handles. The
    caller checks the logits.
    """
    layers = getattr(getattr(getattr(model, "base_model", None), "encoder", None), "layer", None)
    last = layers[-1] if layers is not None and len(layers) else None
    sa = getattr(getattr(last, "attention", None), "self", None)
    if (
        not all(hasattr(sa, a) for a in ("query", "key", "value", "attention_head_size", "scaling"))
        or not hasattr(last, "feed_forward_chunk")
        or not hasattr(last.attention, "output")
        or getattr(last, "crossattention", None) is not None
    ):
        return False
    layers[-1] = FirstTokenLayer(last)
    return True


def _max_positions(model) -> int:
    return int(getattr(model.config, "max_position_embeddings", 512) or 512)


class LogitsOnly(torch.nn.Module):
    """``model`` with a forward that takes the tokenizer's tensors and returns only the logits (what both
    exporters trace)."""

    def __init__(self, model):
        super().__init__()
        self.model = model
        self.eval()

    def forward(self, input_ids, attention_mask, token_type_ids=None):
        extra = {} if token_type_ids is None else {"token_type_ids": token_type_ids}
        return self.model(input_ids=input_ids, attention_mask=attention_mask, **extra).logits


def quantize_onnx(src: Path, path: Path) -> None:
    """Dynamic int8 quantization by onnxruntime: per-channel int8 weights at full range, activations quantized
    per batch at run time.

    Nodes reading the classification head's weights stay fp32, as in the
    ``int8`` backend. Written atomically.
    """
    require_extra(
        "onnx", "--backend onnx-int8 (to quantize the export)", error=ModelError, modules=("onnx", "onnxruntime")
    )
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    graph = onnx.load(str(src), load_external_data=False).graph
    head = tuple(f"model.{h}." for h in HEAD_MODULES)
    keep_fp32 = [n.name for n in graph.node if any(i.startswith(head) for i in n.input)]
    # the quantizer splits a Gemm into <name>_MatMul + Add first
    keep_fp32 += [f"{n.name}_MatMul" for n in graph.node if n.op_type == "Gemm" and n.name in keep_fp32]
    log.info("onnx-int8: quantizing %s -> %s (once; %d head node(s) kept fp32)", src, path, len(keep_fp32))
    fd, tmp = tempfile.mkstemp(prefix=".model.int8.", suffix=".onnx.tmp", dir=path.parent)
    os.close(fd)
    # onnxruntime's advice for static quantization, logged on the root logger
    quiet = _DropRecords("Please consider to run pre-processing")
    logging.getLogger().addFilter(quiet)
    try:
        # fused contrib ops (Attention, SkipLayerNormalization) defeat shape inference; their tensors are fp32
        extra = {"DefaultTensorType": onnx.TensorProto.FLOAT}
        quantize_dynamic(
            str(src),
            tmp,
            per_channel=True,
            reduce_range=False,
            weight_type=QuantType.QInt8,
            nodes_to_exclude=keep_fp32,
            extra_options=extra,
        )
        share_as_umask_allows(tmp)
        os.replace(tmp, path)
    finally:
        logging.getLogger().removeFilter(quiet)
        if os.path.exists(tmp):
            os.unlink(tmp)


class _DropRecords(logging.Filter):
    def __init__(self, prefix: str):
        super().__init__()
        self.prefix = prefix

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(self.prefix)


# -- static int8: the dynamic graph with every activation scale frozen at its calibrated range ---------------

ONNX_STATIC_FILE = Path("onnx") / "model.int8-static.onnx"
# bump when the static quantization changes; older cached files are then redone
# (1: onnxruntime's dynamic int8 graph, each DynamicQuantizeLinear frozen to a QuantizeLinear at the min/max seen)
STATIC_VERSION = 1
CALIBRATION_INPUTS = 256  # scored one at a time, unpadded: ~3 s for MiniLM-L6 on one thread
CHECK_INPUTS = 512  # held-out inputs on which the static graph is compared with the fp32 export
# The check that --backend auto reads, on the check inputs. Calibration must not cost agreement with fp32: the
# static graph may agree at most MAX_LOSS_VS_DYNAMIC less than onnxruntime's dynamic int8 (no calibration, so
# nothing clipped) on the same inputs. And int8 must suit the model: at least MIN_AGREEMENT. Generated inputs
# hold more near-ties than real ones, so every int8 graph agrees less on them: on the default model, 94.9%
# (static) and 94.5% (dynamic) on generated inputs, 98.2% and 97.9% on its validation examples; 93% admits both
# and stops a model int8 hurts. Macro-F1 (labelled inputs) is recorded, not gated: on ~500 examples a handful
# of flips in a rare class move it by ±0.015
MIN_AGREEMENT = 0.93
MAX_LOSS_VS_DYNAMIC = 0.01
REBATCH_TOLERANCE = 1e-4  # batch-invariant: a probability may move by float rounding, no more


def onnx_int8_static_path(model_dir: Path, input_names: list[str]) -> Path:
    """The cached static int8 graph (``MODEL/onnx/model.int8-static.onnx``), calibrated and checked first when
    missing, older than the dynamic int8 graph it is made from, or made by another version (its sidecar)."""
    src = onnx_int8_path(model_dir, input_names)
    path = Path(model_dir) / ONNX_STATIC_FILE
    if (
        path.is_file()
        and path.stat().st_mtime_ns >= src.stat().st_mtime_ns
        and export_info(path).get("static") == STATIC_VERSION
    ):
        return path
    quantize_static_onnx(Path(model_dir), src, path, input_names)
    return path


def quantize_static_onnx(model_dir: Path, dynamic: Path, path: Path, input_names: list[str]) -> dict:
    """Static int8: onnxruntime's dynamic int8 graph with each activation's scale calibrated once and frozen.

    The dynamic graph quantizes every activation that feeds an int8 matrix
    product with ``DynamicQuantizeLinear``: one scale and zero point per
    tensor, taken from the min and max over the whole padded batch at run
    time, so a passage's label depends on which others share its batch. Here
    each of those nodes becomes a ``QuantizeLinear`` with a constant scale and
    zero point (the same uint8 formula, from the min and max that tensor took
    over :data:`CALIBRATION_INPUTS` inputs scored one at a time): the integer
    kernels (``QAttention``, ``MatMulInteger``) and so the speed stay the same,
    and a passage's output no longer depends on its batch.

    The calibration inputs are the training examples of the dataset the model
    was trained on (``dataset`` in its provenance) when that folder is still
    there, else generated sentences in the model's input format. The result is
    then compared with the fp32 export on held-out inputs (the dataset's
    validation split, with its labels, or other generated sentences); the
    sidecar ``model.int8-static.onnx.json`` records the method, the inputs and
    that check, which ``--backend auto`` reads. Written atomically.

    Returns:
        The sidecar's contents.

    Raises:
        ModelError: the ``[onnx]`` extra is missing.
    """
    require_extra(
        "onnx",
        "--backend onnx-int8-static (to calibrate the int8 graph)",
        error=ModelError,
        modules=("onnx", "onnxruntime"),
    )
    import onnx
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(model_dir))
    max_length = int(_read_label_map(model_dir).get("input", {}).get("max_length", 256))
    data = calibration_inputs(model_dir)
    log.info(
        "onnx-int8-static: calibrating %s on %d inputs (%s) -> %s (once)",
        dynamic,
        len(data["calibrate"]),
        data["source"],
        path,
    )
    model = onnx.load(str(dynamic))
    ranges = activation_ranges(model, tok, data["calibrate"], input_names, max_length)
    freeze_activation_scales(model, ranges)
    fd, tmp = tempfile.mkstemp(prefix=".model.int8-static.", suffix=".onnx.tmp", dir=path.parent)
    os.close(fd)
    try:
        onnx.save(model, tmp)
        share_as_umask_allows(tmp)
        check = compare_with_fp32(
            Path(model_dir) / ONNX_FILE, {"static": Path(tmp), "dynamic": dynamic}, tok, data, input_names, max_length
        )
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    info = {
        "static": STATIC_VERSION,
        "method": "dynamic int8 graph, activation scales frozen at the calibrated "
        "min/max (uint8, per tensor); weights int8 per channel",
        "calibration": {"source": data["source"], "inputs": len(data["calibrate"]), "tensors": len(ranges)},
        "check": check,
    }
    write_json(path.with_name(path.name + ".json"), info)  # after the graph: a crash between costs only a redo
    log.info(
        "onnx-int8-static: argmax agrees with fp32 on %.1f%% of %d %s (dynamic int8: %.1f%%)%s: %s",
        100 * check["agreement"],
        check["inputs"],
        check["source"],
        100 * check["dynamic"]["agreement"],
        f", macro-F1 {check['macro_f1']:.4f} vs {check['macro_f1_fp32']:.4f} for fp32" if "macro_f1" in check else "",
        "passed" if check["passed"] else f"failed: {check['why']}",
    )
    return info


def _read_label_map(model_dir: Path) -> dict:
    from pipeline.contracts import read_label_map

    return read_label_map(model_dir)


def activation_ranges(
    model, tokenizer, pairs: list[tuple[str, str]], input_names: list[str], max_length: int
) -> dict[str, tuple[float, float]]:
    """The (min, max) each ``DynamicQuantizeLinear`` input of ``model`` takes over ``pairs``, scored one at a
    time so that no padding enters the ranges."""
    import onnx
    import onnxruntime as ort

    tensors = list(dict.fromkeys(n.input[0] for n in model.graph.node if n.op_type == "DynamicQuantizeLinear"))
    if not tensors:
        return {}
    probe = onnx.ModelProto()
    probe.CopyFrom(model)
    have = {o.name for o in probe.graph.output}
    probe.graph.output.extend(
        onnx.helper.make_tensor_value_info(t, onnx.TensorProto.FLOAT, None) for t in tensors if t not in have
    )
    session = _session(probe.SerializeToString(), ort)
    lo = np.full(len(tensors), np.inf)
    hi = np.full(len(tensors), -np.inf)
    enc = tokenizer([t for t, _ in pairs], [p for _, p in pairs], truncation=True, max_length=max_length)
    for i in range(len(pairs)):
        values = session.run(tensors, {k: np.asarray([enc[k][i]], dtype=np.int64) for k in input_names})
        lo = np.minimum(lo, [v.min() for v in values])
        hi = np.maximum(hi, [v.max() for v in values])
    return {t: (float(a), float(b)) for t, a, b in zip(tensors, lo, hi)}


def freeze_activation_scales(model, ranges: dict[str, tuple[float, float]]) -> int:
    """Replace each ``DynamicQuantizeLinear`` by a ``QuantizeLinear`` with the scale and zero point it would
    compute on a tensor spanning ``ranges[input]`` (its own formula: the range widened to hold 0, 255 steps);
    the scale and zero-point outputs become constants of the same names. Returns how many were frozen."""
    from onnx import helper, numpy_helper

    nodes, frozen = [], 0
    for n in model.graph.node:
        if n.op_type != "DynamicQuantizeLinear" or n.input[0] not in ranges:
            nodes.append(n)
            continue
        lo, hi = ranges[n.input[0]]
        lo, hi = min(0.0, lo), max(0.0, hi)
        scale = np.float32((hi - lo) / 255.0) if hi > lo else np.float32(1.0)
        zero = np.uint8(np.clip(np.round(-lo / scale), 0, 255))
        model.graph.initializer.extend(
            [
                numpy_helper.from_array(np.array(scale, dtype=np.float32), n.output[1]),
                numpy_helper.from_array(np.array(zero, dtype=np.uint8), n.output[2]),
            ]
        )
        nodes.append(
            helper.make_node(
                "QuantizeLinear", [n.input[0], n.output[1], n.output[2]], [n.output[0]], name=f"{n.name}_static"
            )
        )
        frozen += 1
    del model.graph.node[:]
    model.graph.node.extend(nodes)
    return frozen


def compare_with_fp32(
    fp32: Path, graphs: dict[str, Path], tokenizer, data: dict, input_names: list[str], max_length: int
) -> dict:
    """Argmax agreement (and, with labels, macro-F1) of each of ``graphs`` against the fp32 graph on
    ``data["check"]``, and whether each gives the same outputs when the inputs are batched otherwise (in a
    random order, 7 a batch). The first graph is the one checked (:func:`static_verdict`), the others are
    recorded beside it for comparison."""
    import onnxruntime as ort

    from pipeline.analysis.metrics import classification_metrics, softmax
    from pipeline.contracts import task_view

    pairs = data["check"]
    # each input's logits over its task's labels (a joint model's outputs hold a block per task)
    view = lambda logits: task_view(data.get("label_map", {}), logits, data["tasks"])  # noqa: E731
    ref = view(_logits(_session(str(fp32), ort), tokenizer, pairs, input_names, max_length))
    names = lambda slots: [f"{t}:{int(s)}" for t, s in zip(data["tasks"], slots)]  # noqa: E731
    results = {}
    for key, path in graphs.items():
        got = view(_logits(_session(str(path), ort), tokenizer, pairs, input_names, max_length))
        again = view(_logits(_session(str(path), ort), tokenizer, pairs, input_names, max_length, rows=7, shuffle=0))
        r = {
            "agreement": round(float((ref.argmax(1) == got.argmax(1)).mean()) if len(pairs) else 1.0, 4),
            "max_abs_prob_diff": round(float(np.abs(softmax(ref) - softmax(got)).max()) if len(pairs) else 0.0, 4),
            "rebatch_agreement": round(float((again.argmax(1) == got.argmax(1)).mean()) if len(pairs) else 1.0, 4),
            "rebatch_max_abs_prob_diff": float(np.abs(softmax(again) - softmax(got)).max()) if len(pairs) else 0.0,
        }
        if data.get("gold") is not None:
            r["macro_f1"] = round(classification_metrics(names(data["gold"]), names(got.argmax(1)))["macro_f1"], 4)
        results[key] = r
    first, *others = graphs
    out = {"source": data["check_source"], "inputs": len(pairs), **results[first]}
    if data.get("gold") is not None:
        out["macro_f1_fp32"] = round(classification_metrics(names(data["gold"]), names(ref.argmax(1)))["macro_f1"], 4)
    out.update({k: results[k] for k in others})
    passed, why = static_verdict(out)
    out.update(
        min_agreement=MIN_AGREEMENT,
        max_loss_vs_dynamic=MAX_LOSS_VS_DYNAMIC,
        rebatch_tolerance=REBATCH_TOLERANCE,
        passed=passed,
        why=why,
    )
    return out


def static_verdict(check: dict) -> tuple[bool, str]:
    """Whether a static int8 graph's check (:func:`compare_with_fp32`) passes, and if not, why, in words.

    Passed when its argmax agrees with fp32 on at least :data:`MIN_AGREEMENT`
    of the check inputs and on no less than the dynamic int8 graph's share
    minus :data:`MAX_LOSS_VS_DYNAMIC`, and its probabilities move by at most
    :data:`REBATCH_TOLERANCE` when the inputs are batched otherwise.
    """
    agreement, dynamic = check["agreement"], check.get("dynamic", {}).get("agreement", 0.0)
    if agreement < MIN_AGREEMENT:
        return False, f"argmax agrees with fp32 on {agreement:.1%}, under {MIN_AGREEMENT:.0%}"
    if agreement < dynamic - MAX_LOSS_VS_DYNAMIC:
        return False, (
            f"argmax agrees with fp32 on {agreement:.1%}, more than {MAX_LOSS_VS_DYNAMIC:.0%} under "
            f"dynamic int8's {dynamic:.1%}: calibration cost accuracy"
        )
    if check["rebatch_max_abs_prob_diff"] > REBATCH_TOLERANCE:
        return False, f"probabilities moved by {check['rebatch_max_abs_prob_diff']:.1g} when rebatched"
    return True, ""


def _session(model, ort):
    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts.intra_op_num_threads = max(1, torch.get_num_threads())
    opts.inter_op_num_threads = 1
    return ort.InferenceSession(model, sess_options=opts, providers=["CPUExecutionProvider"])


def _logits(
    session,
    tokenizer,
    pairs: list[tuple[str, str]],
    input_names: list[str],
    max_length: int,
    rows: int = 16,
    tokens: int = 1024,
    shuffle: int | None = None,
) -> np.ndarray:
    """Logits in input order, in length-sorted batches of at most ``rows`` inputs and ``tokens`` padded tokens
    (``shuffle``: batches in a random order of that seed instead, each mixing long and short inputs)."""
    import random

    enc = tokenizer([t for t, _ in pairs], [p for _, p in pairs], truncation=True, max_length=max_length)
    lengths = [len(x) for x in enc["input_ids"]]
    order = sorted(range(len(pairs)), key=lengths.__getitem__)
    if shuffle is not None:
        random.Random(shuffle).shuffle(order)
    out = np.zeros((len(pairs), 0), dtype=np.float32)
    start = 0
    while start < len(order):
        end = min(start + rows, len(order))
        while end - start > 1 and (end - start) * max(lengths[i] for i in order[start:end]) > tokens:
            end -= 1
        idx = order[start:end]
        batch = tokenizer.pad({k: [enc[k][i] for i in idx] for k in input_names}, return_tensors="np")
        logits = session.run(["logits"], {k: np.asarray(batch[k], dtype=np.int64) for k in input_names})[0]
        if out.shape[1] != logits.shape[1]:
            out = np.zeros((len(pairs), logits.shape[1]), dtype=np.float32)
        out[idx] = logits
        start = end
    return out


def calibration_inputs(model_dir: Path, calibrate: int = CALIBRATION_INPUTS, check: int = CHECK_INPUTS) -> dict:
    """(text, text_pair) inputs to calibrate and to check a static int8 graph on.

    From the dataset the model was trained on (its provenance names the
    folder): a fixed random sample of the training examples to calibrate on,
    and of the validation examples, with their labels, to check on. When that
    folder is gone (a model copied elsewhere), generated sentences in the
    model's input format (:func:`generated_inputs`), other ones for the check.

    Returns:
        ``{"calibrate": [...], "check": [...], "source": str, "check_source": str,
        "gold": slots or None, "tasks": tasks or None}``.
    """
    from pipeline.contracts import example_input, read_provenance
    from pipeline.labels import JOINT

    label_map = _read_label_map(model_dir)
    tasks = list(label_map["tasks"])
    dataset = read_provenance(model_dir).get("dataset")
    examples = _dataset_examples(dataset, tasks, calibrate, check) if dataset else None
    if examples is not None:
        train, held = examples
        as_input = lambda split: [  # noqa: E731
            example_input(label_map, t, p, task) for t, p, task in zip(split["text"], split["text_pair"], split["task"])
        ]
        return {
            "calibrate": as_input(train),
            "check": as_input(held),
            "gold": [int(x) for x in held["slot"]],
            "tasks": list(held["task"]),
            "label_map": label_map,
            "source": f"training examples of {dataset}",
            "check_source": f"validation examples of {dataset}",
        }
    context = bool(label_map.get("input", {}).get("context_sentences", 0))
    asked = [JOINT] if label_map.get("joint") else tasks
    return {
        "calibrate": generated_inputs(asked, calibrate, seed=0, context=context),
        "check": generated_inputs(asked, check, seed=1, context=context),
        "gold": None,
        "tasks": None,
        "label_map": label_map,
        "source": "generated sentences",
        "check_source": "generated inputs",
    }


def _dataset_examples(dataset: str, tasks: list[str], calibrate: int, check: int):
    """A fixed random sample of ``calibrate`` training and ``check`` held-out (validation, else test) examples
    of the model's tasks from a built dataset folder; None when it is unreadable or lacks those splits."""
    import random

    try:
        from datasets import load_from_disk

        dd = load_from_disk(str(Path(dataset) / "examples"))
    except Exception as exc:  # noqa: BLE001 - a moved, deleted or foreign folder: fall back to generated inputs
        log.info(
            "onnx-int8-static: dataset %s unreadable (%s); calibrating on generated sentences",
            dataset,
            type(exc).__name__,
        )
        return None
    held = next((s for s in ("validation", "test") if s in dd), None)
    if "train" not in dd or held is None:
        return None
    rng = random.Random(0)

    def sample(split: str, n: int):
        rows = [i for i, t in enumerate(dd[split]["task"]) if t in tasks]
        return dd[split].select(sorted(rng.sample(rows, min(n, len(rows)))))

    train, held = sample("train", calibrate), sample(held, check)
    return (train, held) if len(train) and len(held) else None


_ACTORS = (
    "union",
    "company",
    "ministry",
    "council",
    "regulator",
    "club",
    "drivers",
    "port authority",
    "government",
    "opposition",
    "embassy",
    "contractor",
    "committee",
    "mayor",
    "league",
    "suppliers",
)
_VERBS = (
    "blamed",
    "accused",
    "praised",
    "criticised",
    "defended",
    "contradicted",
    "thanked",
    "sued",
    "warned",
    "questioned",
    "rejected the offer from",
    "agreed with",
    "denied the account of",
    "met",
)
_TAILS = (
    "for the collapse of the talks",
    "over the delayed payments",
    "after the vote on Tuesday",
    "of misleading the public about the figures",
    "in a statement issued late on Friday",
    "despite the report published last week",
    "and said the numbers did not add up",
    "while the inquiry was still under way",
    "at a press conference outside the building",
    "saying the 4.5% offer was final",
    "and called the claim \u201centirely false\u201d",
    "",
)
_SOURCES = ("[author]", "[this side]", "[other side]", "[third party]")


def generated_inputs(tasks: list[str], n: int, seed: int = 0, context: bool = False) -> list[tuple[str, str]]:
    """``n`` generated (text, text_pair) inputs in the model's input format (source tag, ``<< >>`` around the
    side asked about, ``[[ ]]`` around the other, the task's pair text): calibration data for a model whose
    training data is not at hand. Deterministic for a seed."""
    import random

    from pipeline.labels import OTHER_CLOSE, OTHER_OPEN, TARGET_CLOSE, TARGET_OPEN, task_prompt

    rng = random.Random(seed)

    def sentence() -> str:
        a, b = rng.sample(_ACTORS, 2)
        a, b = f"{TARGET_OPEN} {a} {TARGET_CLOSE}", f"{OTHER_OPEN} {b} {OTHER_CLOSE}"
        if rng.random() < 0.5:
            a, b = b, a
        return f"The {a} {rng.choice(_VERBS)} the {b} {rng.choice(_TAILS)}".rstrip() + "."

    out = []
    for _ in range(n):
        text = " ".join(sentence() for _ in range(rng.choice((1, 1, 2, 3))))
        pair = f"{task_prompt(rng.choice(tasks))} toward the side marked {TARGET_OPEN} {TARGET_CLOSE}"
        if context and rng.random() < 0.7:
            pair += f" | before: {sentence()}"
        out.append((f"{rng.choice(_SOURCES)} {text}", pair))
    return out
