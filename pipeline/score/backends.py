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
- ``onnx``: the model exported once to ONNX (fused attention on BERT-family
  encoders; see :mod:`pipeline.score.onnx_export`), cached at
  ``MODEL/onnx/model.onnx``, run with onnxruntime on the CPU.
- ``onnx-int8``: that export quantized once by onnxruntime's dynamic int8
  quantization (the classification head left in fp32), cached at
  ``MODEL/onnx/model.int8.onnx``, run with onnxruntime on the CPU. The
  fastest CPU path with ``onnx-int8-static``, but not batch-invariant.
- ``onnx-int8-static``: the same int8 graph with each activation's scale
  calibrated once and frozen (:func:`pipeline.score.onnx_export.quantize_static_onnx`),
  cached at ``MODEL/onnx/model.int8-static.onnx``: the same kernels and speed,
  and batch-invariant.
- ``auto`` (the default of ``stance score``): the fastest batch-invariant one
  for the machine it runs on (:func:`resolve_backend`), logged with its reason.

Batch-invariant (``batch_invariant``): a passage gets the same label, and
probabilities equal to float rounding, whichever other passages share its
batch. fp32, bf16 and static int8 are; ``int8`` and ``onnx-int8`` are not:
dynamic quantization takes one activation scale over the whole padded
batch, so a few labels in a hundred change when the same passages are
batched differently (docs/scoring-speed-and-memory.md).

The onnx backends need the ``[onnx]`` extra; without it they fail with a
one-line :class:`~pipeline.errors.ModelError` naming it.

A plain dict maps names to classes (``BACKENDS``); there is no plugin registry.
"""

from __future__ import annotations

import difflib
import logging
import warnings
from pathlib import Path

import numpy as np

from pipeline.errors import ModelError, first_line
from pipeline.score.extras import EXTRAS, require_extra

log = logging.getLogger(__name__)

# int8 kernels run fastest on small activation blocks: capping a batch at 1,024 padded tokens (about 13
# inputs of 80 tokens) beat 64 rows by ~15% for int8 and onnx-int8 on 2 cores. CPU-only backends, so
# the cap is theirs alone: fp32 gained less (~7%) and runs on a GPU when there is one, where bigger
# batches win; bf16 lost (the README's scoring-speed section)
INT8_BATCH_TOKENS = 1024


def _threads() -> int:
    import torch

    return max(1, torch.get_num_threads())


def _load_hf_model(model_dir: Path, **kwargs):
    # the exporter loads the same model; it owns the loader so that it need not import the backends
    from pipeline.score.onnx_export import load_hf_model

    return load_hf_model(model_dir, **kwargs)


class TorchBackend:
    """fp32 PyTorch forward pass, under ``torch.inference_mode()``."""

    name = "torch"
    batch_tokens: int | None = None  # the Predictor's default cap on padded tokens per batch (None: rows only)
    batch_invariant = True  # a passage's output does not depend on the others in its batch (module docstring)

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
    batch_invariant = False  # activations quantized with one scale per batch tensor

    def __init__(self, model_dir: Path, input_names: list[str]):
        import torch
        from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

        self.input_names = input_names
        model = _load_hf_model(model_dir)
        head = _head_prefixes(model)
        spec = {
            name: per_channel_dynamic_qconfig
            for name, m in model.named_modules()
            if isinstance(m, torch.nn.Linear) and not name.startswith(head)
        }
        if not spec:
            raise ModelError(f"{model_dir}: no Linear layers to quantize for --backend int8; use --backend torch")
        # torch.ao quantized tensors are deprecated in favour of torchao, still supported in 2.13
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            warnings.simplefilter("ignore", DeprecationWarning)
            self.model = quantize_dynamic(model, spec, dtype=torch.qint8)
        self.device = torch.device("cpu")
        log.info("int8: quantized %d Linear layers (per-channel weights), head kept fp32", len(spec))


class Bf16Backend(TorchBackend):
    """The fp32 weights run under ``torch.autocast`` to bfloat16: matrix products in bf16, softmax and
    LayerNorm in fp32.

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
            raise ModelError(
                "--backend bf16 needs a GPU or a CPU with native bfloat16 (AVX512-BF16 or AMX); "
                "this CPU has neither, use --backend int8 or torch"
            )
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
    batch_invariant = True

    def __init__(self, model_dir: Path, input_names: list[str]):
        require_extra("onnx", f"--backend {self.name}", error=ModelError)
        import onnxruntime as ort

        self.input_names = input_names
        path = self.model_path(Path(model_dir), input_names)
        opts = ort.SessionOptions()
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        opts.intra_op_num_threads = _threads()
        opts.inter_op_num_threads = 1
        self.session = ort.InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"])
        have = {i.name for i in self.session.get_inputs()}
        if have != set(input_names):
            raise ModelError(
                f"{path}: ONNX inputs {sorted(have)} do not match the tokenizer's {sorted(input_names)}; "
                f"delete {path.parent} to re-export"
            )

    @staticmethod
    def model_path(model_dir: Path, input_names: list[str]) -> Path:
        """The cached export this backend runs, made first when missing or stale."""
        from pipeline.score.onnx_export import onnx_path

        return onnx_path(model_dir, input_names)

    def __call__(self, batch: dict[str, np.ndarray]) -> np.ndarray:
        feed = {k: np.ascontiguousarray(batch[k], dtype=np.int64) for k in self.input_names}
        return np.asarray(self.session.run(["logits"], feed)[0], dtype=np.float32)


class OnnxInt8Backend(OnnxBackend):
    """onnxruntime over the export quantized by onnxruntime (``MODEL/onnx/model.int8.onnx``)."""

    name = "onnx-int8"
    batch_tokens = INT8_BATCH_TOKENS
    batch_invariant = False  # DynamicQuantizeLinear: one activation scale per batch tensor

    @staticmethod
    def model_path(model_dir: Path, input_names: list[str]) -> Path:
        """The cached int8 export this backend runs, made first when missing or stale."""
        from pipeline.score.onnx_export import onnx_int8_path

        return onnx_int8_path(model_dir, input_names)


class OnnxInt8StaticBackend(OnnxBackend):
    """onnxruntime over the int8 graph with calibrated, frozen activation scales
    (``MODEL/onnx/model.int8-static.onnx``; see :func:`pipeline.score.onnx_export.quantize_static_onnx`)."""

    name = "onnx-int8-static"
    batch_tokens = INT8_BATCH_TOKENS
    batch_invariant = True

    @staticmethod
    def model_path(model_dir: Path, input_names: list[str]) -> Path:
        """The cached static int8 graph this backend runs, calibrated first when missing or stale."""
        from pipeline.score.onnx_export import onnx_int8_static_path

        return onnx_int8_static_path(model_dir, input_names)


BACKENDS = {
    "torch": TorchBackend,
    "bf16": Bf16Backend,
    "int8": Int8Backend,
    "onnx": OnnxBackend,
    "onnx-int8": OnnxInt8Backend,
    "onnx-int8-static": OnnxInt8StaticBackend,
}
AUTO = "auto"  # not a class: resolve_backend picks one of BACKENDS for this machine


# what the backends feed, in this order (onnx_export.FORWARD_INPUTS, the export's positional order, is the same;
# not imported from there because that module loads torch)
FORWARD_INPUTS = ("input_ids", "attention_mask", "token_type_ids")


def forward_input_names(tokenizer) -> list[str]:
    """The inputs a backend feeds the model: those of ``FORWARD_INPUTS`` that ``tokenizer`` produces."""
    return [k for k in FORWARD_INPUTS if k in tokenizer.model_input_names]


def model_input_names(model_dir: str | Path) -> list[str]:
    """:func:`forward_input_names` of a model folder's tokenizer (loads the tokenizer only)."""
    from transformers import AutoTokenizer

    return forward_input_names(AutoTokenizer.from_pretrained(str(model_dir)))


def get_backend(name: str, model_dir: Path, input_names: list[str]):
    """Instantiate the backend called ``name`` (``auto``: the one :func:`resolve_backend` picks).

    Raises:
        ModelError: ``name`` is neither ``auto`` nor one of ``BACKENDS``, or the backend cannot load the model.
    """
    check_backend(name)
    name = resolve_backend(name, model_dir, input_names)[0]
    return BACKENDS[name](Path(model_dir), input_names)


def check_backend(name: str) -> None:
    """Fail fast on an unknown backend name, or on an onnx backend without the ``[onnx]`` extra; loads nothing.

    Raises:
        ModelError: one line, with a did-you-mean hint when the name is close to a known one.
    """
    if name == AUTO:
        return
    if name not in BACKENDS:
        close = difflib.get_close_matches(name, [*BACKENDS, AUTO], n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise ModelError(
            f"unknown backend {name!r}; {hint}expected one of {', '.join(BACKENDS)} or {AUTO} "
            "(the default: the fastest batch-invariant one here)"
        )
    if issubclass(BACKENDS[name], OnnxBackend):
        require_extra("onnx", f"--backend {name}", error=ModelError)


def resolve_backend(name: str, model_dir: Path, input_names: list[str]) -> tuple[str, str]:
    """The backend that ``name`` runs on this machine, and why: ``name`` itself, or, for ``auto``, the fastest
    batch-invariant one, logged in one line.

    ``auto`` decides from the CPU's flags and, where int8 is in the running,
    from the static int8 graph's check against fp32 (made once, a few seconds
    of calibration, and cached beside the model with its result, so a rerun
    on the same machine picks the same backend):

    1. a GPU: ``torch`` (fp32 on the GPU);
    2. a CPU with AMX: ``bf16``, which ``make bench`` found as fast there as
       int8, and as accurate as fp32;
    3. ``onnx-int8-static`` when the ``[onnx]`` extra is installed and the
       static graph passes its check on held-out inputs (the model's
       validation examples when its dataset is at hand): argmax agreement
       with fp32 no lower than dynamic int8's, less a point, and the same
       outputs when the inputs are batched otherwise
       (:func:`~pipeline.score.onnx_export.static_verdict`).
       Without AMX the int8 kernels were the fastest path in ``make bench``,
       ahead of ``bf16`` on a CPU with AVX512-BF16 alone;
    4. ``bf16`` on a CPU with AVX512-BF16;
    5. ``onnx`` when the fp32 export can be made (fused attention; faster
       than torch fp32 on the CPU);
    6. ``torch``.

    (docs/scoring-speed-and-memory.md has the measurements.)

    Raises:
        ModelError: ``name`` is neither ``auto`` nor one of ``BACKENDS``.
    """
    check_backend(name)
    if name != AUTO:
        return name, "asked for"
    choice, why = _choose(Path(model_dir), input_names)
    log.info("backend auto: %s (%s)", choice, why)
    return choice, why


def _choose(model_dir: Path, input_names: list[str]) -> tuple[str, str]:
    import torch

    if torch.cuda.is_available():
        return "torch", "a GPU: fp32 on it"
    if _cpu_has_amx():
        return "bf16", "this CPU has AMX: bf16 is as fast as int8 here and as accurate as fp32"
    static_ok, static_why = _static_int8_check(model_dir, input_names)
    if static_ok:
        return "onnx-int8-static", f"no AMX on this CPU; int8 with calibrated activation scales, {static_why}"
    if _cpu_has_bf16():
        return "bf16", f"this CPU has AVX512-BF16 and no AMX; not onnx-int8-static: {static_why}"
    onnx_ok, onnx_why = _onnx_export_ok(model_dir, input_names)
    if onnx_ok:
        return "onnx", f"no native bfloat16 on this CPU; not onnx-int8-static: {static_why}"
    return "torch", f"no native bfloat16 on this CPU and {onnx_why}"


def _static_int8_check(model_dir: Path, input_names: list[str]) -> tuple[bool, str]:
    """Whether the static int8 graph (made and checked first when needed) passed its check against fp32,
    and the figures or the reason, in words."""
    if not _has_onnx_extra():
        return False, "the [onnx] extra is not installed (pip install 'stance-pipeline[onnx]')"
    from pipeline.score.onnx_export import export_info, onnx_int8_static_path

    try:
        check = export_info(onnx_int8_static_path(model_dir, input_names)).get("check", {})
    except Exception as exc:  # noqa: BLE001 - a read-only folder, an export or calibration failure: take another
        log.warning(
            "backend auto: no static int8 graph for %s (%s: %s)",
            model_dir,
            type(exc).__name__,
            first_line(exc),
        )
        return False, f"it could not be made ({type(exc).__name__})"
    figures = f"{check.get('agreement', 0):.1%} of {check.get('inputs', 0)} {check.get('source', '?')}"
    if "macro_f1" in check:
        figures += f", macro-F1 {check['macro_f1']:.3f} vs {check['macro_f1_fp32']:.3f} for fp32"
    if check.get("passed"):
        return True, f"agreeing with fp32 on {figures}"
    return False, f"it failed its check against fp32 on {check.get('source', '?')}: {check.get('why', '?')}"


def _onnx_export_ok(model_dir: Path, input_names: list[str]) -> tuple[bool, str]:
    """Whether the fp32 ONNX export is there or can be made (a read-only model folder cannot take one)."""
    if not _has_onnx_extra():
        return False, "the [onnx] extra is not installed (pip install 'stance-pipeline[onnx]')"
    from pipeline.score.onnx_export import onnx_path

    try:
        onnx_path(model_dir, input_names)
    except Exception as exc:  # noqa: BLE001 - whatever stops the export, torch still runs
        log.warning(
            "backend auto: no ONNX export of %s (%s: %s)",
            model_dir,
            type(exc).__name__,
            first_line(exc),
        )
        return False, f"the ONNX export could not be made ({type(exc).__name__})"
    return True, ""


def _has_onnx_extra() -> bool:
    """The ``[onnx]`` extra is installed (found, not imported: importing onnxruntime costs time)."""
    import importlib.util

    return all(importlib.util.find_spec(m) is not None for m in EXTRAS["onnx"])


def _cpu_has_amx() -> bool:
    """AMX tiles (Intel Sapphire Rapids and later, where AMX-BF16 comes with them)."""
    import torch

    check = getattr(torch.cpu, "_is_amx_tile_supported", None)
    return bool(check and check())
