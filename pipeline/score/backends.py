"""Inference backends: one padded batch of token ids in, raw logits out.

:class:`~pipeline.score.predictor.Predictor` owns tokenizing, length-sorting,
padding and calibration; a backend only runs the forward pass, so every
backend returns logits in the same order and shape.

- ``torch``: the saved model in fp32 (on the GPU when there is one).
- ``bf16``: the same model under ``torch.autocast`` to bfloat16 (matrix
  products in bf16, softmax and LayerNorm in fp32), on hardware that
  multiplies bf16 natively (GPUs; CPUs with AVX512-BF16 or AMX).
- ``int8``: the same model with its encoder Linear layers dynamically quantized
  to int8 with per-channel weight scales (CPU). Per-tensor weight scales cost
  accuracy on this model; per-channel keeps argmax agreement with fp32. The
  3-way classification head stays fp32: it is negligible compute and feeds the
  logits directly.
- ``onnx``: the model exported once to ONNX (dynamic batch and sequence
  axes), cached at ``MODEL/onnx/model.onnx``, and run with onnxruntime on the
  CPU. BERT-family encoders are exported with eager attention by the
  TorchScript exporter and passed through onnxruntime's transformer optimizer,
  which fuses each layer's attention into one ``Attention`` node (and the
  embeddings, skip-LayerNorms and bias-GELUs into theirs). The classification
  head reads only the first token's final state, so the last layer is
  exported for that token alone (keys and values over every token, the query,
  attention output and feed-forward for the first: about a sixth of the
  last layer's work). The graph is kept only when every other layer fused and
  its logits match the unmodified torch model's. Any other model, or a failed
  check, falls back to the torch.export-based exporter of the whole model.
- ``onnx-int8``: that export quantized once by onnxruntime's own dynamic int8
  quantization (``quantize_dynamic``, per-channel int8 weights, full range;
  the classification head left in fp32), cached at
  ``MODEL/onnx/model.int8.onnx``, run with onnxruntime on the CPU. On a fused
  export the attention becomes ``QAttention``. On the default model it is the
  fastest CPU path (see the README's scoring-speed table).

A plain dict maps names to classes (``BACKENDS``); there is no plugin registry.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import warnings
from pathlib import Path

import numpy as np

from pipeline.errors import ModelError

log = logging.getLogger(__name__)

ONNX_FILE = Path("onnx") / "model.onnx"
ONNX_INT8_FILE = Path("onnx") / "model.int8.onnx"
EXPORTER_VERSION = 3  # bump when the export changes; older cached exports are then redone (1: torch.export only; 2: fused BERT attention; 3: + first-token-only last layer)
WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin", "config.json")
# int8 kernels run fastest on small activation blocks: capping a batch at 1,024 padded tokens (about 13
# inputs of 80 tokens) beat 64 rows by ~15% for int8 and onnx-int8 on 2 cores. CPU-only backends, so
# the cap is theirs alone: fp32 gained less (~7%) and runs on a GPU when there is one, where bigger
# batches win; bf16 lost (the README's scoring-speed section)
INT8_BATCH_TOKENS = 1024


def _threads() -> int:
    import torch

    return max(1, torch.get_num_threads())


def _load_hf_model(model_dir: Path, **kwargs):
    from transformers import AutoModelForSequenceClassification

    model = AutoModelForSequenceClassification.from_pretrained(str(model_dir), **kwargs)
    model.eval()
    return model


class TorchBackend:
    """fp32 PyTorch forward pass, under ``torch.inference_mode()``."""

    name = "torch"
    batch_tokens: int | None = None  # the Predictor's default cap on padded tokens per batch (None: rows only)

    def __init__(self, model_dir: Path, input_names: list[str]):
        import torch

        self.input_names = input_names
        self.model = _load_hf_model(model_dir)
        self.device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
        self.model.to(self.device)

    def __call__(self, batch: dict[str, np.ndarray]) -> np.ndarray:
        import torch

        with torch.inference_mode():
            feed = {k: torch.from_numpy(batch[k]).to(self.device) for k in self.input_names}
            return self.model(**feed).logits.float().cpu().numpy()


class Int8Backend(TorchBackend):
    """Dynamic int8 quantization of the encoder's Linear layers, per-channel weight scales (CPU)."""

    name = "int8"
    batch_tokens = INT8_BATCH_TOKENS

    def __init__(self, model_dir: Path, input_names: list[str]):
        import torch
        from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

        self.input_names = input_names
        model = _load_hf_model(model_dir)
        head = _head_prefixes(model)
        spec = {name: per_channel_dynamic_qconfig for name, m in model.named_modules() if isinstance(m, torch.nn.Linear) and not name.startswith(head)}
        if not spec:
            raise ModelError(f"{model_dir}: no Linear layers to quantize for --backend int8; use --backend torch")
        with warnings.catch_warnings():  # torch.ao quantized tensors are deprecated in favour of torchao, still supported in 2.13
            warnings.simplefilter("ignore", UserWarning)
            warnings.simplefilter("ignore", DeprecationWarning)
            self.model = quantize_dynamic(model, spec, dtype=torch.qint8)
        self.device = torch.device("cpu")
        log.info("int8: quantized %d Linear layers (per-channel weights), head kept fp32", len(spec))


class Bf16Backend(TorchBackend):
    """The fp32 weights run under ``torch.autocast`` to bfloat16: matrix products in bf16, softmax and LayerNorm in fp32.

    Only where the hardware multiplies bf16 natively (a GPU, or a CPU with
    AVX512-BF16 or AMX); elsewhere bf16 is emulated and slower than fp32, so
    the backend refuses. The Linear weights are cast to bf16 once; batches
    are padded to a few shapes (:func:`_pad_shape`) so memory does not grow
    with every new batch shape on long runs.
    """

    name = "bf16"

    def __init__(self, model_dir: Path, input_names: list[str]):
        import torch

        super().__init__(model_dir, input_names)
        if self.device.type == "cpu" and not _cpu_has_bf16():
            raise ModelError("--backend bf16 needs a GPU or a CPU with native bfloat16 (AVX512-BF16 or AMX); this CPU has neither, use --backend int8 or torch")
        self.dtype = torch.bfloat16
        for m in self.model.modules():  # cast the Linear weights once, not on every call under autocast
            if isinstance(m, torch.nn.Linear):
                m.to(self.dtype)

    def __call__(self, batch: dict[str, np.ndarray]) -> np.ndarray:
        import torch

        n = len(batch[self.input_names[0]])
        with torch.inference_mode(), torch.autocast(self.device.type, dtype=self.dtype):
            feed = {k: torch.from_numpy(_pad_shape(batch[k])).to(self.device) for k in self.input_names}
            return self.model(**feed).logits.float().cpu().numpy()[:n]


def _pad_shape(a: np.ndarray, rows: int = 8, cols: int = 16) -> np.ndarray:
    """Pad a (batch, sequence) array with zeros to a multiple of ``rows`` x ``cols``.

    oneDNN keeps a JIT kernel and cached primitives for every matrix shape it
    sees, so scoring batches of ever-new shapes in bf16 grows memory for as
    long as new shapes come (+17.6 MB/min over 10,000 articles); rounding
    bounds them (80 shapes for batches of up to 64 passages of up to 160
    tokens). The padding is masked (attention mask 0) and the padded rows are
    dropped, so outputs do not change.
    """
    r, c = a.shape
    pr, pc = -r % rows, -c % cols
    return np.pad(a, ((0, pr), (0, pc))) if pr or pc else a


def _cpu_has_bf16() -> bool:
    import torch

    checks = [getattr(torch.cpu, n, None) for n in ("_is_avx512_bf16_supported", "_is_amx_tile_supported")]
    return any(c() for c in checks if c is not None)


def _head_prefixes(model) -> tuple[str, ...]:
    """Names of the classification head modules, kept in fp32."""
    return tuple(n for n in ("classifier", "score", "pre_classifier") if hasattr(model, n)) or ("classifier",)


class OnnxBackend:
    """onnxruntime on the CPU over a cached export of the model (``MODEL/onnx/model.onnx``)."""

    name = "onnx"
    batch_tokens: int | None = None

    def __init__(self, model_dir: Path, input_names: list[str]):
        try:
            import onnxruntime as ort
        except ImportError:
            raise ModelError(f"--backend {self.name} needs onnxruntime, onnx and onnxscript; install with pip install onnxruntime onnx onnxscript") from None
        self.input_names = input_names
        path = self.model_path(Path(model_dir), input_names)
        opts = ort.SessionOptions()
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        opts.intra_op_num_threads = _threads()
        opts.inter_op_num_threads = 1
        self.session = ort.InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"])
        have = {i.name for i in self.session.get_inputs()}
        if have != set(input_names):
            raise ModelError(f"{path}: ONNX inputs {sorted(have)} do not match the tokenizer's {sorted(input_names)}; delete {path.parent} to re-export")

    @staticmethod
    def model_path(model_dir: Path, input_names: list[str]) -> Path:
        return onnx_path(model_dir, input_names)

    def __call__(self, batch: dict[str, np.ndarray]) -> np.ndarray:
        feed = {k: np.ascontiguousarray(batch[k], dtype=np.int64) for k in self.input_names}
        return np.asarray(self.session.run(["logits"], feed)[0], dtype=np.float32)


class OnnxInt8Backend(OnnxBackend):
    """onnxruntime over the export quantized by onnxruntime (``MODEL/onnx/model.int8.onnx``)."""

    name = "onnx-int8"
    batch_tokens = INT8_BATCH_TOKENS

    @staticmethod
    def model_path(model_dir: Path, input_names: list[str]) -> Path:
        return onnx_int8_path(model_dir, input_names)


def onnx_int8_path(model_dir: Path, input_names: list[str]) -> Path:
    """The cached int8 quantization of the ONNX export, made first when missing or older than the export."""
    src = onnx_path(model_dir, input_names)
    path = Path(model_dir) / ONNX_INT8_FILE
    if path.is_file() and path.stat().st_mtime_ns >= src.stat().st_mtime_ns:
        return path
    quantize_onnx(src, path)
    return path


def quantize_onnx(src: Path, path: Path) -> None:
    """Dynamic int8 quantization by onnxruntime: per-channel int8 weights at full range, activations quantized per batch at run time.

    Nodes reading the classification head's weights stay fp32, as in the
    ``int8`` backend. Written atomically.
    """
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    graph = onnx.load(str(src), load_external_data=False).graph
    head = tuple(f"model.{h}." for h in ("classifier", "score", "pre_classifier"))
    keep_fp32 = [n.name for n in graph.node if any(i.startswith(head) for i in n.input)]
    keep_fp32 += [f"{n.name}_MatMul" for n in graph.node if n.op_type == "Gemm" and n.name in keep_fp32]  # the quantizer splits a Gemm into <name>_MatMul + Add first
    log.info("onnx-int8: quantizing %s -> %s (once; %d head node(s) kept fp32)", src, path, len(keep_fp32))
    fd, tmp = tempfile.mkstemp(prefix=".model.int8.", suffix=".onnx.tmp", dir=path.parent)
    os.close(fd)
    quiet = _DropRecords("Please consider to run pre-processing")  # onnxruntime's advice for static quantization, on the root logger
    logging.getLogger().addFilter(quiet)
    try:
        # fused contrib ops (Attention, SkipLayerNormalization) defeat shape inference; their tensors are fp32
        extra = {"DefaultTensorType": onnx.TensorProto.FLOAT}
        quantize_dynamic(str(src), tmp, per_channel=True, reduce_range=False, weight_type=QuantType.QInt8, nodes_to_exclude=keep_fp32, extra_options=extra)
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


def onnx_path(model_dir: Path, input_names: list[str]) -> Path:
    """The cached ONNX export of ``model_dir``, exported first when missing, older
    than the weights, or written by another version of the exporter (``model.onnx.json``)."""
    path = Path(model_dir) / ONNX_FILE
    weights = [Path(model_dir) / f for f in WEIGHT_FILES if (Path(model_dir) / f).is_file()]
    newest = max((w.stat().st_mtime_ns for w in weights), default=0)
    if path.is_file() and path.stat().st_mtime_ns >= newest and _export_info(path).get("exporter") == EXPORTER_VERSION:
        log.debug("onnx: reusing %s", path)
        return path
    export_onnx(Path(model_dir), path, input_names)
    return path


def _export_info(path: Path) -> dict:
    try:
        return json.loads(path.with_name(path.name + ".json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def export_onnx(model_dir: Path, path: Path, input_names: list[str]) -> None:
    """Export the model's logits with dynamic batch and sequence axes; written atomically.

    The fused export (:func:`_export_fused`) is tried first; when it does not
    apply or fails its checks, the torch.export-based exporter writes an
    unfused graph.
    """
    import torch

    try:
        import onnx  # noqa: F401
        import onnxscript  # noqa: F401
    except ImportError:
        raise ModelError("--backend onnx needs onnx and onnxscript to export the model; install with pip install onnx onnxscript onnxruntime") from None
    log.info("onnx: exporting %s -> %s (once; reused while newer than the weights)", model_dir, path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".model.", suffix=".onnx.tmp", dir=path.parent)
        os.close(fd)
    except OSError as exc:
        raise ModelError(f"{path.parent}: cannot write the ONNX export ({exc.strerror}); copy the model folder somewhere writable or use --backend torch") from None
    try:
        fused = _export_fused(model_dir, Path(tmp), input_names)
        if not fused:
            model = _load_hf_model(model_dir)
            example = {k: torch.ones(2, 8, dtype=torch.long) if k != "token_type_ids" else torch.zeros(2, 8, dtype=torch.long) for k in input_names}
            batch, seq = torch.export.Dim("batch", min=1, max=65536), torch.export.Dim("sequence", min=1, max=_max_positions(model))
            shapes = {k: {0: batch, 1: seq} for k in input_names}
            program = torch.onnx.export(_logits_module(model), (), kwargs=example, input_names=input_names, output_names=["logits"], dynamic_shapes=shapes, dynamo=True, external_data=False, verbose=False)
            program.save(tmp, external_data=False)
        os.replace(tmp, path)
        info = path.with_name(path.name + ".json")  # written after the graph: a crash between the two only costs a re-export
        info.write_text(json.dumps({"exporter": EXPORTER_VERSION, "fused": fused}) + "\n", encoding="utf-8")
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


FUSABLE = ("bert", "roberta", "xlm-roberta", "distilbert", "electra", "camembert")
FORWARD_INPUTS = ("input_ids", "attention_mask", "token_type_ids")  # _logits_module's positional order


def _export_fused(model_dir: Path, out: Path, input_names: list[str]) -> bool:
    """Write a fused export of a BERT-family model to ``out``; False (nothing kept) when it does not apply.

    The TorchScript exporter traces the eager attention as plain MatMul/Softmax
    ops, which onnxruntime's transformer optimizer recognises and fuses; the
    torch.export graph's attention does not fuse. Kept only when every layer's
    attention fused and the graph's logits match torch's on a padded batch.
    """
    import torch

    try:
        from onnxruntime.transformers.optimizer import optimize_model

        model = _load_hf_model(model_dir, attn_implementation="eager")
    except (ImportError, ValueError, OSError) as exc:
        log.info("onnx: no fused export (%s); using the torch.export exporter", str(exc).splitlines()[0][:120])
        return False
    cfg = model.config
    if cfg.model_type not in FUSABLE or set(input_names) - set(FORWARD_INPUTS):
        log.info("onnx: no fused export for model type %s; using the torch.export exporter", cfg.model_type)
        return False
    names = [k for k in FORWARD_INPUTS if k in input_names]
    rng = torch.Generator().manual_seed(0)
    ids = torch.randint(0, min(cfg.vocab_size, 1000), (3, 12), generator=rng)
    mask = torch.ones(3, 12, dtype=torch.long)
    mask[1, 7:] = 0
    mask[2, 3:] = 0
    feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": torch.zeros(3, 12, dtype=torch.long)}
    with torch.inference_mode():
        torch_logits = model(**{k: feed[k] for k in names}).logits.numpy()  # the unmodified model's, to check the graph against
    trimmed = _first_token_last_layer(model)
    raw = out.with_name(out.name + ".raw")
    try:
        with warnings.catch_warnings():  # the TorchScript exporter warns about indexing it handles and its own deprecation
            warnings.simplefilter("ignore")
            torch.onnx.export(_logits_module(model), tuple(feed[k][:2, :8] for k in names), str(raw), input_names=names, output_names=["logits"],
                              dynamic_axes={**{k: {0: "batch", 1: "sequence"} for k in names}, "logits": {0: "batch"}}, opset_version=17, dynamo=False)
        # every FUSABLE config answers to these names (DistilBERT's n_heads, dim, n_layers through its attribute_map)
        fused = optimize_model(str(raw), model_type="bert", num_heads=cfg.num_attention_heads, hidden_size=cfg.hidden_size, opt_level=0)
        got = fused.get_fused_operator_statistics().get("Attention", 0)
        if got != cfg.num_hidden_layers - trimmed:
            log.info("onnx: %d of %d attention layers fused; using the torch.export exporter", got, cfg.num_hidden_layers - trimmed)
            return False
        fused.save_model_to_file(str(out))
        import onnxruntime as ort

        session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
        onnx_logits = session.run(["logits"], {k: feed[k].numpy() for k in names})[0]
        diff = float(np.abs(onnx_logits - torch_logits).max())
        if not diff < 1e-3:
            log.warning("onnx: the fused graph's logits differ from torch's by %.2g; using the torch.export exporter", diff)
            return False
        log.info("onnx: fused export (%d Attention nodes%s; max |logit - torch| %.1g)", got, ", last layer for the first token only" if trimmed else "", diff)
        return True
    except Exception as exc:  # noqa: BLE001 - any exporter or optimizer failure means: use the other exporter
        log.info("onnx: fused export failed (%s: %s); using the torch.export exporter", type(exc).__name__, str(exc).splitlines()[0][:160] if str(exc) else "")
        return False
    finally:
        if raw.exists():
            raw.unlink()


def _first_token_last_layer(model) -> bool:
    """Replace a BERT-layout encoder's last layer by one computing only the first token's output; False (model untouched) for other layouts.

    Sequence classifiers of the BERT family (BERT's pooler, the RoBERTa and
    ELECTRA heads) read only the first token of the last hidden state, so the
    last layer's other outputs are never used. In the replacement, keys and
    values come from every token, as in the full layer; the query, attention
    output and feed-forward only from the first, so its ``(batch, 1, hidden)``
    output equals the full layer's first row. Eager attention arithmetic,
    which every ONNX exporter handles. The caller checks the logits.
    """
    import torch

    layers = getattr(getattr(getattr(model, "base_model", None), "encoder", None), "layer", None)
    last = layers[-1] if layers is not None and len(layers) else None
    sa = getattr(getattr(last, "attention", None), "self", None)
    if not all(hasattr(sa, a) for a in ("query", "key", "value", "attention_head_size", "scaling")) or not hasattr(last, "feed_forward_chunk") \
            or not hasattr(last.attention, "output") or getattr(last, "crossattention", None) is not None:
        return False

    class FirstTokenLayer(torch.nn.Module):
        def __init__(self, layer):
            super().__init__()
            self.layer = layer

        def forward(self, hidden_states, attention_mask=None, *args, **kwargs):
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

    layers[-1] = FirstTokenLayer(last)
    return True


def _max_positions(model) -> int:
    return int(getattr(model.config, "max_position_embeddings", 512) or 512)


def _logits_module(model):
    """An ``nn.Module`` over ``model`` whose forward takes the tokenizer's tensors and returns only the logits."""
    import torch

    class LogitsOnly(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, token_type_ids=None):
            extra = {} if token_type_ids is None else {"token_type_ids": token_type_ids}
            return self.model(input_ids=input_ids, attention_mask=attention_mask, **extra).logits

    return LogitsOnly().eval()


BACKENDS = {"torch": TorchBackend, "bf16": Bf16Backend, "int8": Int8Backend, "onnx": OnnxBackend, "onnx-int8": OnnxInt8Backend}


def get_backend(name: str, model_dir: Path, input_names: list[str]):
    """Instantiate the backend called ``name``.

    Raises:
        ModelError: ``name`` is not one of ``BACKENDS``.
    """
    if name not in BACKENDS:
        raise ModelError(f"unknown backend {name!r}; expected one of {', '.join(BACKENDS)} (e.g. --backend torch)")
    return BACKENDS[name](Path(model_dir), input_names)
