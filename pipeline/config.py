"""Typed configs, one per stage, loaded from YAML in ``configs/``.

Loading is strict: unknown keys are rejected with a "did you mean" hint, values
are type-checked, and everything is validated before any model loads. Dotted
command-line overrides (``--train.learning_rate 3e-5``) are applied on the raw
dict before validation, so they are checked the same way.
"""

from __future__ import annotations

import dataclasses
import difflib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from pipeline.errors import ConfigError

PACKAGED_MODEL = "packaged:all-MiniLM-L6-v2"


@dataclass
class SourceSpec:
    """One group of commentary read against one dispute.

    Attributes:
        inputs: files, directories or globs (txt, html, jsonl).
        dispute: path to the dispute config (sides, aliases, actors).
        labels: a gold label file or a folder of ``<doc_id>.gold.jsonl`` files.
        split: put every article of this source in this split (e.g. ``seed``,
            an extra held-out evaluation set) instead of the random split.
        optional: skip the source with a warning when its inputs are absent
            (for data read from ``../shared``).
    """

    inputs: list[str]
    dispute: str
    labels: str | None = None
    split: str | None = None
    optional: bool = False


@dataclass
class SplitConfig:
    """Article-grouped split; fractions are of articles, per dispute, or with ``stratify`` per stratum
    (neutral reports / side-taking articles, from the gold article labels) across disputes."""

    validation: float = 0.15
    test: float = 0.15
    seed: int = 13
    stratify: bool = False


@dataclass
class BenchmarkConfig:
    """A public benchmark (or your own CSV/JSONL) instead of commentary sources.

    Attributes:
        name: semeval2016, pstance, fnc1, liar, newsmtsc, multi-target, persent, emergent, commitmentbank,
            ibm-claim-stance, perspectrum or generic.
        path: the benchmark's folder (default ``../shared/data/<folder>``).
        hub: instead of a folder, a Hugging Face hub dataset (``datasets.load_dataset``; a local folder of
            train/validation/test CSV or JSON files works too): generic data, with ``columns`` naming its
            text, target, label and doc_id columns; or PerSenT (``per_sent``, whose hub copy has a train split).
        hub_config: the hub dataset's configuration name, if it has several.
        hub_splits: ``{train: <hub split>, validation: ..., test: ...}`` (default: the same names;
            PerSenT: train, validation, test_random).
        columns: generic hub data: ``{text: <column>, target: ..., label: ..., doc_id: ...}``.
        files: generic only: ``{train: FILE, validation: FILE, test: FILE}``
            (CSV or JSONL with text, target, label and optional doc_id).
        task: generic only: the task name (default stance).
        labels: generic only: the label set, in slot order (default: the
            sorted labels found).
        targets: keep only these targets (e.g. SemEval's five Task A targets).
        include_none: P-Stance: keep NONE (the paper's benchmark drops it).
        variant: NewsMTSC test set, rw (default) or mt.
        validation: fraction of train (grouped by doc) held out for validation
            when the benchmark has no official validation split.
        validation_to_train: fraction of the validation split's documents (grouped by doc, seeded) moved
            to train, for a snapshot without its train file (PerSenT); the rest still selects the model.
        downsample: ``{label: fraction}`` of train examples kept (e.g. FNC-1's
            ``unrelated``); validation and test are never touched.
        max_body_sentences: FNC-1: body sentences kept (most similar to the headline).
        shape: ``commentary``: the commentary input (target marked, the commentary question and its
            stance or credibility labels, :mod:`pipeline.dataset.mixture`), so commentary models read it
            and models trained on it read commentary; ``native``: ``<question>: <target>`` with the
            benchmark's own labels (keeps its official measure, e.g. the FNC-1 score). Default:
            commentary for generic data, native for the named benchmarks.
        seed: for the validation split and downsampling.
    """

    name: str
    path: str | None = None
    files: dict | None = None
    task: str | None = None
    labels: list[str] | None = None
    targets: list[str] | None = None
    include_none: bool = False
    variant: str | None = None
    validation: float = 0.1
    validation_to_train: float = 0.0
    downsample: dict | None = None
    max_body_sentences: int = 4
    hub: str | None = None
    hub_config: str | None = None
    hub_splits: dict | None = None
    columns: dict | None = None
    shape: str | None = None
    seed: int = 13


@dataclass
class MixtureSource(BenchmarkConfig):
    """One public benchmark in a mixture (``build.mixture.benchmarks``): any ``build.benchmark`` key, plus

    Attributes:
        weight: its share of the mixture's train units, relative to the others' and the corpus's weights.
        max_test: score at most this many of its test units (a seeded sample; FNC-1 has 25,000).
    """

    weight: float = 1.0
    max_test: int | None = None


@dataclass
class MixtureConfig:
    """Public benchmarks trained beside the commentary sources, all in the commentary input.

    Attributes:
        benchmarks: the benchmarks, each with its weight.
        corpus_weight: the commentary sources' weight (``build.sources``, split as usual).
        train_size: (passage, side) train units in all, shared by weight; a source with fewer than its
            share is repeated, one with more is sampled (seeded).
        max_validation: validation units per benchmark at most (model selection sees every source).
        seed: for the samples.
    """

    benchmarks: list[MixtureSource] = field(default_factory=list)
    corpus_weight: float = 1.0
    train_size: int = 12000
    max_validation: int = 400
    seed: int = 13


@dataclass
class PolnearConfig:
    """PolNeAR (Newell et al., LREC 2018) for the attribution model: who says what in US political news.

    Attributes:
        path: PolNeAR's data folder, holding ``train/``, ``dev/``, ``test/`` (default
            ``../shared/data/polnear``; users download it from github.com/networkdynamics/PolNeAR).
        splits: which PolNeAR compartment becomes each split.
        limit: read at most this many articles per split (quick runs and tests).
        train_fraction: keep this seeded share of PolNeAR's train articles.
        commentary: a built commentary dataset folder (e.g. ``data/built/default``) whose train and
            validation articles join the data with spans derived from their gold sources and cues
            (the commentary register; its test and seed articles stay held out).
        seed: for ``train_fraction``.
    """

    path: str | None = None
    splits: dict = field(default_factory=lambda: {"train": "train", "validation": "dev", "test": "test"})
    limit: int | None = None
    train_fraction: float = 1.0
    commentary: str | None = None
    seed: int = 13


ATTRIBUTION_BY = ("rules", "model", "combined")
TAGGER_BACKENDS = ("torch", "int8", "onnx", "onnx-int8")  # the scoring backends that fit a token classifier


@dataclass
class AttributionUse:
    """Who says each passage: the attribution rules, or a trained attribution model.

    Attributes:
        model: an attribution model folder (``make attribution``); None: the rules alone.
        by: with a model, ``combined`` (the model, and the rules where it finds no
            speaker), ``model`` (the model alone) or ``rules`` (ignore the model).
    """

    model: str | None = None
    by: str = "combined"


@dataclass
class BuildConfig:
    sources: list[SourceSpec] = field(default_factory=list)
    benchmark: BenchmarkConfig | None = None  # build from a public benchmark instead of sources
    polnear: PolnearConfig | None = None  # build the attribution model's data (PolNeAR) instead of sources
    mixture: MixtureConfig | None = None  # public benchmarks trained beside the sources, in the same input
    attribution: AttributionUse = field(default_factory=lambda: AttributionUse())  # who says each passage
    output: str = "data/built/default"
    tasks: list[str] = field(default_factory=lambda: ["stance", "credibility"])
    context_sentences: int = 1
    with_source: bool = True
    split: SplitConfig = field(default_factory=SplitConfig)
    weak_supervision: bool = False  # body passages without gold get labelling-function labels and train on them
    max_unmatched_gold: int = 0  # gold rows that may match no passage (each is a warning); more fail the build


@dataclass
class TrainConfig:
    model: str = PACKAGED_MODEL
    tiny: dict | None = None
    output_dir: str = "models/default"
    epochs: float = 6.0
    learning_rate: float = 5e-5
    batch_size: int = 16
    eval_batch_size: int = 64
    max_length: int = 160
    window_stride: int = 64  # token classification (attribution): tokens shared by consecutive windows of a document
    weight_decay: float = 0.01
    warmup_ratio: float = 0.1
    seed: int = 13
    class_weights: bool = True
    early_stopping_patience: int = 3
    metric_for_best_model: str = "macro_f1"
    exclude_sources: list[str] = field(default_factory=list)  # a mixture's sources left out (leave-one-out)
    group_by_length: bool = True
    logging_steps: int = 20
    resume: bool = True
    progress: bool = True
    abstain_threshold: float | None = (
        None  # scoring marks passages whose side-favored probability is below it as abstained
    )
    # one input per (passage, side) answering stance and credibility at once, one block of slots per task
    # (pipeline.labels): half the forward passes of asking each task in its own input
    joint: bool = False


@dataclass
class EvaluateConfig:
    output_dir: str | None = None
    split: str = "test"
    batch_size: int = 64
    # attribution models: a built commentary dataset whose gold sources measure who-says-what per passage
    passages_from: str | None = None


SCORE_FORMATS = ("jsonl", "csv", "parquet")
SCORE_ENGINES = ("local", "ray")


@dataclass
class ScoreConfig:
    """``stance score``: the model, dispute and output folder, and how to score.

    The inputs are not part of it: they are what a run scores, given on the
    command line (or to :func:`pipeline.score.run.score`).

    Attributes:
        model: model folder from ``stance train``.
        dispute: dispute config (sides, aliases, actors).
        output: output folder (a rerun with the same inputs resumes in it).
        format: jsonl, csv or parquet (csv and parquet need the ``[parquet]`` extra).
        batch_size: at most this many model inputs per forward pass (int8
            and onnx-int8 also cap a pass at 1,024 padded tokens).
        chunk_articles: articles scored between checkpoints (a rerun resumes after the last one).
        backend: auto (the fastest batch-invariant backend for the machine, logged with
            its reason), torch, bf16, int8, onnx, onnx-int8 or onnx-int8-static (see
            :mod:`pipeline.score.backends`; the onnx ones need the ``[onnx]`` extra).
            int8 and onnx-int8 are not batch-invariant: a passage's label may
            depend on the passages batched with it.
        engine: local (this process) or ray (Ray Data actors hold the model; the ``[ray]`` extra).
        workers: ray: model actors (default: one per CPU of the cluster).
        ray_address: ray: cluster to join (default: ``$RAY_ADDRESS``, else a local Ray).
        source_model: source-side model folder (``make source-model``): re-attributes
            passages where the attribution rules find no source.
        source_threshold: the probability the source-side model needs to re-attribute a
            passage (the default is :data:`pipeline.score.source_model.DEFAULT_THRESHOLD`).
        attribution_model: attribution model folder (``make attribution``): finds who says
            each passage; without it the rules do.
        attribution_by: with an attribution model: combined, model or rules (see
            :class:`AttributionUse`).
        attribution_backend: how the attribution model runs: torch, int8, onnx or onnx-int8
            (the scoring backends; ``make bench`` measures each against torch on PolNeAR).
        progress: show a progress bar.
    """

    model: str | None = None
    dispute: str | None = None
    output: str | None = None
    format: str = "jsonl"
    batch_size: int = 64
    chunk_articles: int = 32
    backend: str = "auto"
    engine: str = "local"
    workers: int | None = None
    ray_address: str | None = None
    source_model: str | None = None
    source_threshold: float = 0.9
    attribution_model: str | None = None
    attribution_by: str = "combined"
    attribution_backend: str = "torch"
    progress: bool = True


@dataclass
class Config:
    run_name: str = "default"
    build: BuildConfig = field(default_factory=BuildConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    evaluate: EvaluateConfig = field(default_factory=EvaluateConfig)
    score: ScoreConfig = field(default_factory=ScoreConfig)


KNOWN_TASKS = ("stance", "credibility", "source_side")


def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", str(tp)).replace("typing.", "")


def _coerce(value: Any, tp: Any, where: str) -> Any:
    """Check ``value`` against the annotation ``tp``; build nested dataclasses."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(tp)
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _coerce(value, arg, where)
            except ConfigError as exc:
                errors.append(exc)
        raise errors[0]
    if dataclasses.is_dataclass(tp):
        if not isinstance(value, dict):
            raise ConfigError(
                f"{where}: expected a mapping of {tp.__name__} fields, found {type(value).__name__} {value!r}"
            )
        return from_dict(tp, value, where)
    if origin is list:
        (item_tp,) = typing.get_args(tp)
        if not isinstance(value, list):
            raise ConfigError(f"{where}: expected a list, found {type(value).__name__} {value!r}; write it as [a, b]")
        return [_coerce(v, item_tp, f"{where}[{i}]") for i, v in enumerate(value)]
    if tp is dict or origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: expected a mapping, found {type(value).__name__} {value!r}")
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise ConfigError(f"{where}: expected a number, found {value!r}")
        try:
            return float(value)
        except ValueError:
            raise ConfigError(f"{where}: expected a number, found {value!r}") from None
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{where}: expected an integer, found {value!r}")
        return value
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: expected true or false, found {value!r}")
        return value
    if tp is str:
        if not isinstance(value, (str, int, float)) or isinstance(value, bool):
            raise ConfigError(f"{where}: expected a string, found {value!r}")
        return str(value)
    return value


def from_dict(cls: type, data: dict, where: str = "") -> Any:
    """Build dataclass ``cls`` from ``data``, rejecting unknown keys.

    Args:
        cls: the config dataclass.
        data: raw mapping (from YAML plus overrides).
        where: "file: dotted.path" prefix for error messages.

    Raises:
        ConfigError: on an unknown key (with a did-you-mean hint) or a bad value.
    """
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    kwargs = {}
    for key, value in data.items():
        loc = f"{where}.{key}" if where and not where.endswith(":") else f"{where} {key}".strip()
        if key not in names:
            close = difflib.get_close_matches(str(key), names, n=1)
            hint = f"did you mean '{close[0]}'?" if close else f"known keys: {', '.join(names)}"
            raise ConfigError(f"{loc}: unknown key; {hint}")
        kwargs[key] = _coerce(value, hints[key], loc)
    for f in dataclasses.fields(cls):
        if f.name not in kwargs and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            loc = f"{where}.{f.name}" if where and not where.endswith(":") else f"{where} {f.name}".strip()
            raise ConfigError(f"{loc}: required key is missing; add it ({_type_name(hints[f.name])})")
    return cls(**kwargs)


def parse_overrides(args: list[str]) -> dict[str, Any]:
    """Parse ``--section.key value`` (or ``--section.key=value``) pairs.

    Values are read as YAML scalars, so ``3e-5``, ``true`` and ``[a, b]`` work.
    """
    out: dict[str, Any] = {}
    i = 0
    while i < len(args):
        arg = args[i]
        if not arg.startswith("--") or "." not in arg:
            raise ConfigError(f"override {arg!r}: expected --section.key VALUE, e.g. --train.learning_rate 3e-5")
        key = arg[2:]
        if "=" in key:
            key, raw = key.split("=", 1)
            i += 1
        else:
            if i + 1 >= len(args):
                raise ConfigError(f"override {arg!r}: missing value; write {arg} VALUE")
            raw = args[i + 1]
            i += 2
        try:
            out[key] = yaml.safe_load(raw)
        except yaml.YAMLError:
            out[key] = raw
    return out


def apply_overrides(data: dict, overrides: dict[str, Any], path: str) -> dict:
    for dotted, value in overrides.items():
        node = data
        parts = dotted.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ConfigError(f"{path}: override --{dotted}: {part} is not a section")
        node[parts[-1]] = value
    return data


def load_yaml(path: str | Path) -> Any:
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"{p}: config file not found; pass an existing file, e.g. configs/default.yaml")
    try:
        return yaml.safe_load(p.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" line {mark.line + 1}" if mark else ""
        raise ConfigError(f"{p}:{line}: not valid YAML ({getattr(exc, 'problem', exc)}); fix the syntax") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{p}: not UTF-8 text; save the config as UTF-8") from None


def load_config(path: str | Path, overrides: dict[str, Any] | None = None) -> Config:
    """Load, override and validate a full pipeline config.

    Raises:
        ConfigError: naming the file and the dotted key at fault.
    """
    data = load_yaml(path)
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping with build/train/evaluate sections, found {type(data).__name__}")
    data = apply_overrides(data, overrides or {}, str(path))
    cfg = from_dict(Config, data, f"{path}:")
    validate(cfg, str(path))
    return cfg


def validate(cfg: Config, path: str) -> None:
    """Semantic checks that need no model: tasks, fractions, files."""
    for task in cfg.build.tasks:
        if task not in KNOWN_TASKS:
            close = difflib.get_close_matches(task, KNOWN_TASKS, n=1)
            hint = f"did you mean '{close[0]}'?" if close else f"use one of {', '.join(KNOWN_TASKS)}"
            raise ConfigError(f"{path}: build.tasks: unknown task '{task}'; {hint}")
    if not cfg.build.tasks:
        raise ConfigError(f"{path}: build.tasks: empty; list at least one of {', '.join(KNOWN_TASKS)}")
    if "source_side" in cfg.build.tasks and len(cfg.build.tasks) > 1:
        raise ConfigError(
            f"{path}: build.tasks: train source_side as its own run (tasks: [source_side]); "
            "its input hides the rule-attributed source that stance and credibility read"
        )
    not_commentary = cfg.build.benchmark is not None or cfg.build.polnear is not None
    if cfg.train.joint and (not_commentary or sorted(cfg.build.tasks) != ["credibility", "stance"]):
        raise ConfigError(
            f"{path}: train.joint: a joint model answers stance and credibility of commentary passages from one "
            "input; set build.tasks to [stance, credibility] with build.sources, or train.joint to false"
        )
    if cfg.build.max_unmatched_gold < 0:
        raise ConfigError(f"{path}: build.max_unmatched_gold: must be 0 or more, found {cfg.build.max_unmatched_gold}")
    s = cfg.build.split
    if not (0 <= s.validation < 1 and 0 <= s.test < 1 and s.validation + s.test < 1):
        raise ConfigError(
            f"{path}: build.split: validation ({s.validation}) and test ({s.test}) must be fractions summing below 1"
        )
    for name in ("epochs", "learning_rate"):
        if getattr(cfg.train, name) <= 0:
            raise ConfigError(f"{path}: train.{name}: must be positive, found {getattr(cfg.train, name)}")
    if cfg.train.abstain_threshold is not None and not 0 < cfg.train.abstain_threshold < 1:
        raise ConfigError(
            f"{path}: train.abstain_threshold: must be a probability between 0 and 1 (or null), "
            f"found {cfg.train.abstain_threshold}"
        )
    for name in ("batch_size", "eval_batch_size", "max_length"):
        if getattr(cfg.train, name) <= 0:
            raise ConfigError(f"{path}: train.{name}: must be a positive integer, found {getattr(cfg.train, name)}")
    if cfg.build.polnear is not None:
        a = cfg.build.polnear
        if cfg.build.sources or cfg.build.benchmark is not None:
            raise ConfigError(f"{path}: build: give one of sources, benchmark or polnear, not several")
        if sorted(a.splits) != ["test", "train", "validation"]:
            raise ConfigError(
                f"{path}: build.polnear.splits: name the PolNeAR compartment of train, validation and test, "
                f"e.g. {{train: train, validation: dev, test: test}}; found {a.splits}"
            )
        if a.limit is not None and a.limit <= 0:
            raise ConfigError(f"{path}: build.polnear.limit: must be a positive number of articles or null")
        if not 0 < a.train_fraction <= 1:
            raise ConfigError(f"{path}: build.polnear.train_fraction: must be in (0, 1], found {a.train_fraction}")
    validate_attribution(cfg.build.attribution, f"{path}: build.attribution")
    if cfg.build.mixture is not None:
        validate_mixture(cfg.build.mixture, cfg.build, f"{path}: build.mixture")
    if cfg.build.benchmark is not None and cfg.build.benchmark.shape not in (None, "commentary", "native"):
        raise ConfigError(
            f"{path}: build.benchmark.shape: '{cfg.build.benchmark.shape}' is not an input shape; "
            "use commentary or native"
        )
    if cfg.build.benchmark is not None:
        b = cfg.build.benchmark
        check_hub(b, f"{path}: build.benchmark")
        if cfg.build.sources:
            raise ConfigError(f"{path}: build: give either sources (commentary) or benchmark, not both")
        if not 0 < b.validation < 1:
            raise ConfigError(
                f"{path}: build.benchmark.validation: must be a fraction between 0 and 1, found {b.validation}"
            )
        if not 0 <= b.validation_to_train < 1:
            raise ConfigError(
                f"{path}: build.benchmark.validation_to_train: must be a fraction in [0, 1) (some validation"
                f" must stay to select the model), found {b.validation_to_train}"
            )
        for label, frac in (b.downsample or {}).items():
            if not isinstance(frac, (int, float)) or not 0 < frac <= 1:
                raise ConfigError(
                    f"{path}: build.benchmark.downsample.{label}: must be a fraction in (0, 1], found {frac!r}"
                )
    for i, src in enumerate(cfg.build.sources):
        if not Path(src.dispute).is_file():
            raise ConfigError(
                f"{path}: build.sources[{i}].dispute: file {src.dispute} not found; "
                "point it at a file in configs/disputes/"
            )
    validate_score(cfg.score, path, complete=False)


HUB_READERS = ("generic", "persent")  # the benchmarks whose rows may come from a hub dataset (build.benchmark.hub)


def check_hub(b: BenchmarkConfig, where: str) -> None:
    """A hub dataset is read for generic data and PerSenT; the other benchmarks from their folder."""
    if b.hub and b.name not in HUB_READERS:
        raise ConfigError(
            f"{where}.hub: {b.name} is read from its folder (path); hub names are read for {' and '.join(HUB_READERS)}"
        )


def validate_mixture(m: MixtureConfig, build: BuildConfig, where: str) -> None:
    """A mixture needs the commentary sources it joins, benchmarks named once, non-negative weights."""
    if not build.sources:
        raise ConfigError(f"{where}: a mixture joins public benchmarks to build.sources; list the sources too")
    names = [b.name for b in m.benchmarks]
    if not names:
        raise ConfigError(f"{where}.benchmarks: empty; list at least one benchmark, e.g. {{name: semeval2016}}")
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ConfigError(f"{where}.benchmarks: '{twice[0]}' is listed twice; list each benchmark once")
    if "corpus" in names:
        raise ConfigError(f"{where}.benchmarks: 'corpus' names the commentary sources; set corpus_weight instead")
    for b in m.benchmarks:
        if b.weight < 0:
            raise ConfigError(f"{where}.benchmarks: {b.name}: weight must be 0 or more, found {b.weight}")
        if b.shape not in (None, "commentary"):
            raise ConfigError(f"{where}.benchmarks: {b.name}: a mixture reads every source in the commentary input")
        check_hub(b, f"{where}.benchmarks: {b.name}")
    if m.corpus_weight < 0 or m.train_size <= 0 or m.max_validation < 0:
        raise ConfigError(f"{where}: corpus_weight and max_validation must be 0 or more, train_size positive")


def validate_attribution(a: AttributionUse, where: str) -> None:
    if a.by not in ATTRIBUTION_BY:
        raise ConfigError(f"{where}.by: '{a.by}' is not one of {', '.join(ATTRIBUTION_BY)}")
    if a.model is not None and not (Path(a.model) / "label_map.json").is_file():
        raise ConfigError(
            f"{where}.model: {a.model} is not a model folder; train one with `make attribution` or set it to null"
        )


SCORE_REQUIRED = {"model": "--model MODEL_DIR", "dispute": "--dispute DISPUTE_YAML", "output": "--output DIR"}


def load_score_config(path: str | Path | None = None, overrides: dict[str, Any] | None = None) -> ScoreConfig:
    """The ``score`` section of a config file (or the defaults), overridden and validated.

    Every section of the file is checked for unknown keys, so one file may
    hold the whole pipeline; only ``score`` is used.

    Args:
        path: a YAML config with a ``score:`` section, or None for the defaults.
        overrides: dotted keys (``{"score.backend": "onnx-int8"}``), applied
            before validation (command-line flags arrive the same way).

    Raises:
        ConfigError: naming the file and the dotted key at fault.
    """
    data = load_yaml(path) if path is not None else {}
    where = str(path) if path is not None else "stance score"
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: expected a mapping with a score section, found {type(data).__name__}")
    data = apply_overrides(data, overrides or {}, where)
    cfg = from_dict(Config, data, f"{path}:" if path is not None else "").score
    validate_score(cfg, where)
    return cfg


def validate_score(cfg: ScoreConfig, path: str = "stance score", complete: bool = True) -> None:
    """Checks that need no model: types, choices, ranges and (``complete``) the required paths.

    The backend name is checked by :func:`pipeline.score.backends.check_backend`,
    which owns the list, before anything loads.

    Raises:
        ConfigError: one line, naming the key (``score.engine``) and how to fix it.
    """
    from_dict(ScoreConfig, dataclasses.asdict(cfg), "score")  # type checks, for a ScoreConfig built in code
    validate_attribution(AttributionUse(cfg.attribution_model, cfg.attribution_by), f"{path}: score.attribution")
    if cfg.attribution_backend not in TAGGER_BACKENDS:
        raise ConfigError(
            f"{path}: score.attribution_backend: '{cfg.attribution_backend}' is not one of {', '.join(TAGGER_BACKENDS)}"
        )
    for key, flag in SCORE_REQUIRED.items():
        if complete and not getattr(cfg, key):
            raise ConfigError(f"{path}: score.{key}: required; pass {flag} or set score.{key} in a --config file")
    for key, choices in (("format", SCORE_FORMATS), ("engine", SCORE_ENGINES)):
        value = getattr(cfg, key)
        if value not in choices:
            close = difflib.get_close_matches(str(value), choices, n=1)
            hint = f"did you mean '{close[0]}'? " if close else ""
            raise ConfigError(
                f"{path}: score.{key}: unknown {key} {value!r}; {hint}expected one of {', '.join(choices)}"
            )
    for key in ("batch_size", "chunk_articles", "workers"):
        value = getattr(cfg, key)
        if value is not None and value <= 0:
            raise ConfigError(f"{path}: score.{key}: must be a positive integer, found {value}")
    if not 0 < cfg.source_threshold <= 1:
        raise ConfigError(
            f"{path}: score.source_threshold: must be a probability in (0, 1], found {cfg.source_threshold}"
        )


def to_dict(cfg: Any) -> dict:
    return dataclasses.asdict(cfg)
