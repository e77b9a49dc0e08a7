"""Public benchmarks in the commentary input, and the mixture of them with the embedded corpus.

Every source becomes the same target-conditioned input (:func:`pipeline.labels.target_input`): the
passage with the target's mentions marked ``<< >>`` and the speaker's tag in front, the question
"stance/credibility toward the side marked << >>", and the commentary tasks' label slots
(:data:`ROLE_MAPS`). A model trained on one source reads every other one as it reads commentary.

Why each benchmark's labels map as they do (docs/mixture.md has the table):

- stance toward a target (SemEval-2016, P-Stance, multi-target): FAVOR / AGAINST / NONE are the
  commentary stance labels toward the side asked about.
- the author's sentiment toward a person in news (PerSenT paragraphs, NewsMTSC sentences):
  positive / negative / neutral toward the person is what the guidelines call favor / against / none
  toward a side (praise or blame of an actor is stance toward their side).
- claims toward a debate motion (IBM claim stance PRO / CON) and perspectives toward a claim
  (Perspectrum SUPPORT / UNDERMINE): favor / against the motion or claim asked about.
- how a text treats a reported claim (FNC-1 agree / disagree / discuss / unrelated, Emergent for /
  against / observing, CommitmentBank's speaker commitment): the credibility labels toward the claim:
  asserting it is ``credible``, denying it ``not_credible``, reporting it without taking a position (or
  not addressing it) ``none``. CommitmentBank's mean rating on -3..3: >= 1 committed, <= -1 committed to
  its falsity, between: none.
- LIAR is not mapped: its label is a fact-checker's verdict on the statement, not how the text treats
  anyone's account.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections import Counter, defaultdict
from dataclasses import dataclass

from pipeline.errors import DataError
from pipeline.labels import TASK_LABELS, target_input

log = logging.getLogger(__name__)

CORPUS = "corpus"


@dataclass(frozen=True)
class RoleMap:
    """A benchmark's labels as the commentary task's labels."""

    task: str  # stance or credibility
    labels: dict[str, str]  # native label -> role label
    measure: str = "macro_f1"  # over role labels: macro_f1, or semeval_f_avg where the benchmark's is


_SENTIMENT = {"positive": "favor", "negative": "against", "neutral": "none"}
_STANCE = {"favor": "favor", "against": "against", "none": "none"}
ROLE_MAPS: dict[str, RoleMap] = {
    "semeval2016": RoleMap("stance", _STANCE, "semeval_f_avg"),
    "multi-target": RoleMap("stance", _STANCE, "semeval_f_avg"),
    "pstance": RoleMap("stance", _STANCE),
    "newsmtsc": RoleMap("stance", _SENTIMENT),
    "persent": RoleMap("stance", _SENTIMENT),
    "ibm-claim-stance": RoleMap("stance", {"pro": "favor", "con": "against"}),
    "perspectrum": RoleMap("stance", {"support": "favor", "undermine": "against"}),
    "fnc1": RoleMap(
        "credibility", {"agree": "credible", "disagree": "not_credible", "discuss": "none", "unrelated": "none"}
    ),
    "emergent": RoleMap("credibility", {"for": "credible", "against": "not_credible", "observing": "none"}),
    "commitmentbank": RoleMap(
        "credibility", {"committed": "credible", "not_committed": "not_credible", "uncommitted": "none"}
    ),
}


def role_map(name: str, task: str | None = None, labels: list[str] | None = None) -> RoleMap:
    """The role map of a benchmark; a generic benchmark maps its labels as they are when they are the
    commentary labels of its task.

    Raises:
        DataError: the benchmark has no commentary mapping (LIAR), or a generic benchmark's labels are not
            its task's commentary labels.
    """
    if name == "generic":
        task = task or "stance"
        known = TASK_LABELS.get(task) if task in ("stance", "credibility") else None
        if not known or not set(labels or known) <= set(known):
            raise DataError(
                f"build.benchmark: the commentary input needs task stance or credibility with labels from "
                f"{TASK_LABELS['stance']} or {TASK_LABELS['credibility']} (found task {task}, labels {labels}); "
                "relabel the data, or set build.benchmark.shape: native"
            )
        return RoleMap(task, {x: x for x in (labels or known)})
    if name not in ROLE_MAPS:
        raise DataError(
            f"build.benchmark: {name} has no commentary mapping (its labels judge the claim, not how the text "
            f"treats it); set build.benchmark.shape: native, or use one of {', '.join(ROLE_MAPS)}"
        )
    return ROLE_MAPS[name]


def to_commentary(examples: list[dict], rm: RoleMap, with_source: bool = True) -> list[dict]:
    """Benchmark examples (native labels) as commentary inputs with role labels; the native label stays
    in ``native_label``. Examples whose label the map leaves out are dropped."""
    out = []
    for e in examples:
        role = rm.labels.get(e["label"])
        if role is None:
            continue
        text, pair = target_input(rm.task, e["text"], e["target"], "[author]" if with_source else "")
        out.append(e | {"text": text, "text_pair": pair, "task": rm.task, "label": role, "native_label": e["label"]})
    return out


def _norm(text: str) -> str:
    """A passage or target as words alone: no speaker tag, no target markers, no punctuation or case."""
    text = re.sub(r"^\[[a-z ]+\]\s*", "", text).replace("<<", " ").replace(">>", " ")
    return re.sub(r"\W+", " ", text).strip().lower()


def _rank(seed: int, key: str) -> int:
    return int(hashlib.sha256(f"{seed}:{key}".encode()).hexdigest()[:12], 16)


def cross_source_leaks(by_source: dict[str, list[dict]], min_words: int = 5) -> dict[str, int]:
    """Drop (in place) train and validation examples whose passage or target (of five words or more: a
    headline, a claim, a sentence, not a topic name) is a test passage or target of another source
    (Emergent's headlines are FNC-1's headlines, for one). Returns the count dropped per source."""
    held: dict[str, set[str]] = defaultdict(set)
    for name, exs in by_source.items():
        for e in exs:
            if e["split"] == "test":
                for s in (e["text"], e["target"]):
                    k = _norm(s)
                    if len(k.split()) >= min_words:
                        held[k].add(name)
    dropped = {}
    for name, exs in by_source.items():
        keep = []
        for e in exs:
            keys = [_norm(e["text"]), _norm(e["target"])]
            if e["split"] != "test" and any(held.get(k, set()) - {name} for k in keys):
                continue
            keep.append(e)
        dropped[name] = len(exs) - len(keep)
        exs[:] = keep
    return dropped


def _units(examples: list[dict]) -> dict[tuple, list[dict]]:
    """Examples grouped by model input (passage, side): a joint model reads each group once."""
    units: dict[tuple, list[dict]] = defaultdict(list)
    for e in examples:
        units[(e["doc_id"], e["index"], e["target"])].append(e)
    return units


def sample_units(examples: list[dict], n: int, seed: int, key: str) -> list[dict]:
    """``n`` (passage, side) units of ``examples``, seeded: a sample when there are more, every one and
    then repeats (each repeat its own ``doc_id``) when there are fewer."""
    units = _units(examples)
    order = sorted(units, key=lambda u: _rank(seed, f"{key}|{u}"))
    if not order:
        return []
    out = []
    for k in range(n):
        u, rep = order[k % len(order)], k // len(order)
        for e in units[u]:
            out.append(e if rep == 0 else e | {"doc_id": f"{e['doc_id']}#r{rep}", "id": f"{e['id']}#r{rep}"})
    return out


def mix(
    corpus: list[dict],
    benchmarks: dict[str, list[dict]],
    weights: dict[str, float],
    train_size: int,
    max_validation: int,
    max_test: dict[str, int | None],
    seed: int,
) -> tuple[list[dict], dict]:
    """The mixture's examples and its part of the data report.

    Train: ``train_size`` (passage, side) units shared by weight (``weights[source] / sum``), each
    source's drawn as :func:`sample_units` draws them. Validation: the corpus's, and at most
    ``max_validation`` units of each benchmark (model selection sees every source). Test: every test
    unit, or a seeded ``max_test[source]`` of them. Examples carry their ``source``.
    """
    by_source = {CORPUS: [e | {"source": CORPUS, "native_label": e["label"]} for e in corpus]}
    by_source.update({name: [e | {"source": name} for e in exs] for name, exs in benchmarks.items()})
    leaks = cross_source_leaks(by_source)
    total_w = sum(weights.get(n, 0.0) for n in by_source)
    if total_w <= 0:
        raise DataError("build.mixture: every weight is 0; give the sources positive weights")
    out, report = [], {"train_size": train_size, "sources": {}}
    for name, exs in by_source.items():
        w = weights.get(name, 0.0)
        train = [e for e in exs if e["split"] == "train"]
        drawn = sample_units(train, round(train_size * w / total_w), seed, f"{name}:train")
        val = [e for e in exs if e["split"] == "validation"]
        if name != CORPUS and max_validation:
            val = sample_units(val, min(max_validation, len(_units(val))), seed, f"{name}:validation")
        test = [e for e in exs if e["split"] == "test"]
        if max_test.get(name):
            test = sample_units(test, min(max_test[name], len(_units(test))), seed, f"{name}:test")
        out += drawn + val + test + [e for e in exs if e["split"] not in ("train", "validation", "test")]
        n_available, n_drawn = len(_units(train)), len(_units(drawn))
        report["sources"][name] = {
            "weight": w,
            "share": round(w / total_w, 4),
            "train_available": n_available,
            "train_drawn": n_drawn,
            "repeats": max(0, n_drawn - n_available),
            "validation": len(_units(val)),
            "test": len(_units(test)),
            "dropped_as_in_another_source_test": leaks[name],
            "labels": sorted({e["label"] for e in exs}),
            "labels_train": dict(sorted(Counter(e["label"] for e in drawn).items())),
        }
    return out, report


def load_benchmarks(mc, with_source: bool) -> dict[str, tuple[list[dict], RoleMap]]:
    """Each benchmark of ``build.mixture`` read, cleaned and mapped into the commentary input, with the
    ids, indices and fields commentary examples have; beside it, its role map."""
    from pipeline.dataset.benchmarks import load_benchmark

    out = {}
    for b in mc.benchmarks:
        log.info("mixture: reading %s", b.name)
        exs, _notes, spec = load_benchmark(b)
        rm = role_map(b.name, spec.task, spec.labels)
        rows = []
        for i, e in enumerate(to_commentary(exs, rm, with_source)):
            rows.append(
                e
                | {
                    "id": f"{b.name}:{i}",
                    "index": i,
                    "dispute": b.name,
                    "slot": TASK_LABELS[rm.task].index(e["label"]),
                    "confidence": "high",
                    "label_source": "gold",
                }
            )
        out[b.name] = (rows, rm)
    return out
