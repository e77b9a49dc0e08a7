"""``stance build`` for the attribution model: PolNeAR articles with their source, cue and content spans.

One row per article (``doc_id``, ``publisher``, ``text``, ``spans``, ``relations``),
split by PolNeAR's own compartments (by time: train = the first ten months,
dev = the eleventh, test = the month before the 2016 election). Tokenizing
into windows happens at training time, so the dataset does not depend on the
model's tokenizer.
"""

from __future__ import annotations

import logging
from collections import Counter
from pathlib import Path

from pipeline.config import Config, to_dict
from pipeline.contracts import DATASET_FORMAT, partial_dir, publish_dataset
from pipeline.text.polnear import PolnearDoc, read_polnear

log = logging.getLogger(__name__)

DEFAULT_PATH = Path("../shared/data/polnear")
ROLES = ("source", "cue", "content")


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


def build_attribution(cfg: Config, config_path: str = "", command: str = "") -> Path:
    """Read PolNeAR's three compartments into a dataset folder with its data report."""
    import hashlib
    import json

    from datasets import Dataset, DatasetDict

    opts = cfg.build.polnear
    root = Path(opts.path) if opts.path else DEFAULT_PATH
    rows = {split: [doc_row(d) for d in read_polnear(root, comp, opts.limit)] for split, comp in opts.splits.items()}
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
