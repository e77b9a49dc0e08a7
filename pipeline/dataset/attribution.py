"""``stance build`` for the attribution model: PolNeAR articles with their source, cue and content spans.

One row per article (``doc_id``, ``publisher``, ``text``, ``spans``, ``relations``),
split by PolNeAR's own compartments (by time: train = the first ten months,
dev = the eleventh, test = the month before the 2016 election). Tokenizing
into windows happens at training time, so the dataset does not depend on the
model's tokenizer.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections import Counter
from pathlib import Path

from pipeline.config import Config, to_dict
from pipeline.contracts import DATASET_FORMAT, dispute_paths, partial_dir, publish_dataset, read_manifest
from pipeline.dispute import Dispute, load_dispute
from pipeline.errors import DataError
from pipeline.text.attribution import body_document
from pipeline.text.polnear import PolnearDoc, read_polnear
from pipeline.text.spans import ROLES

log = logging.getLogger(__name__)

DEFAULT_PATH = Path("../shared/data/polnear")


def doc_row(d: PolnearDoc) -> dict:
    """One article as a dataset row: its text and every gold span, role by role, and its relations."""
    spans = []
    for r in d.relations:
        for role, span in (("source", r.source), ("cue", r.cue), ("content", r.content)):
            if span:
                spans.append({"role": role, "start": span[0], "end": span[1]})
    spans = [dict(t) for t in sorted({tuple(s.items()) for s in spans}, key=lambda t: (t[1][1], t[2][1]))]
    relations = [
        {
            "cue": list(r.cue),
            "source": list(r.source) if r.source else None,
            "content": list(r.content) if r.content else None,
        }
        for r in d.relations
    ]
    return {
        "doc_id": d.doc_id,
        "publisher": d.publisher,
        "annotator": d.annotator,
        "text": d.text,
        "spans": spans,
        "relations": relations,
    }


PRONOUN = re.compile(r"\b(he|she|it|they|we)\b", re.IGNORECASE)
TRIM = " \t\n,.;:—–-"
NOT_TITLE = set(
    "On In At But And After Before When While Then Yesterday Last Earlier Later This That Since Until By For "
    "Monday Tuesday Wednesday Thursday Friday Saturday Sunday January February March April May June July August "
    "September October November December".split()
)


def _find_cue(text: str, cue: str | None) -> tuple[int, int] | None:
    """The gold cue in the passage (its last part for an account's "version ... holds")."""
    if not cue:
        return None
    word = cue.split(" ... ")[-1].strip()
    m = re.search(rf"\b{re.escape(word)}\b", text, re.IGNORECASE) if word else None
    return (m.start(), m.end()) if m else None


def _find_source(text: str, source: str, dispute: Dispute, cue: tuple[int, int] | None) -> tuple[int, int] | None:
    """The gold source's mention in the passage nearest the cue: a name, alias or actor of it (through the
    dispute), its canonical name or last word, else a pronoun."""
    near = lambda spans: min(spans, key=lambda sp: abs(sp[0] - cue[0]) if cue else sp[0]) if spans else None
    spans = [(m[0], m[1]) for m in dispute.find(text) if m[2] == source]
    if not spans:
        for form in (source, source.split()[-1]):
            spans = [(m.start(), m.end()) for m in re.finditer(rf"\b{re.escape(form)}\b", text)]
            if spans:
                break
    if not spans:
        spans = [(m.start(), m.end()) for m in PRONOUN.finditer(text)]
    hit = near(spans)
    if hit:  # a title before the name belongs to the source, as in PolNeAR ("Trade Minister Mirela Daskov")
        title = re.search(r"(?:\b(?:[A-Z][\w’'.-]*|of|the)\s+){1,4}$", text[: hit[0]])
        words = title.group(0).split() if title else []
        while words and (words[0] in NOT_TITLE or not words[0][:1].isupper()):
            words.pop(0)  # "On Monday the council" -> "the council"
        if words:
            start = hit[0] - len(" ".join(words)) - 1
            hit = (start, hit[1]) if text[start : hit[0]].split() == words else hit
    return hit


def _trim(text: str, a: int, b: int) -> tuple[int, int] | None:
    seg = text[a:b]
    a2, b2 = a + len(seg) - len(seg.lstrip(TRIM)), b - len(seg) + len(seg.rstrip(TRIM))
    return (a2, b2) if b2 - a2 >= 3 else None


def commentary_documents(dataset_dir: str | Path, splits: tuple[str, ...] = ("train", "validation")) -> dict:
    """The commentary register for the attribution model: each article of a built commentary dataset
    (``splits`` only: test and seed stay held out) as a document with spans derived from its gold.

    A gold-attributed passage gets its cue (the gold cue found in it), its source (the source's mention
    nearest the cue, else a pronoun) and its content (the passage on the far side of source and cue); a
    passage the gold continues from the one before (no cue of its own) extends that content, as a quote
    running over several sentences does in PolNeAR. Author passages carry no spans.

    Returns:
        ``{split: [rows]}`` in the shape of :func:`doc_row`, publisher ``commentary``.
    """
    from datasets import load_from_disk

    manifest = read_manifest(dataset_dir, "build it first (stance build configs/default.yaml)")
    if manifest.get("kind", "commentary") != "commentary":
        raise DataError(f"{dataset_dir}: build.polnear.commentary must be a commentary dataset folder")
    disputes = {n: load_dispute(p) for n, p in dispute_paths(dataset_dir, manifest).items()}
    passages = load_from_disk(str(Path(dataset_dir) / "passages"))
    out = {}
    for split in splits:
        if split not in passages:
            continue
        by_doc: dict[str, list[dict]] = {}
        for r in passages[split].to_list():
            if r["role"] == "body":
                by_doc.setdefault(r["doc_id"], []).append(r)
        rows = []
        for doc_id, body in sorted(by_doc.items()):
            body.sort(key=lambda r: r["index"])
            doc, offsets = body_document([r["text"] for r in body], [r["paragraph"] for r in body])
            dispute = disputes[body[0]["dispute"]]
            relations: list[dict] = []
            prev = None
            for r, (ps, _) in zip(body, offsets):
                src, text = r["gold_source"], r["text"]
                if not r["has_gold"] or src in (None, "author"):
                    prev = None
                    continue
                cue = _find_cue(text, r["gold_cue"])
                if cue is None:
                    if prev is not None and prev["source_name"] == src:  # the quote or report carries on
                        prev["content"][1] = ps + len(text.rstrip(TRIM))
                    continue
                source = _find_source(text, src, dispute, cue)
                lo = min(cue[0], source[0]) if source else cue[0]
                hi = max(cue[1], source[1]) if source else cue[1]
                before, after = _trim(text, 0, lo), _trim(text, hi, len(text))
                content = max((x for x in (before, after) if x), key=lambda x: x[1] - x[0], default=None)
                shift = lambda x: [ps + x[0], ps + x[1]] if x else None
                prev = {"cue": shift(cue), "source": shift(source), "content": shift(content), "source_name": src}
                relations.append(prev)
            spans = []
            for rel in relations:
                rel.pop("source_name")
                for role in ROLES:
                    if rel[role]:
                        spans.append({"role": role, "start": rel[role][0], "end": rel[role][1]})
            spans = _disjoint(spans)
            rows.append(
                {
                    "doc_id": doc_id,
                    "publisher": "commentary",
                    "annotator": "gold",
                    "text": doc,
                    "spans": spans,
                    "relations": [r for r in relations if r["cue"]],
                }
            )
        out[split] = rows
    return out


def _disjoint(spans: list[dict]) -> list[dict]:
    """Spans sorted, a later span dropped where it overlaps one kept (one role per character, as in PolNeAR)."""
    kept: list[dict] = []
    for sp in sorted(spans, key=lambda x: (x["start"], -x["end"])):
        if all(sp["start"] >= k["end"] or sp["end"] <= k["start"] for k in kept):
            kept.append(sp)
    return kept


def build_attribution(cfg: Config, config_path: str = "", command: str = "") -> Path:
    """Read PolNeAR's three compartments into a dataset folder with its data report."""
    import json

    from datasets import Dataset, DatasetDict

    opts = cfg.build.polnear
    root = Path(opts.path) if opts.path else DEFAULT_PATH
    rows = {split: [doc_row(d) for d in read_polnear(root, comp, opts.limit)] for split, comp in opts.splits.items()}
    if opts.train_fraction < 1:  # a seeded share of PolNeAR's train articles (e.g. beside the commentary register)
        ranked = sorted(rows["train"], key=lambda r: hashlib.sha256(f"{opts.seed}:{r['doc_id']}".encode()).hexdigest())
        rows["train"] = sorted(ranked[: max(1, round(opts.train_fraction * len(ranked)))], key=lambda r: r["doc_id"])
    if opts.commentary:
        for split, extra in commentary_documents(opts.commentary).items():
            rows[split] = rows[split] + extra
            log.info("commentary register: %d %s articles from %s", len(extra), split, opts.commentary)
    out = Path(cfg.build.output)
    tmp = partial_dir(out)
    DatasetDict({s: Dataset.from_list(r) for s, r in rows.items()}).save_to_disk(str(tmp / "documents"))
    digest = hashlib.sha256()
    for s in ("train", "validation", "test"):
        for r in rows[s]:
            digest.update(json.dumps([s, r["doc_id"], r["text"], r["spans"]], sort_keys=True).encode())
    dhash = digest.hexdigest()[:16]
    report = {
        "source": str(root),
        "commentary": opts.commentary,
        "train_fraction": opts.train_fraction,
        "compartments": opts.splits,
        "articles": {s: len(r) for s, r in rows.items()},
        "relations": {s: sum(len(x["relations"]) for x in r) for s, r in rows.items()},
        "spans": {s: dict(Counter(sp["role"] for x in r for sp in x["spans"])) for s, r in rows.items()},
        "without_source": {
            s: sum(1 for x in r for rel in x["relations"] if not rel["source"]) for s, r in rows.items()
        },
        "publishers": {s: dict(sorted(Counter(x["publisher"] for x in r).items())) for s, r in rows.items()},
        "characters": {s: sum(len(x["text"]) for x in r) for s, r in rows.items()},
    }
    manifest = {
        "format_version": DATASET_FORMAT,
        "kind": "attribution",
        "tasks": ["attribution"],
        "task_labels": {},
        "disputes": {},
        "splits": report["articles"],
        "data_hash": dhash,
        "config": to_dict(cfg),
        "config_path": config_path,
        "command": command,
        "inputs": [str(root)],
    }
    publish_dataset(tmp, out, manifest, report, markdown(report, manifest))
    log.info("attribution data written to %s (%s articles; data hash %s)", out, report["articles"], dhash)
    return out


def markdown(report: dict, manifest: dict) -> str:
    """The data report of an attribution build, for a person."""
    lines = [
        "# Data report: attribution (PolNeAR)",
        "",
        f"Source `{report['source']}`; compartments {report['compartments']}; data hash `{manifest['data_hash']}`.",
        "",
        "| split | articles | characters | relations | without a source | source spans | cue spans | content spans |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for s, n in report["articles"].items():
        sp = report["spans"][s]
        lines.append(
            f"| {s} | {n} | {report['characters'][s]:,} | {report['relations'][s]} | {report['without_source'][s]} | "
            f"{sp.get('source', 0)} | {sp.get('cue', 0)} | {sp.get('content', 0)} |"
        )
    lines += ["", "## Articles per publisher", ""]
    for s, pubs in report["publishers"].items():
        lines.append(f"- {s}: " + ", ".join(f"{k} {v}" for k, v in pubs.items()))
    lines += [
        "",
        "PolNeAR's articles are copyrighted US news; the corpus has no license file: research use only.",
    ]
    return "\n".join(lines) + "\n"
