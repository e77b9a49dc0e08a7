"""``stance build``: commentary + dispute + gold labels -> passage and example datasets.

The pure transforms (:func:`passages_from_articles`, :func:`split_articles`,
:func:`make_examples`) take data and return data; :func:`build` does the IO:
it reads the inputs, writes Hugging Face datasets on disk (split by article),
a manifest with the data hash, the dispute configs, and the data report.
"""

from __future__ import annotations

import glob
import hashlib
import json
import logging
import re
import shutil
from collections import Counter, defaultdict
from pathlib import Path

from pipeline.config import BuildConfig, Config, SourceSpec, to_dict
from pipeline.contracts import (
    DATASET_FORMAT,
    partial_dir,
    publish_dataset,
    write_article_answers,
)
from pipeline.dataset.dedup import near_duplicates
from pipeline.dataset.gold import load_gold
from pipeline.dispute import Dispute, load_dispute
from pipeline.errors import DataError
from pipeline.labels import NEUTRAL, TASK_LABELS, gold_target_labels, model_input
from pipeline.text.cues import apply_weak
from pipeline.text.readers import Article, Reject, read_inputs
from pipeline.text.rows import article_rows

log = logging.getLogger(__name__)

SPLITS = ("train", "validation", "test")


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("’", "'").replace("“", '"').replace("”", '"')).strip().lower()


def passages_from_articles(
    articles: list[Article],
    dispute: Dispute,
    gold: dict[str, dict[int, dict]],
    tagger=None,
    attribution: str = "combined",
) -> tuple[list[dict], dict]:
    """Segment, attribute (:func:`article_rows`, with the attribution model ``tagger`` when given,
    deciding as ``attribution`` says) and join gold labels for one dispute's articles.

    Gold rows are matched to passages by paragraph and text (whitespace and
    quote style ignored), falling back to text alone. A gold row that matches
    no passage (its text was edited, or the article changed) is a warning
    naming its file, line and text, and is listed in the stats.

    Returns:
        ``(rows, stats)``: one dict per passage, and gold-matching counts
        (``gold_rows``, ``gold_matched``, ``gold_unmatched``, ...) with
        ``unmatched``, one ``{where, doc_id, index, paragraph, text}`` per
        gold row that matched no passage.
    """
    rows: list[dict] = []
    stats = Counter()
    unmatched: list[dict] = []
    for art in articles:
        passages = article_rows(art, dispute, tagger=tagger, attribution=attribution)
        doc_gold = gold.get(art.doc_id, {})
        by_key = {(g["paragraph"], _norm(g["text"])): g for g in doc_gold.values()}
        by_text = defaultdict(list)
        for g in doc_gold.values():
            by_text[_norm(g["text"])].append(g)
        used = set()
        for row in passages:
            g = by_key.get((row["paragraph"], _norm(row["text"])))
            if g is not None and g["index"] in used:
                g = None
            if g is None:
                cands = [c for c in by_text.get(_norm(row["text"]), []) if c["index"] not in used]
                g = cands[0] if cands else None
            if g is not None:
                used.add(g["index"])
            row.update(
                {
                    "has_gold": g is not None,
                    "gold_role": g["role"] if g else None,
                    "gold_source": g["source"] if g else None,
                    "gold_source_side": g["source_side"] if g else None,
                    "gold_cue": g["cue"] if g else None,
                    "gold_form": g["form"] if g else None,
                    "gold_stance": g["stance"] if g else None,
                    "gold_credibility_side": (g["credibility"] or {}).get("side") if g else None,
                    "gold_credibility_judgment": (g["credibility"] or {}).get("judgment") if g else None,
                    "gold_confidence": g["confidence"] if g else None,
                }
            )
            rows.append(row)
        for g in sorted(doc_gold.values(), key=lambda g: g["index"]):
            if g["index"] not in used:
                where = g.get("where") or art.doc_id
                unmatched.append(
                    {
                        "where": where,
                        "doc_id": art.doc_id,
                        "index": g["index"],
                        "paragraph": g["paragraph"],
                        "text": g["text"],
                    }
                )
                log.warning(
                    "%s: gold row (doc %s, index %s) matches no passage of %s: %r; "
                    "fix its text or paragraph to the article's",
                    where,
                    art.doc_id,
                    g["index"],
                    art.path or art.doc_id,
                    g["text"][:200],
                )
        if doc_gold:
            stats["gold_rows"] += len(doc_gold)
            stats["gold_matched"] += len(used)
            stats["gold_unmatched"] += len(doc_gold) - len(used)
            stats["passages_with_gold"] += sum(
                1 for r in passages if (r["paragraph"], _norm(r["text"])) in by_key or _norm(r["text"]) in by_text
            )
            stats["passages"] += len(passages)
    return rows, {**stats, "unmatched": unmatched}


def load_tagger(model: str | None, by: str):
    """The attribution model of ``build.attribution`` (None: the rules decide alone)."""
    if model is None or by == "rules":
        return None
    from pipeline.text.tagger import SpanTagger

    log.info("attribution: model %s (%s)", model, by)
    return SpanTagger.from_folder(model)


def attribution_record(model: str | None, by: str) -> dict:
    """Who attributed the passages, for the manifest: ``by`` and the model folder and version."""
    if model is None or by == "rules":
        return {"by": "rules", "model": None, "model_version": None}
    from pipeline.contracts import model_identity

    return {"by": by, "model": str(Path(model).resolve()), "model_version": model_identity(model)[1]}


def check_unmatched_gold(unmatched: list[dict], limit: int, where: str) -> None:
    """Fail when more gold rows than ``build.max_unmatched_gold`` match no passage.

    Raises:
        DataError: naming the count, the limit and the first rows.
    """
    if len(unmatched) <= limit:
        return
    first = "; ".join(f"{u['where']}: {u['text'][:80]!r}" for u in unmatched[:3])
    more = " ..." if len(unmatched) > 3 else ""
    raise DataError(
        f"{where}: {len(unmatched)} gold rows match no passage (build.max_unmatched_gold is {limit}): "
        f"{first}{more}; fix each row's text to the article's, or raise build.max_unmatched_gold"
    )


def split_articles(doc_ids_by_group: dict[str, list[str]], validation: float, test: float, seed: int) -> dict[str, str]:
    """Assign whole articles to train/validation/test, per group (dispute).

    The order within a group comes from a seeded hash of the doc id, so the
    split is stable when articles are added. Groups with fewer than three
    articles go to train.
    """
    out = {}
    for group, docs in sorted(doc_ids_by_group.items()):
        out.update(_assign_ranked(sorted(set(docs), key=_seeded_hash(seed)), validation, test))
    return out


def _seeded_hash(seed: int):
    """The order key the article splits rank doc ids (and groups) by."""
    return lambda d: hashlib.sha256(f"{seed}:{d}".encode()).hexdigest()


def _assign_ranked(ranked: list[str], validation: float, test: float) -> dict[str, str]:
    """The first ``test`` share of ``ranked`` to test, the next ``validation`` share to validation, the rest
    to train (at least one each when there are three or more)."""
    n = len(ranked)
    n_test = max(1, round(test * n)) if n >= 3 and test > 0 else 0
    n_val = max(1, round(validation * n)) if n >= 3 and validation > 0 else 0
    return {d: "test" if i < n_test else "validation" if i < n_test + n_val else "train" for i, d in enumerate(ranked)}


def stratified_split(
    doc_ids_by_group: dict[str, list[str]], stratum_of: dict[str, str], validation: float, test: float, seed: int
) -> dict[str, str]:
    """Assign whole articles to train/validation/test with each stratum (say, neutral reports and
    side-taking articles) in every split in proportion, and the held-out articles spread over the groups.

    Within a stratum, each group's articles are ordered by the seeded hash of the doc id and the groups
    are taken in turn (one article from each, then the next round), so the first ``test`` share of the
    stratum is test, the next ``validation`` share validation: a stratum of 28 articles over 8 disputes
    puts 4 in test, 4 in validation, from 8 different disputes. Strata with fewer than three articles go
    to train.
    """
    h = _seeded_hash(seed)
    by_stratum: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for group, docs in doc_ids_by_group.items():
        for d in set(docs):
            by_stratum[stratum_of.get(d, "")][group].append(d)
    out = {}
    for _, groups in sorted(by_stratum.items()):
        queues = [sorted(docs, key=h) for _, docs in sorted(groups.items(), key=lambda kv: h(kv[0]))]
        ranked = [q[i] for i in range(max(map(len, queues))) for q in queues if i < len(q)]
        out.update(_assign_ranked(ranked, validation, test))
    return out


def make_examples(
    rows: list[dict],
    disputes: dict[str, Dispute],
    tasks: list[str],
    context: bool,
    with_source: bool,
    weak: bool = False,
) -> list[dict]:
    """Target-conditioned examples: one per gold body passage, task and side.

    With ``weak``, body passages without gold that :func:`pipeline.text.cues.apply_weak`
    labelled (``label_source == "weak"``) add examples for the tasks they have a
    weak label for, in the train split only (evaluation stays on gold); gold
    always wins, since a passage with gold never carries weak labels.
    """
    out = []
    for r in rows:
        is_gold = r["role"] == "body" and r["has_gold"] and r["gold_role"] in (None, "body")
        is_weak = (
            weak
            and r["role"] == "body"
            and not r["has_gold"]
            and r.get("label_source") == "weak"
            and r["split"] in ("train", "unlabelled")
        )
        if not (is_gold or is_weak):
            continue
        d = disputes[r["dispute"]]
        if is_gold:
            stance, cred_side, cred_judgment, split, confidence = (
                r["gold_stance"],
                r["gold_credibility_side"],
                r["gold_credibility_judgment"],
                r["split"],
                r["gold_confidence"],
            )
        else:
            stance, cred_side, cred_judgment, split, confidence = (
                r["weak_stance"],
                r["weak_credibility_side"],
                r["weak_credibility_judgment"],
                "train",
                "low",
            )
        cred = {"side": cred_side, "judgment": cred_judgment} if cred_side else None
        for task in tasks:
            if is_weak and (stance if task == "stance" else cred) is None:
                continue  # the functions abstained on this task
            if task == "source_side" and (is_weak or not r.get("gold_source")):
                continue  # weak functions do not label sources; rows without a gold source are skipped
            gold = gold_target_labels(
                task,
                d.side_names,
                stance,
                cred,
                r.get("gold_source") if is_gold else None,
                r.get("gold_source_side") if is_gold else None,
            )
            for side in d.side_names:
                text, pair = model_input(
                    task,
                    d,
                    side,
                    r["text"],
                    r["source"],
                    r["source_side"],
                    r["context"] if context else None,
                    with_source,
                )
                out.append(
                    {
                        "id": f"{r['doc_id']}:{r['index']}:{task}:{side}",
                        "doc_id": r["doc_id"],
                        "dispute": r["dispute"],
                        "index": r["index"],
                        "task": task,
                        "target": side,
                        "text": text,
                        "text_pair": pair,
                        "label": gold[side],
                        "slot": TASK_LABELS[task].index(gold[side]),
                        "confidence": confidence,
                        "split": split,
                        "label_source": "gold" if is_gold else "weak",
                    }
                )
    return out


def data_hash(examples: list[dict]) -> str:
    h = hashlib.sha256()
    for e in sorted(examples, key=lambda e: (e["split"], e["id"])):
        h.update(json.dumps([e["id"], e["text"], e["text_pair"], e["label"], e["split"]], ensure_ascii=False).encode())
    return h.hexdigest()


def read_source(spec: SourceSpec, where: str) -> tuple[Dispute, list[Article], list[Reject], dict, dict]:
    """Load one configured source: its dispute, articles and gold."""
    dispute = load_dispute(spec.dispute)
    articles, rejects = read_inputs(spec.inputs)
    if not articles:
        raise DataError(
            f"{where}: no readable articles in {spec.inputs}; check the paths" + (f" ({rejects[0]})" if rejects else "")
        )
    gold, docs = load_gold(spec.labels, dispute, {a.doc_id for a in articles})
    return dispute, articles, rejects, gold, docs


def build(cfg: Config, config_path: str = "", command: str = "") -> Path:
    """Build the passage and example datasets described by ``cfg.build``.

    Returns:
        The dataset folder (``cfg.build.output``).
    """
    import datasets
    from datasets import Dataset, DatasetDict

    datasets.disable_progress_bars()  # saving takes milliseconds; the bars only clutter the log

    bc: BuildConfig = cfg.build
    if bc.benchmark is not None:
        return build_benchmark(cfg, config_path, command)
    if bc.polnear is not None:
        from pipeline.dataset.attribution import build_attribution

        return build_attribution(cfg, config_path, command)
    if not bc.sources:
        raise DataError(f"{config_path}: build.sources is empty; list at least one {{inputs, dispute, labels}} source")
    out = Path(bc.output)
    all_rows: list[dict] = []
    disputes: dict[str, Dispute] = {}
    rejects: list[Reject] = []
    gold_stats = Counter()
    unmatched: list[dict] = []
    article_answers = {}
    fixed_split: dict[str, str] = {}
    tagger = load_tagger(bc.attribution.model, bc.attribution.by)
    for i, spec in enumerate(bc.sources):
        where = f"{config_path}: build.sources[{i}]"
        if spec.optional and not any(Path(p).exists() or glob.glob(p) for p in spec.inputs):
            log.warning(
                "skipping optional source %s: %s not found (this is expected where ../shared is absent)", i, spec.inputs
            )
            continue
        dispute, articles, rej, gold, docs = read_source(spec, where)
        if dispute.name in disputes and disputes[dispute.name].path != dispute.path:
            raise DataError(f"{where}: two dispute files are named '{dispute.name}'; give each dispute a unique name")
        disputes[dispute.name] = dispute
        rejects.extend(rej)
        rows, stats = passages_from_articles(articles, dispute, gold, tagger, bc.attribution.by)
        unmatched.extend(stats.pop("unmatched"))
        gold_stats.update(stats)
        article_answers.update(docs)
        if spec.split:
            fixed_split.update({a.doc_id: spec.split for a in articles})
        all_rows.extend(rows)
        log.info(
            "read %d articles (%d passages) for dispute %s from %s", len(articles), len(rows), dispute.name, spec.inputs
        )
    check_unmatched_gold(unmatched, bc.max_unmatched_gold, config_path or "build")
    seen = Counter((r["doc_id"]) for r in all_rows if r["index"] == 1)
    dups = [d for d, n in seen.items() if n > 1]
    if dups:
        raise DataError(
            f"{config_path}: doc_id '{dups[0]}' appears in two inputs; give each article a unique file name or doc_id"
        )
    groups = defaultdict(list)
    for r in all_rows:
        if r["doc_id"] not in fixed_split and r["has_gold"]:
            groups[r["dispute"]].append(r["doc_id"])
    if bc.split.stratify:
        strata = {d: "neutral" if a.get("author_favors") == NEUTRAL else "side" for d, a in article_answers.items()}
        split_of = stratified_split(groups, strata, bc.split.validation, bc.split.test, bc.split.seed)
    else:
        split_of = split_articles(groups, bc.split.validation, bc.split.test, bc.split.seed)
    split_of.update(fixed_split)
    for r in all_rows:
        r["split"] = split_of.get(r["doc_id"], "unlabelled")
    weak_summary = apply_weak(
        all_rows, disputes, bc.tasks, bc.weak_supervision
    )  # the table is reported even when unused
    examples = make_examples(
        all_rows, disputes, bc.tasks, bc.context_sentences > 0, bc.with_source, weak=bc.weak_supervision
    )
    if not any(e["split"] == "train" for e in examples):
        raise DataError(
            f"{config_path}: build produced no labelled training passages; "
            "check that build.sources[*].labels points at gold labels for the inputs"
        )
    mixture_report = None
    if bc.mixture is not None:
        examples, mixture_report = build_mixture(bc, examples)
    split_names = sorted(
        {r["split"] for r in all_rows}, key=lambda s: (s not in SPLITS, SPLITS.index(s) if s in SPLITS else 0, s)
    )
    tmp = partial_dir(out)
    DatasetDict({s: Dataset.from_list([r for r in all_rows if r["split"] == s]) for s in split_names}).save_to_disk(
        str(tmp / "passages")
    )
    ex_splits = sorted({e["split"] for e in examples}, key=split_names.index)
    DatasetDict({s: Dataset.from_list([e for e in examples if e["split"] == s]) for s in ex_splits}).save_to_disk(
        str(tmp / "examples")
    )
    (tmp / "disputes").mkdir(parents=True)
    for name, d in disputes.items():
        shutil.copyfile(d.path, tmp / "disputes" / f"{name}.yaml")
    write_article_answers(tmp, article_answers)
    from pipeline.dataset.report import data_report, render_markdown

    dhash = data_hash(examples)
    report = data_report(
        all_rows, examples, rejects, {**gold_stats, "unmatched": unmatched}, near_duplicates(all_rows), weak_summary
    )
    if mixture_report is not None:
        report["mixture"] = mixture_report
    manifest = {
        "format_version": DATASET_FORMAT,
        "tasks": bc.tasks,
        "task_labels": {t: TASK_LABELS[t] for t in bc.tasks},
        "disputes": {n: f"disputes/{n}.yaml" for n in disputes},
        "splits": {s: sum(1 for e in examples if e["split"] == s) for s in ex_splits},
        "data_hash": dhash,
        "context_sentences": bc.context_sentences,
        "with_source": bc.with_source,
        "attribution": attribution_record(bc.attribution.model, bc.attribution.by),
        "weak_supervision": bc.weak_supervision,
        "config": to_dict(cfg),
        "config_path": config_path,
        "command": command,
        "inputs": sorted({(r["file"], r["file_hash"]) for r in all_rows}),
    }
    if mixture_report is not None:
        manifest["mixture"] = {n: mixture_source_record(n, v) for n, v in mixture_report["sources"].items()}
    publish_dataset(tmp, out, manifest, report, render_markdown(report, manifest))
    log.info("dataset written to %s (%s examples; data hash %s)", out, manifest["splits"], dhash[:12])
    return out


def build_mixture(bc, corpus_examples: list[dict]) -> tuple[list[dict], dict]:
    """The corpus's examples joined by the public benchmarks of ``build.mixture``, all in the commentary
    input (:mod:`pipeline.dataset.mixture`)."""
    from pipeline.dataset.mixture import CORPUS, RoleMap, load_benchmarks, mix

    mc = bc.mixture
    benchmarks = load_benchmarks(mc, bc.with_source)
    weights = {CORPUS: mc.corpus_weight} | {b.name: b.weight for b in mc.benchmarks}
    examples, report = mix(
        corpus_examples,
        {n: rows for n, (rows, _) in benchmarks.items()},
        weights,
        mc.train_size,
        mc.max_validation,
        {b.name: b.max_test for b in mc.benchmarks},
        mc.seed,
    )
    maps = {n: rm for n, (_, rm) in benchmarks.items()} | {CORPUS: None}
    for name, v in report["sources"].items():
        rm: RoleMap | None = maps[name]
        v.update(task=rm.task if rm else None, measure=rm.measure if rm else None)
        log.info(
            "mixture: %-16s weight %.2f: %d train units (of %d), %d validation, %d test",
            name,
            v["weight"],
            v["train_drawn"],
            v["train_available"],
            v["validation"],
            v["test"],
        )
    return examples, report


def mixture_source_record(name: str, v: dict) -> dict:
    """A mixture source in the manifest: its task and measure over role labels, and its counts."""
    from pipeline.dataset.mixture import CORPUS

    return {
        "task": v["task"],
        "labels": v["labels"],
        "measure": v["measure"],
        "weight": v["weight"],
        "train": v["train_drawn"],
        "validation": v["validation"],
        "test": v["test"],
        "corpus": name == CORPUS,
    }


def build_benchmark(cfg: Config, config_path: str = "", command: str = "") -> Path:
    """Build a public benchmark (``build.benchmark``) into the same example
    schema and folder layout as commentary (no passages or disputes: a
    benchmark is scored example by example)."""
    from datasets import Dataset, DatasetDict

    from pipeline.dataset.benchmarks import (
        load_benchmark,
        near_duplicates_across_splits,
    )
    from pipeline.dataset.report import benchmark_markdown

    bc = cfg.build
    opts = bc.benchmark
    examples, notes, spec = load_benchmark(opts)
    shape = opts.shape or ("commentary" if opts.name == "generic" else "native")
    if shape == "commentary":  # the commentary input and its task's labels (pipeline.dataset.mixture)
        from pipeline.dataset.mixture import role_map, to_commentary

        rm = role_map(opts.name, spec.task, spec.labels)
        examples = to_commentary(examples, rm)
        spec = type(spec)(rm.task, list(TASK_LABELS[rm.task]), rm.measure, spec.folder, spec.question)
        notes["shape"] = f"commentary input; labels as {rm.task}: " + ", ".join(
            f"{a} -> {b}" for a, b in rm.labels.items()
        )
    for i, e in enumerate(examples):
        e.update(
            id=f"{e['doc_id']}:{i}",
            index=i,
            dispute=opts.name,
            slot=spec.labels.index(e["label"]),
            confidence="high",
            label_source="gold",
        )
    out = Path(bc.output)
    tmp = partial_dir(out)
    splits = [s for s in SPLITS if any(e["split"] == s for e in examples)]
    DatasetDict({s: Dataset.from_list([e for e in examples if e["split"] == s]) for s in splits}).save_to_disk(
        str(tmp / "examples")
    )
    dhash = data_hash(examples)
    counts = {s: dict(sorted(Counter(e["label"] for e in examples if e["split"] == s).items())) for s in splits}
    by_target = {
        s: dict(sorted(Counter(e["target"] for e in examples if e["split"] == s).most_common(30))) for s in splits
    }
    report = {
        "benchmark": opts.name,
        "task": spec.task,
        "labels": spec.labels,
        "official_measure": spec.measure,
        "examples": {s: sum(counts[s].values()) for s in splits},
        "labels_per_split": counts,
        "targets_per_split": by_target,
        "documents_per_split": {s: len({e["doc_id"] for e in examples if e["split"] == s}) for s in splits},
        "notes": notes,
        "near_duplicates_across_splits": near_duplicates_across_splits(examples),
    }
    manifest = {
        "format_version": DATASET_FORMAT,
        "kind": "benchmark",
        "benchmark": opts.name,
        "official_measure": spec.measure,
        "tasks": [spec.task],
        "task_labels": {spec.task: spec.labels},
        "disputes": {},
        "splits": {s: report["examples"][s] for s in splits},
        "data_hash": dhash,
        "context_sentences": 0,
        "with_source": shape == "commentary",
        "shape": shape,
        "label_set": sorted({e["label"] for e in examples}) if shape == "commentary" else spec.labels,
        "weak_supervision": False,
        "config": to_dict(cfg),
        "config_path": config_path,
        "command": command,
        "inputs": [notes["source"]],
    }
    publish_dataset(tmp, out, manifest, report, benchmark_markdown(report, manifest))
    log.info("benchmark %s written to %s (%s examples; data hash %s)", opts.name, out, manifest["splits"], dhash[:12])
    return out
