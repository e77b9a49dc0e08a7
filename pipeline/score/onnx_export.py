"""The ONNX export behind the ``onnx`` and ``onnx-int8`` backends: export, fusion, graph surgery, int8 quantization.

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

from pipeline.errors import ModelError
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


def load_hf_model(model_dir: Path, **kwargs):
    """The saved sequence classifier in eval mode (the torch backends run it; the exporter exports it)."""
    from transformers import AutoModelForSequenceClassification

    model = AutoModelForSequenceClassification.from_pretrained(str(model_dir), **kwargs)
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
        raise ModelError(f"{path.parent}: cannot write the ONNX export ({exc.strerror}); "
                         "copy the model folder somewhere writable or use --backend torch") from None
    try:
        fused = export_fused(model_dir, Path(tmp), input_names)
        if not fused:
            _export_unfused(model_dir, Path(tmp), input_names)
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
    example = {k: torch.ones(2, 8, dtype=torch.long) if k != "token_type_ids" else torch.zeros(2, 8, dtype=torch.long)
               for k in input_names}
    batch = torch.export.Dim("batch", min=1, max=65536)
    seq = torch.export.Dim("sequence", min=1, max=_max_positions(model))
    shapes = {k: {0: batch, 1: seq} for k in input_names}
    program = torch.onnx.export(LogitsOnly(model), (), kwargs=example, input_names=input_names, output_names=["logits"],
                                dynamic_shapes=shapes, dynamo=True, external_data=False, verbose=False)
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
        log.info("onnx: no fused export (%s); using the torch.export exporter", str(exc).splitlines()[0][:120])
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
    trimmed = first_token_last_layer(model)
    raw = out.with_name(out.name + ".raw")
    try:
        # the TorchScript exporter warns about indexing it handles and about its own deprecation
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            axes = {**{k: {0: "batch", 1: "sequence"} for k in names}, "logits": {0: "batch"}}
            torch.onnx.export(LogitsOnly(model), tuple(feed[k][:2, :8] for k in names), str(raw), input_names=names,
                              output_names=["logits"], dynamic_axes=axes, opset_version=17, dynamo=False)
        # every FUSABLE config answers to these names (DistilBERT's n_heads, dim, n_layers through its attribute_map)
        fused = optimize_model(str(raw), model_type="bert", num_heads=cfg.num_attention_heads,
                               hidden_size=cfg.hidden_size, opt_level=0)
        got = fused.get_fused_operator_statistics().get("Attention", 0)
        if got != cfg.num_hidden_layers - trimmed:
            log.info("onnx: %d of %d attention layers fused; using the torch.export exporter", got,
                     cfg.num_hidden_layers - trimmed)
            return False
        fused.save_model_to_file(str(out))
        diff = _max_logit_diff(out, {k: feed[k].numpy() for k in names}, torch_logits)
        if not diff < 1e-3:
            log.warning("onnx: the fused graph's logits differ from torch's by %.2g; using the torch.export exporter",
                        diff)
            return False
        log.info("onnx: fused export (%d Attention nodes%s; max |logit - torch| %.1g)", got,
                 ", last layer for the first token only" if trimmed else "", diff)
        return True
    except Exception as exc:  # noqa: BLE001 - any exporter or optimizer failure means: use the other exporter
        first = str(exc).splitlines()[0][:160] if str(exc) else ""
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
    if not all(hasattr(sa, a) for a in ("query", "key", "value", "attention_head_size", "scaling")) \
            or not hasattr(last, "feed_forward_chunk") or not hasattr(last.attention, "output") \
            or getattr(last, "crossattention", None) is not None:
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
    require_extra("onnx", "--backend onnx-int8 (to quantize the export)", error=ModelError,
                  modules=("onnx", "onnxruntime"))
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
        quantize_dynamic(str(src), tmp, per_channel=True, reduce_range=False, weight_type=QuantType.QInt8,
                         nodes_to_exclude=keep_fp32, extra_options=extra)
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
