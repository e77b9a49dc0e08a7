"""Public benchmarks into the target-conditioned example schema the trainer reads.

Each reader turns one benchmark folder (as described by its ``SOURCE.md`` in
``../shared/data``) into example dicts::

    {split, doc_id, target, text, text_pair, label, task}

``text`` is the passage (tweet, sentence, claim, article excerpt) and
``text_pair`` names the task and the target, the same (passage, question)
pairing the dispute examples use, so one trainer, one evaluator and one
comparison serve both. ``doc_id`` groups examples that must share a split
(a tweet, an article body, a news article).

What each reader honours from ``SOURCE.md``:

- ``semeval2016``: latin-1 training file, CRLF, bare quotes (``QUOTE_NONE``);
  the organisers' ``#SemST`` tag stripped; trial data merged into train;
  Task A's five targets; the "Opinion towards"/"Sentiment" annotation columns
  are not model inputs. Official measure F_avg = mean F1 of FAVOR and AGAINST.
- ``pstance``: binary as in the paper (``NONE`` dropped unless
  ``include_none``); the official train/val/test files.
- ``fnc1``: bodies joined by Body ID; validation = the UKP body-ID hold-out
  (no body in two splits); the official competition test set. Bodies are cut
  to the sentences most similar to the headline (``max_body_sentences``).
  Official measure: the FNC-1 relative score.
- ``liar``: ``QUOTE_NONE``; the credit-history columns 9-13, which count the
  row's own label, are dropped; speaker, party and venue go into the target.
- ``newsmtsc``: one example per target mention, the mention marked ``<< >>``
  by its character offsets; the repository's dev/test split of the chosen
  devtest file (``rw`` or ``mt``); articles (``allsides_<id>``,
  ``polusa_v1_<id>``) group examples.
- ``multi-target``: bare-CR line endings; two examples per tweet, one per
  target; the file's Train/Dev/Test column; "Hilary" spelled "Hillary".
- ``generic``: CSV or JSONL with ``text``, ``target``, ``label`` and optional
  ``doc_id``, one file per split.

Across all: exact duplicates inside train are dropped, and train examples
whose (text, target) also occur in validation or test are dropped (leakage);
both counts go to the data report.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pipeline.errors import DataError

log = logging.getLogger(__name__)

SPLITS = ("train", "validation", "test")
STANCE3 = ["none", "favor", "against"]


@dataclass(frozen=True)
class Spec:
    """What a benchmark is: its task, label set, official measure and default folder."""

    task: str
    labels: list[str]
    measure: str  # key of the official measure in pipeline.analysis.metrics.official_measure
    folder: str
    question: str  # the text_pair prefix: "<question>: <target>"


SPECS: dict[str, Spec] = {
    "semeval2016": Spec("stance", STANCE3, "semeval_f_avg", "semeval2016-task6", "stance toward"),
    "pstance": Spec("stance", ["favor", "against"], "macro_f1", "pstance", "stance toward"),
    "multi-target": Spec("stance", STANCE3, "semeval_f_avg", "multi-target-stance", "stance toward"),
    "fnc1": Spec(
        "headline_stance",
        ["unrelated", "discuss", "agree", "disagree"],
        "fnc_score",
        "fnc1",
        "stance toward the headline",
    ),
    "liar": Spec(
        "truthfulness",
        ["pants-fire", "false", "barely-true", "half-true", "mostly-true", "true"],
        "accuracy",
        "liar",
        "truthfulness of the claim by",
    ),
    "newsmtsc": Spec(
        "sentiment",
        ["negative", "neutral", "positive"],
        "macro_f1",
        "newsmtsc",
        "sentiment toward the target marked << >>",
    ),
    "persent": Spec(
        "sentiment",
        ["negative", "neutral", "positive"],
        "macro_f1",
        "persent",
        "sentiment toward the target marked << >>",
    ),
    "generic": Spec("stance", [], "macro_f1", "", "stance toward"),
}


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower()


def _hash_split(key: str, seed: int, fraction: float) -> bool:
    """Deterministic membership of ``key`` in a ``fraction``-sized sample."""
    return int(hashlib.sha256(f"{seed}:{key}".encode()).hexdigest()[:8], 16) / 0xFFFFFFFF < fraction


def _need(path: Path, what: str) -> Path:
    if not path.is_file():
        raise DataError(
            f"{path}: {what} not found; point build.benchmark.path at the benchmark's folder (see its SOURCE.md)"
        )
    return path


def _ex(split, doc_id, target, text, label, spec: Spec, text_pair: str | None = None) -> dict:
    return {
        "split": split,
        "doc_id": str(doc_id),
        "target": target,
        "text": text,
        "text_pair": text_pair or f"{spec.question}: {target}",
        "label": label,
        "task": spec.task,
    }


def _csv_rows(path: Path, encoding: str = "utf-8", **kw) -> list[dict]:
    with open(path, newline="", encoding=encoding) as f:
        return list(csv.DictReader(f, **kw))


def read_semeval(root: Path, opts, spec: Spec) -> tuple[list[dict], dict]:
    files = {
        "trialdata-all-annotations.txt": "train",
        "trainingdata-all-annotations.txt": "train",
        "testdata-taskA-all-annotations.txt": "test",
    }
    out, notes = [], {}
    for name, split in files.items():
        for r in _csv_rows(
            _need(root / name, "SemEval file"), encoding="latin-1", delimiter="\t", quoting=csv.QUOTE_NONE
        ):
            text = re.sub(r"\s*#SemST\s*$", "", r["Tweet"]).strip()
            out.append(_ex(split, f"semeval:{split}:{r['ID']}", r["Target"], text, r["Stance"].strip().lower(), spec))
    notes["excluded_columns"] = ["Opinion towards", "Sentiment"]
    notes["stripped"] = "#SemST"
    return out, notes


def read_pstance(root: Path, opts, spec: Spec) -> tuple[list[dict], dict]:
    out, dropped = [], 0
    for split, tag in (("train", "train"), ("validation", "val"), ("test", "test")):
        for who in ("trump", "biden", "bernie"):
            for i, r in enumerate(_csv_rows(_need(root / f"raw_{tag}_{who}.csv", "P-Stance file"))):
                label = r["Stance"].strip().lower()
                if label == "none" and not opts.include_none:
                    dropped += 1
                    continue
                out.append(_ex(split, f"pstance:{tag}:{who}:{i}", r["Target"].strip(), r["Tweet"].strip(), label, spec))
    return out, {"dropped_none": dropped, "binary": not opts.include_none}


def _sentences(text: str) -> list[str]:
    parts = re.split(r"(?<=[.!?])[\"'”’]?\s+(?=[A-Z\"“‘'(])|\n+", text)
    return [p.strip() for p in parts if p and p.strip()]


def read_fnc1(root: Path, opts, spec: Spec) -> tuple[list[dict], dict]:
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer

    bodies = {}
    for name in ("train_bodies.csv", "competition_test_bodies.csv"):
        for r in _csv_rows(_need(root / name, "FNC-1 bodies file")):
            bodies[("test" if "test" in name else "train", r["Body ID"])] = r["articleBody"]
    hold_out = set(_need(root / "hold_out_ids.txt", "FNC-1 hold-out ids").read_text().split())
    pairs = []
    for name, part in (("train_stances.csv", "train"), ("competition_test_stances.csv", "test")):
        for r in _csv_rows(_need(root / name, "FNC-1 stances file")):
            split = "test" if part == "test" else ("validation" if r["Body ID"] in hold_out else "train")
            pairs.append((split, part, r["Body ID"], r["Headline"].strip(), r["Stance"].strip().lower()))
    sents = {k: _sentences(v) or [v] for k, v in bodies.items()}
    vec = TfidfVectorizer(stop_words="english", sublinear_tf=True, min_df=2)
    heads = sorted({p[3] for p in pairs})
    vec.fit([s for v in sents.values() for s in v] + heads)
    # one transform for every sentence and one for every headline; then one product per body with the
    # headlines paired with it (not one per pair: 75k sparse products took most of the build)
    rows_of, pos = {}, 0
    for key, ss in sents.items():
        rows_of[key] = (pos, pos + len(ss))
        pos += len(ss)
    sentence_m = vec.transform([s for ss in sents.values() for s in ss]).tocsr()
    head_m = vec.transform(heads).tocsr()
    head_row = {h: i for i, h in enumerate(heads)}
    pairs_of_body: dict = {}
    for i, (_, part, body_id, headline, _) in enumerate(pairs):
        pairs_of_body.setdefault((part, body_id), []).append(i)
    k = opts.max_body_sentences
    body_of_pair: dict[int, str] = {}
    for key, idx in pairs_of_body.items():
        a, b = rows_of[key]
        cols = sorted({head_row[pairs[i][3]] for i in idx})
        sims = (sentence_m[a:b] @ head_m[cols].T).toarray()
        col_of = {c: j for j, c in enumerate(cols)}
        for i in idx:
            sim = sims[:, col_of[head_row[pairs[i][3]]]]
            keep = sorted(np.argsort(-sim, kind="stable")[:k]) if k > 0 else range(len(sim))
            body_of_pair[i] = " ".join(sents[key][j] for j in keep)
    out = [
        _ex(split, f"fnc1:{part}:{body_id}", headline, body_of_pair[i], label, spec)
        for i, (split, part, body_id, headline, label) in enumerate(pairs)
    ]
    return out, {
        "validation": "UKP body-ID hold-out (hold_out_ids.txt)",
        "body": f"the {k} body sentences most similar to the headline (TF-IDF cosine), in body order"
        if k > 0
        else "whole body",
    }


LIAR_COLUMNS = [
    "id",
    "label",
    "statement",
    "subjects",
    "speaker",
    "job",
    "state",
    "party",
    "barely_true",
    "false",
    "half_true",
    "mostly_true",
    "pants_fire",
    "context",
]


def read_liar(root: Path, opts, spec: Spec) -> tuple[list[dict], dict]:
    out = []
    for split, name in (("train", "train.tsv"), ("validation", "valid.tsv"), ("test", "test.tsv")):
        with open(_need(root / name, "LIAR file"), newline="", encoding="utf-8") as f:
            for line_no, cells in enumerate(csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE), 1):
                if len(cells) < 14:
                    raise DataError(
                        f"{root / name}: line {line_no}: {len(cells)} columns, LIAR has 14; is this the official TSV?"
                    )
                r = dict(zip(LIAR_COLUMNS, cells))
                who = r["speaker"].replace("-", " ") or "unknown speaker"
                meta = ", ".join(x for x in (r["job"], r["party"], r["context"]) if x)
                target = f"{who} ({meta})" if meta else who
                out.append(_ex(split, f"liar:{r['id']}", target, r["statement"].strip(), r["label"].strip(), spec))
    return out, {
        "excluded_columns": LIAR_COLUMNS[8:13],
        "why": "credit-history counts include the row's own label (SOURCE.md)",
    }


def read_newsmtsc(root: Path, opts, spec: Spec) -> tuple[list[dict], dict]:
    variant = opts.variant or "rw"
    if variant not in ("rw", "mt"):
        raise DataError(f"build.benchmark.variant: '{variant}' is not a NewsMTSC test set; use rw or mt")
    files = [
        ("train", root / "train.jsonl"),
        ("validation", root / "repo_dev_test_split" / f"newsmtsc-{variant}" / "dev.jsonl"),
        ("test", root / "repo_dev_test_split" / f"newsmtsc-{variant}" / "test.jsonl"),
    ]
    polarity = {2.0: "negative", 4.0: "neutral", 6.0: "positive"}
    out = []
    for split, path in files:
        for line_no, line in enumerate(_need(path, "NewsMTSC file").read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            rec = json.loads(line)
            sent = rec["sentence_normalized"]
            gid = rec["primary_gid"].split("_")
            article = "_".join(gid[:3] if gid[0] == "polusa" else gid[:2])  # allsides_<id>_... or polusa_v1_<id>_...
            for t in rec["targets"]:
                a, b = t["from"], t["to"]
                marked = f"{sent[:a]}<< {sent[a:b]} >>{sent[b:]}"
                label = polarity.get(float(t["polarity"]))
                if label is None:
                    raise DataError(f"{path}: line {line_no}: polarity {t['polarity']} is not 2.0, 4.0 or 6.0")
                out.append(
                    _ex(
                        split,
                        f"newsmtsc:{article}",
                        t["mention"],
                        marked,
                        label,
                        spec,
                        f"{spec.question}: {t['mention']}",
                    )
                )
    return out, {"variant": variant, "grouped_by": "article (allsides_<id> or polusa_v1_<id>)"}


PERSENT_FILES = (("train", "fixed_test.csv"), ("validation", "dev.csv"), ("test", "random_test.csv"))


def mark_entity(text: str, entity: str) -> str:
    """``text`` with each mention of ``entity`` (its full name, or its last name alone) marked ``<< >>``."""
    names = sorted({entity.strip(), entity.strip().split()[-1]} - {""}, key=len, reverse=True)
    if not names:
        return text
    pattern = re.compile(r"(?<!\w)(" + "|".join(re.escape(n) for n in names) + r")(?!\w)")
    return pattern.sub(lambda m: f"<< {m.group(1)} >>", text)


def read_persent(root: Path, opts, spec: Spec) -> tuple[list[dict], dict]:
    """PerSenT (Bastan et al. 2020): the author's sentiment toward an article's main person, per paragraph
    (``variant: paragraph``, the default; the labels of the first 16 paragraphs) or per document
    (``variant: document``). The snapshot in ``../shared`` has no train file, so its ``fixed_test`` (four
    entities that appear in no other split) is the training split, ``dev`` the validation split and
    ``random_test`` the test split. Mentions of the person (full name or last name) are marked ``<< >>``."""
    variant = opts.variant or "paragraph"
    if variant not in ("paragraph", "document"):
        raise DataError(f"build.benchmark.variant: '{variant}' is not a PerSenT level; use paragraph or document")
    out = []
    for split, name in PERSENT_FILES:
        path = _need(root / name, "PerSenT file")
        for line_no, r in enumerate(_csv_rows(path), 2):
            entity, doc = (r.get("TARGET_ENTITY") or "").strip(), r.get("DOCUMENT_INDEX")
            if not entity or not doc:
                raise DataError(f"{path}: record {line_no}: no TARGET_ENTITY or DOCUMENT_INDEX; is this PerSenT?")
            if variant == "document":
                items = [(r.get("DOCUMENT") or "", r.get("TRUE_SENTIMENT"))]
            else:
                paras = (r.get("DOCUMENT") or "").split("\n")
                items = [(paras[i], r.get(f"Paragraph{i}")) for i in range(min(16, len(paras)))]
            for text, label in items:
                label = (label or "").strip().lower()
                if not label or not text.strip():
                    continue  # a paragraph past the labelled ones, or an empty one
                if label not in spec.labels:
                    raise DataError(f"{path}: record {line_no}: label '{label}' is not one of {', '.join(spec.labels)}")
                marked = mark_entity(text.strip(), entity)
                out.append(
                    _ex(split, f"persent:{split}:{doc}", entity, marked, label, spec, f"{spec.question}: {entity}")
                )
    return out, {
        "variant": variant,
        "splits": {s: f for s, f in PERSENT_FILES},
        "note": "no train.csv in the snapshot: fixed_test (4 held-out entities) trains, dev selects, random_test tests",
    }


def read_multi_target(root: Path, opts, spec: Spec) -> tuple[list[dict], dict]:
    path = _need(root / "multi_target_stance.csv", "multi-target stance file")
    with open(path, newline="", encoding="utf-8", errors="replace") as f:
        rows = list(csv.DictReader(f))
    split_of = {"train": "train", "dev": "validation", "test": "test"}
    fix = lambda t: t.strip().replace("Hilary", "Hillary")
    out = []
    for i, r in enumerate(rows):
        split = split_of.get(r["Test/Train/Dev"].strip().lower())
        if split is None:
            raise DataError(f"{path}: row {i + 2}: split '{r['Test/Train/Dev']}' is not Train, Dev or Test")
        for n in ("1", "2"):
            out.append(
                _ex(split, f"mt:{i}", fix(r[f"Target {n}"]), r["Tweet"].strip(), r[f"Stance {n}"].strip().lower(), spec)
            )
    return out, {"pairs": "two examples per tweet, one per target"}


def read_generic(root: Path, opts, spec: Spec) -> tuple[list[dict], dict]:
    if not opts.files or "train" not in opts.files or "test" not in opts.files:
        raise DataError(
            "build.benchmark.files: a generic benchmark needs {train: FILE, test: FILE} (validation optional)"
        )
    out = []
    for split, name in opts.files.items():
        if split not in SPLITS:
            raise DataError(f"build.benchmark.files.{split}: unknown split; use train, validation or test")
        path = Path(name)
        if not path.is_file():
            raise DataError(f"{path}: build.benchmark.files.{split} not found; fix the path")
        raw = path.read_bytes()
        if not raw.strip():
            raise DataError(f"{path}: empty file; give it a header row and examples")
        if b"\x00" in raw[:4096]:
            raise DataError(f"{path}: binary file, not CSV or JSONL; export the data as UTF-8 text")
        text = raw.decode("utf-8-sig", errors="replace")
        if path.suffix.lower() in (".jsonl", ".json"):
            records = []
            for line_no, line in enumerate(text.splitlines(), 1):
                if not line.strip():
                    continue
                try:
                    rec = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise DataError(
                        f"{path}: line {line_no}: not valid JSON ({exc.msg}); fix or remove the line"
                    ) from None
                if not isinstance(rec, dict):
                    raise DataError(f"{path}: line {line_no}: expected a JSON object with text, target, label")
                records.append((line_no, rec))
        else:
            reader = csv.DictReader(io.StringIO(text, newline=""))
            records = [(i + 2, r) for i, r in enumerate(reader)]
            missing = [c for c in ("text", "target", "label") if c not in (reader.fieldnames or [])]
            if missing:
                raise DataError(
                    f"{path}: missing column '{missing[0]}' (has {', '.join(reader.fieldnames or [])}); "
                    f"add a {missing[0]} column"
                )
        for line_no, r in records:
            for c in ("text", "target", "label"):
                if not str(r.get(c) or "").strip():
                    raise DataError(
                        f"{path}: line {line_no}: empty or missing '{c}'; every example needs text, target and label"
                    )
            label = str(r["label"]).strip().lower()
            if spec.labels and label not in spec.labels:
                raise DataError(
                    f"{path}: line {line_no}: label '{r['label']}' is not one of {', '.join(spec.labels)}; "
                    "fix the label or add it to build.benchmark.labels"
                )
            doc = r.get("doc_id") or f"{path.name}:{line_no}"
            out.append(_ex(split, f"generic:{doc}", str(r["target"]).strip(), str(r["text"]).strip(), label, spec))
    return out, {"files": opts.files}


READERS: dict[str, Callable] = {
    "semeval2016": read_semeval,
    "pstance": read_pstance,
    "fnc1": read_fnc1,
    "liar": read_liar,
    "newsmtsc": read_newsmtsc,
    "multi-target": read_multi_target,
    "persent": read_persent,
    "generic": read_generic,
}


def spec_for(opts) -> Spec:
    """The benchmark's spec; a generic benchmark takes task and labels from the config."""
    if opts.name not in SPECS:
        import difflib

        close = difflib.get_close_matches(opts.name, SPECS, n=1)
        raise DataError(
            f"build.benchmark.name: unknown benchmark '{opts.name}'; "
            f"{'did you mean ' + repr(close[0]) + '?' if close else 'use one of ' + ', '.join(SPECS)}"
        )
    spec = SPECS[opts.name]
    if opts.name == "pstance" and opts.include_none:
        spec = Spec(spec.task, STANCE3, "semeval_f_avg", spec.folder, spec.question)
    if opts.name == "generic":
        spec = Spec(
            opts.task or "stance",
            [x.lower() for x in (opts.labels or [])],
            "macro_f1",
            "",
            f"{opts.task or 'stance'} toward",
        )
    return spec


def clean_splits(examples: list[dict], opts, spec: Spec) -> tuple[list[dict], dict]:
    """Filter targets, carve a validation split when the benchmark has none,
    drop duplicates and train/eval leakage, downsample train labels. Pure."""
    stats: dict = {}
    if opts.targets:
        known = {e["target"] for e in examples}
        unknown = [t for t in opts.targets if t not in known]
        if unknown:
            raise DataError(
                f"build.benchmark.targets: '{unknown[0]}' is not a target of {opts.name} "
                f"(it has {', '.join(sorted(known))})"
            )
        examples = [e for e in examples if e["target"] in opts.targets]
    if not any(e["split"] == "validation" for e in examples):
        for e in examples:
            if e["split"] == "train" and _hash_split(e["doc_id"], opts.seed, opts.validation):
                e["split"] = "validation"
        stats["validation"] = (
            f"{opts.validation:.0%} of train, grouped by {('tweet' if opts.name != 'generic' else 'doc_id')}, seeded"
        )
    labels = spec.labels or sorted({e["label"] for e in examples})
    bad = [e for e in examples if e["label"] not in labels]
    if bad:
        raise DataError(
            f"{opts.name}: label '{bad[0]['label']}' (example {bad[0]['doc_id']}) is not one of {', '.join(labels)}"
        )
    key = lambda e: (_norm(e["text"]), e["target"])
    eval_keys = {key(e) for e in examples if e["split"] != "train"}
    seen, out = set(), []
    dup_train, leak = 0, 0
    for e in examples:
        if e["split"] == "train":
            k = key(e) + (e["label"],)
            if k in seen:
                dup_train += 1
                continue
            seen.add(k)
            if key(e) in eval_keys:
                leak += 1
                continue
        out.append(e)
    stats.update(duplicates_dropped_in_train=dup_train, train_examples_dropped_as_in_eval=leak)
    eval_counts = Counter(key(e) for e in out if e["split"] == "test")
    stats["duplicates_within_test"] = sum(n - 1 for n in eval_counts.values() if n > 1)
    if opts.downsample:
        rng_keep = []
        for e in out:
            frac = opts.downsample.get(e["label"])
            if (
                e["split"] == "train"
                and frac is not None
                and not _hash_split(f"{e['doc_id']}|{e['target']}|{e['text'][:80]}", opts.seed + 1, float(frac))
            ):
                continue
            rng_keep.append(e)
        stats["downsampled_train"] = {k: f"kept {v:.0%}" for k, v in opts.downsample.items()}
        out = rng_keep
    return out, stats | {"labels": labels}


def near_duplicates_across_splits(examples: list[dict], threshold: float = 0.8, max_examples: int = 60000) -> dict:
    """Word-trigram Jaccard >= threshold between texts of different splits
    (frequent trigrams skipped so the index stays small). Returns counts and samples."""
    if len(examples) > max_examples:
        return {"skipped": f"{len(examples)} examples; over the {max_examples} limit of the near-duplicate scan"}
    from pipeline.dataset.dedup import cross_split_pairs

    texts = {}
    for e in examples:
        texts.setdefault((_norm(e["text"]), e["split"]), e)
    items = list(texts.items())
    pairs, samples = 0, []
    for i, j, jac in cross_split_pairs([t for (t, _), _ in items], [s for (_, s), _ in items], threshold, max_df=50):
        pairs += 1
        if len(samples) < 20:
            samples.append(
                {
                    "a_split": items[i][0][1],
                    "b_split": items[j][0][1],
                    "jaccard": round(jac, 3),
                    "text": items[i][1]["text"][:120],
                }
            )
    return {"pairs": pairs, "threshold": threshold, "samples": samples}


def load_benchmark(opts) -> tuple[list[dict], dict, Spec]:
    """Read and clean one benchmark. Returns (examples, notes for the data report, spec)."""
    spec = spec_for(opts)
    root = Path(opts.path or (Path("../shared/data") / spec.folder))
    if opts.name != "generic" and not root.is_dir():
        raise DataError(
            f"{root}: benchmark folder not found; set build.benchmark.path to the folder holding {opts.name} "
            f"(../shared/data/{spec.folder} in this project's CI)"
        )
    raw, notes = READERS[opts.name](root, opts, spec)
    examples, stats = clean_splits(raw, opts, spec)
    if not spec.labels:
        spec = Spec(spec.task, stats["labels"], spec.measure, spec.folder, spec.question)
    for s in ("train", "validation", "test"):
        if not any(e["split"] == s for e in examples):
            raise DataError(
                f"{opts.name}: the {s} split is empty after cleaning; check build.benchmark.targets and .files"
            )
    return examples, notes | stats | {"source": str(root)}, spec
