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
- ``emergent``: no split in the file, so one by claim (``claimId``), never by
  row (about 8.6 headlines per claim): a seeded 20% of claims test, validation
  carved from the rest by claim; headlines only. FNC-1 was built from the same
  claims: never train on one and test on the other.
- ``commitmentbank``: the items file (unnamed index column and a duplicated
  ``Embedding`` column, neither read); the passage is Context + Target, the
  target the Prompt, the label the mean rating (``Mean`` >= 1 committed, <= -1
  not committed, else uncommitted); ``SD`` and the raw ``Reponses`` are not
  inputs. No official split: a seeded 20% of items test, validation carved by item.
- ``ibm-claim-stance``: the file's train/test split (disjoint topics: cross-topic
  by design), validation carved from train by topic; the corrected claim text;
  the sentiment/target-relation annotations, whose product is the stance, are
  not inputs.
- ``perspectrum``: claim-perspective clusters expanded into one pair per
  perspective id (texts from the perspective pool); the official claim split
  (train/dev/test); ``stance_label_3`` SUPPORT/UNDERMINE.
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
    "emergent": Spec(
        "claim_stance", ["for", "against", "observing"], "macro_f1", "emergent", "stance toward the claim"
    ),
    "commitmentbank": Spec(
        "commitment",
        ["uncommitted", "committed", "not_committed"],
        "macro_f1",
        "commitmentbank",
        "speaker commitment to",
    ),
    "ibm-claim-stance": Spec(
        "topic_stance", ["pro", "con"], "macro_f1", "ibm-claim-stance", "stance toward the motion"
    ),
    "perspectrum": Spec(
        "perspective_stance", ["support", "undermine"], "macro_f1", "perspectrum", "stance toward the claim"
    ),
    "generic": Spec("stance", [], "macro_f1", "", "stance toward"),
}
# how clean_splits groups a validation split it carves from train (by doc_id), for the data report
CARVED_BY = {"generic": "doc_id", "emergent": "claim", "commitmentbank": "item", "ibm-claim-stance": "topic"}


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


def _columns(path: Path, rows: list[dict], needed: tuple[str, ...], what: str) -> None:
    """One error naming the first missing column, before a reader indexes the rows."""
    if not rows:
        raise DataError(f"{path}: no records; is this the {what} file from its SOURCE.md?")
    missing = [c for c in needed if c not in rows[0]]
    if missing:
        raise DataError(
            f"{path}: missing column '{missing[0]}' (has {', '.join(k for k in rows[0] if k)}); "
            f"is this the {what} file from its SOURCE.md?"
        )


def _test_by_hash(doc_id: str, seed: int, fraction: float = 0.2) -> bool:
    """A seeded test sample of ``doc_id`` groups for a benchmark without a split. The key differs from the one
    clean_splits carves validation with (``doc_id`` itself): with the same key, seed and a smaller fraction, every
    group it picked for validation would already be in test, and validation would be empty."""
    return _hash_split(f"test|{doc_id}", seed, fraction)


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
    if opts.hub:  # the hub's copy (per_sent) has a train split the ../shared snapshot lacks
        tables = hub_rows(opts, {"train": "train", "validation": "validation", "test": "test_random"})
        sources = [(split, f"{opts.hub}[{split}]", list(enumerate(rows, 1))) for split, rows in tables.items()]
    else:
        sources = [
            (split, str(root / name), list(enumerate(_csv_rows(_need(root / name, "PerSenT file")), 2)))
            for split, name in PERSENT_FILES
        ]
    for split, path, records in sources:
        for line_no, r in records:
            entity, doc = (r.get("TARGET_ENTITY") or "").strip(), r.get("DOCUMENT_INDEX")
            if not entity or doc in (None, ""):
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
    if opts.hub:
        return out, {"variant": variant, "hub": opts.hub, "splits": opts.hub_splits or "train, validation, test_random"}
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


def read_emergent(root: Path, opts, spec: Spec) -> tuple[list[dict], dict]:
    """Emergent (Ferreira & Vlachos 2016): does a news headline assert (``for``), deny (``against``) or merely
    report (``observing``) a rumoured claim. The file has no split; the paper's was by claim, so a seeded 20% of
    claims is the test set and clean_splits carves validation from the other claims (``doc_id`` is the claim)."""
    path = _need(root / "url-versions-2015-06-14-clean.csv", "Emergent file")
    rows = _csv_rows(path)
    _columns(path, rows, ("claimId", "claimHeadline", "articleHeadline", "articleHeadlineStance"), "Emergent")
    out = []
    for rec, r in enumerate(rows, 2):
        claim, label = r["claimId"].strip(), r["articleHeadlineStance"].strip().lower()
        if not claim:
            raise DataError(f"{path}: record {rec}: no claimId; every headline needs its claim (split by claim)")
        if label not in spec.labels:
            raise DataError(f"{path}: record {rec}: label '{label}' is not one of {', '.join(spec.labels)}")
        doc = f"emergent:{claim}"
        split = "test" if _test_by_hash(doc, opts.seed) else "train"
        out.append(_ex(split, doc, r["claimHeadline"].strip(), r["articleHeadline"].strip(), label, spec))
    return out, {
        "split": "by claim (claimId), never by row: a seeded 20% of claims test, validation carved by claim",
        "leakage": "FNC-1 was built from the same Emergent claims: do not train on one and test on the other",
        "text": "article headlines only (no bodies)",
    }


def _commitment(mean: float) -> str:
    return "committed" if mean >= 1 else "not_committed" if mean <= -1 else "uncommitted"


def read_commitmentbank(root: Path, opts, spec: Spec) -> tuple[list[dict], dict]:
    """CommitmentBank (de Marneffe et al. 2019): how committed the speaker is to the Prompt (the embedded clause
    of the Target sentence), from the mean of the -3..3 ratings: >= 1 committed, <= -1 not committed, else
    uncommitted. The passage is the Context (up to two sentences or turns, may be empty) and the Target. No
    official split: a seeded 20% of items is the test set, and clean_splits carves validation by item."""
    path = _need(root / "CommitmentBank-items.csv", "CommitmentBank items file")
    rows = _csv_rows(path)  # an unnamed index column and ``Embedding`` twice (DictReader keeps the last): unread
    _columns(path, rows, ("uID", "Context", "Target", "Prompt", "Mean"), "CommitmentBank items")
    out = []
    for rec, r in enumerate(rows, 2):
        uid = (r["uID"] or "").strip()
        if not uid:
            raise DataError(f"{path}: record {rec}: empty uID; every item needs its uID (the split is by item)")
        try:
            mean = float(r["Mean"])
        except (TypeError, ValueError):
            mean = float("nan")
        if mean != mean:  # not a number, or NaN
            raise DataError(
                f"{path}: record {rec} (uID '{uid}'): Mean '{r['Mean']}' is not a number; "
                "give the item's mean rating (-3..3) or remove the item"
            )
        text = f"{(r['Context'] or '').strip()} {(r['Target'] or '').strip()}".strip()
        doc = f"cb:{uid}"
        split = "test" if _test_by_hash(doc, opts.seed) else "train"
        out.append(_ex(split, doc, (r["Prompt"] or "").strip(), text, _commitment(mean), spec))
    return out, {
        "label_rule": "Mean >= 1 committed, <= -1 not_committed, else uncommitted (ratings -3..3)",
        "text": "Context + Target; the Prompt is the target",
        "excluded_columns": ["SD", "Reponses", "mean.noTarget", "sd.noTarget"],
        "split": "no official split: a seeded 20% of items test, validation carved by item",
    }


IBM_LEAKING = ["topicSentiment", "claims.claimSentiment", "claims.targetsRelation", "claims.claimTarget.text"]


def read_ibm_claim_stance(root: Path, opts, spec: Spec) -> tuple[list[dict], dict]:
    """IBM Debater Claim Stance (Bar-Haim et al. 2017): is a Wikipedia claim PRO or CON the debate motion. The
    file's split is by topic (25 train, 30 test, disjoint); clean_splits carves validation from the training
    topics (``doc_id`` is the topic), so no topic is in two splits."""
    path = _need(root / "claim_stance_dataset_v1.csv", "IBM claim stance file")
    rows = _csv_rows(path)
    _columns(path, rows, ("topicId", "split", "topicText", "claims.stance", "claims.claimCorrectedText"), "IBM")
    out = []
    for rec, r in enumerate(rows, 2):
        split, label = r["split"].strip().lower(), r["claims.stance"].strip().lower()
        if split not in ("train", "test"):
            raise DataError(f"{path}: record {rec}: split '{r['split']}' is not train or test; use the v1 file")
        if label not in spec.labels:
            raise DataError(f"{path}: record {rec}: stance '{r['claims.stance']}' is not PRO or CON")
        out.append(
            _ex(
                split,
                f"ibm:{r['topicId'].strip()}",
                r["topicText"].strip(),
                r["claims.claimCorrectedText"].strip(),
                label,
                spec,
            )
        )
    return out, {
        "split": "the file's train/test (disjoint topics); validation carved from train by topic",
        "text": "claims.claimCorrectedText",
        "excluded_columns": IBM_LEAKING,
        "why": "topic sentiment x claim sentiment x target relation gives the stance",
    }


def _json(path: Path):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise DataError(f"{path}: line {exc.lineno}: not valid JSON ({exc.msg}); use the file as released") from None


def read_perspectrum(root: Path, opts, spec: Spec) -> tuple[list[dict], dict]:
    """PERSPECTRUM (Chen et al. 2019): does a perspective SUPPORT or UNDERMINE a claim. Each claim's perspective
    clusters are expanded into one (perspective, claim) pair per perspective id, with the cluster's
    ``stance_label_3``; the official claim split (train / dev / test) is kept, ``doc_id`` being the claim."""
    claims_path = _need(root / "perspectrum_with_answers_v1.0.json", "PERSPECTRUM claims file")
    pool_path = _need(root / "perspective_pool_v1.0.json", "PERSPECTRUM perspective pool")
    split_path = _need(root / "dataset_split_v1.0.json", "PERSPECTRUM split file")
    pool = {p["pId"]: p["text"] for p in _json(pool_path)}
    split_of = {"train": "train", "dev": "validation", "test": "test"}
    splits = _json(split_path)
    out, splits_of_text, claims_of_text = [], {}, {}
    for c in _json(claims_path):
        split = split_of.get(splits.get(str(c["cId"]), ""))
        if split is None:
            raise DataError(f"{split_path}: claim {c['cId']} has no train, dev or test split; use the v1.0 files")
        claims_of_text.setdefault(_norm(c["text"]), {})[c["cId"]] = split
        for cluster in c["perspectives"]:
            label = cluster["stance_label_3"].strip().lower()
            if label not in spec.labels:
                raise DataError(
                    f"{claims_path}: claim {c['cId']}: stance_label_3 '{label}' is not SUPPORT or UNDERMINE"
                )
            for pid in cluster["pids"]:
                if pid not in pool:
                    raise DataError(f"{claims_path}: claim {c['cId']}: perspective {pid} is not in {pool_path.name}")
                text = pool[pid].strip()
                splits_of_text.setdefault(_norm(text), set()).add(split)
                out.append(_ex(split, f"perspectrum:{c['cId']}", c["text"].strip(), text, label, spec))
    shared = sum(1 for e in out if e["split"] == "test" and "train" in splits_of_text[_norm(e["text"])])
    return out, {
        "pairs": "one per perspective id of each cluster (clusters expanded)",
        "split": "the official claim split: train / dev (validation) / test",
        "test_pairs_whose_perspective_text_is_also_a_training_perspective": shared,
        "why_kept": "the official split is by claim; the same perspective recurs under other claims",
        "claims_with_one_text_in_two_splits": [
            ", ".join(f"{cid} ({split})" for cid, split in v.items())
            for v in claims_of_text.values()
            if len(set(v.values())) > 1
        ],
    }


def hub_rows(opts, default_splits: dict[str, str]) -> dict[str, list[dict]]:
    """The rows of a Hugging Face hub dataset (``build.benchmark.hub``, with ``hub_config``) by our split
    name; ``hub_splits`` (or ``default_splits``) names the hub split behind each of ours. A local folder
    of train/validation/test CSV or JSON files works too (``datasets.load_dataset`` reads both).

    Raises:
        DataError: the dataset cannot be loaded (name, network) or lacks a split.
    """
    from datasets import load_dataset

    try:
        ds = load_dataset(opts.hub, opts.hub_config)
    except Exception as exc:  # the hub client raises many kinds; the user needs the one line
        raise DataError(
            f"build.benchmark.hub: cannot load '{opts.hub}' ({type(exc).__name__}: {str(exc)[:160]}); "
            "check the name and the connection, or download it and set build.benchmark.path (or files)"
        ) from None
    out = {}
    for ours, theirs in (opts.hub_splits or default_splits).items():
        if ours not in SPLITS:
            raise DataError(f"build.benchmark.hub_splits.{ours}: unknown split; use train, validation or test")
        if theirs not in ds:
            raise DataError(
                f"build.benchmark.hub_splits.{ours}: '{theirs}' is not a split of {opts.hub} "
                f"(it has {', '.join(ds)}); name one of those"
            )
        out[ours] = _named_labels(ds[theirs])
    return out


def _named_labels(table) -> list[dict]:
    """A hub split's rows with each ClassLabel column's ids as their names (-1, no label, as None)."""
    from datasets import ClassLabel

    named = {c: f for c, f in table.features.items() if isinstance(f, ClassLabel)}
    rows = table.to_list()
    for r in rows:
        for c, f in named.items():
            v = r.get(c)
            if isinstance(v, int):
                r[c] = f.int2str(v) if v >= 0 else None
    return rows


def _generic_hub(opts, spec: Spec) -> list[tuple[str, str, int, dict]]:
    """(split, where, row number, record with text/target/label/doc_id) of a generic hub dataset, its
    columns renamed by ``build.benchmark.columns`` ({text: tweet, label: stance, ...})."""
    cols = {"text": "text", "target": "target", "label": "label", "doc_id": "doc_id"} | (opts.columns or {})
    out = []
    for split, recs in hub_rows(opts, {s: s for s in SPLITS}).items():
        for i, r in enumerate(recs, 1):
            out.append((split, f"{opts.hub}[{split}]", i, {k: r.get(v) for k, v in cols.items()}))
    return out


def read_generic(root: Path, opts, spec: Spec) -> tuple[list[dict], dict]:
    if opts.hub:
        if opts.hub_splits and not {"train", "test"} <= set(opts.hub_splits):
            raise DataError("build.benchmark.hub_splits: name the hub splits behind train and test")
        out = []
        for split, where, i, r in _generic_hub(opts, spec):
            out.append(_generic_example(split, where, i, r, spec, f"{opts.hub}:{split}"))
        return out, {"hub": opts.hub, "hub_config": opts.hub_config, "columns": opts.columns}
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
            out.append(_generic_example(split, str(path), line_no, r, spec, path.name))
    return out, {"files": opts.files}


def _generic_example(split: str, where: str, line_no: int, r: dict, spec: Spec, doc_prefix: str) -> dict:
    for c in ("text", "target", "label"):
        if not str(r.get(c) or "").strip():
            raise DataError(
                f"{where}: line {line_no}: empty or missing '{c}'; every example needs text, target and label"
            )
    label = str(r["label"]).strip().lower()
    if spec.labels and label not in spec.labels:
        raise DataError(
            f"{where}: line {line_no}: label '{r['label']}' is not one of {', '.join(spec.labels)}; "
            "fix the label or add it to build.benchmark.labels"
        )
    doc = r.get("doc_id") or f"{doc_prefix}:{line_no}"
    return _ex(split, f"generic:{doc}", str(r["target"]).strip(), str(r["text"]).strip(), label, spec)


READERS: dict[str, Callable] = {
    "semeval2016": read_semeval,
    "pstance": read_pstance,
    "fnc1": read_fnc1,
    "liar": read_liar,
    "newsmtsc": read_newsmtsc,
    "multi-target": read_multi_target,
    "persent": read_persent,
    "emergent": read_emergent,
    "commitmentbank": read_commitmentbank,
    "ibm-claim-stance": read_ibm_claim_stance,
    "perspectrum": read_perspectrum,
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
        stats["validation"] = f"{opts.validation:.0%} of train, grouped by {CARVED_BY.get(opts.name, 'tweet')}, seeded"
    if opts.validation_to_train:
        moved = {e["doc_id"] for e in examples if e["split"] == "validation"}
        moved = {d for d in moved if _hash_split(f"to-train|{d}", opts.seed, opts.validation_to_train)}
        for e in examples:
            if e["split"] == "validation" and e["doc_id"] in moved:
                e["split"] = "train"
        share = f"{opts.validation_to_train:.0%}"
        stats["validation_to_train"] = f"{len(moved)} validation documents (about {share}) moved to train"
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
    if opts.name != "generic" and not opts.hub and not root.is_dir():
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
